/**
 * The report's per-fax lookup: one CSV per account under `accounts/<AccountSid>.csv` (the same
 * columns as faxes.csv), linked from the report's accounts table, so an auditor asked about one fax
 * opens its account's file and searches for the sid, without a database and without a script in
 * the page. Written in the report's one pass over the catalog: rows are buffered per account and
 * appended in chunks, so no file stays open and memory is bounded by CHUNK per account.
 */
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { FaxRow } from '../catalog/catalog.js';
import { CSV_COLUMNS, csvRecordFor } from '../catalog/csv-export.js';

export const ACCOUNTS_DIR = 'accounts';
const CHUNK = 16 * 1024;

export class AccountCsvFiles {
  private readonly pending = new Map<string, { text: string; started: boolean }>();

  /** `root` is the folder that gets `accounts/` (the report's staging folder); modes as the report's own (0700/0600 unless shared). */
  constructor(
    private readonly root: string,
    private readonly modes: { file: number; dir: number } = { file: 0o600, dir: 0o700 },
  ) {
    mkdirSync(join(root, ACCOUNTS_DIR), { recursive: true, mode: modes.dir });
    chmodSync(join(root, ACCOUNTS_DIR), modes.dir);
  }

  add(fax: FaxRow): void {
    let entry = this.pending.get(fax.accountSid);
    if (!entry) {
      entry = { text: stringify([], { header: true, columns: [...CSV_COLUMNS] }), started: false };
      this.pending.set(fax.accountSid, entry);
    }
    entry.text += stringify([csvRecordFor(fax)], { columns: [...CSV_COLUMNS] });
    if (entry.text.length >= CHUNK) this.flush(fax.accountSid, entry);
  }

  /** Writes what is buffered; returns each account's file, relative to the report folder. */
  finish(): Map<string, string> {
    const files = new Map<string, string>();
    for (const [accountSid, entry] of this.pending) {
      this.flush(accountSid, entry);
      files.set(accountSid, relativePath(accountSid));
    }
    return files;
  }

  private flush(accountSid: string, entry: { text: string; started: boolean }): void {
    const path = join(this.root, relativePath(accountSid));
    if (entry.started) appendFileSync(path, entry.text);
    else {
      writeFileSync(path, entry.text, { mode: this.modes.file });
      chmodSync(path, this.modes.file); // exactly the report's mode, whatever the umask made of it
    }
    entry.started = true;
    entry.text = '';
  }
}

/** Account sids are validated by the catalog (AC + 32 hex), so they are safe file names. */
export function relativePath(accountSid: string): string {
  return `${ACCOUNTS_DIR}/${accountSid}.csv`;
}
