/**
 * `--state FILE`: an append-only JSON-lines journal of every change (deletions, updates, new
 * faxes), replayed over the seed-generated data at start-up. Each line is written with one
 * synchronous append before the response goes out, so a change the client saw acknowledged
 * survives a kill -9. A torn last line (killed mid-write) is ignored on replay.
 */
import fs from 'node:fs';
import type { AccountStatus, FaxRecord, NumberUpdate } from './emulator-records.js';

export interface JournalHeader {
  op: 'header';
  seed: number;
  faxes: number;
  numbers: number;
  accounts: number;
  nowMs: number;
}

export type JournalEntry =
  | { op: 'delete-fax'; sid: string }
  | { op: 'delete-media'; faxSid: string }
  | { op: 'put-fax'; fax: FaxRecord }
  | { op: 'update-number'; sid: string; update: NumberUpdate }
  | { op: 'account-status'; sid: string; status: AccountStatus; closedMs: number | null };

export class StateJournal {
  private constructor(private readonly fd: number) {}

  /**
   * Opens (or creates) the journal and returns its entries. Refuses a journal written for other
   * generation options: replaying deletions over different data would be meaningless.
   */
  static open(path: string, header: JournalHeader): { journal: StateJournal; entries: JournalEntry[] } {
    const entries: JournalEntry[] = [];
    let existing = '';
    try {
      existing = fs.readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = existing.split('\n').filter((l) => l.length > 0);
    let sawHeader = false;
    let tornAt: number | null = null;
    lines.forEach((line, index) => {
      let entry: JournalHeader | JournalEntry;
      try {
        entry = JSON.parse(line) as JournalHeader | JournalEntry;
      } catch (error) {
        if (index === lines.length - 1) {
          // A torn final write: dropped here and cut from the file below, or the next restart would find it mid-file.
          tornAt = existing.lastIndexOf(line);
          return;
        }
        throw new Error(`state file ${path} line ${index + 1} is not JSON`, { cause: error });
      }
      if (entry.op === 'header') {
        const same = entry.seed === header.seed && entry.faxes === header.faxes && entry.numbers === header.numbers
          && entry.accounts === header.accounts && entry.nowMs === header.nowMs;
        if (!same) throw new Error(`state file ${path} was written by an emulator with other --seed/--faxes/--numbers/--accounts/--now`);
        sawHeader = true;
      } else {
        entries.push(entry);
      }
    });
    if (tornAt !== null) {
      existing = existing.slice(0, tornAt);
      fs.truncateSync(path, Buffer.byteLength(existing));
    }
    const fd = fs.openSync(path, 'a');
    // A last line cut just before its newline is whole JSON (replayed): the next entry starts on a fresh line.
    if (existing.length > 0 && !existing.endsWith('\n')) fs.writeSync(fd, '\n');
    const journal = new StateJournal(fd);
    if (!sawHeader) journal.write(header);
    return { journal, entries };
  }

  append(entry: JournalEntry): void {
    this.write(entry);
  }

  private write(entry: JournalEntry | JournalHeader): void {
    fs.writeSync(this.fd, JSON.stringify(entry) + '\n');
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
