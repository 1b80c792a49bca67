/**
 * Which store and main account a catalog belongs to (issue 17 §1), read before anything is opened
 * for writing, so a command can use the recorded store and refuse a different one before it writes.
 * A catalog older than migration 5 has no identity yet: its next archive/sync records one.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ConfigurationError } from '../errors.js';
import type { CatalogIdentity } from './catalog.js';

/** The recorded identity of the catalog file at `path`; null when the file or its identity does not exist. Writes nothing. */
export function readCatalogIdentity(path: string): CatalogIdentity | null {
  if (!existsSync(path)) return null;
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigurationError(`cannot read the catalog ${path}: ${detail}`, { cause: error });
  }
  try {
    const table = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'catalog_identity'`).get();
    if (!table) return null;
    const row = db.prepare('SELECT store, store_endpoint, account_sid, recorded_at FROM catalog_identity WHERE id = 1').get() as
      | { store: string; store_endpoint: string | null; account_sid: string; recorded_at: string }
      | undefined;
    return row ? { store: row.store, storeEndpoint: row.store_endpoint, accountSid: row.account_sid, recordedAt: row.recorded_at } : null;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigurationError(`cannot read the catalog ${path}: ${detail} (is it a fax-sunset catalog?)`, { cause: error });
  } finally {
    db.close();
  }
}

export type IdentityDecision = 'record' | 'same' | 'moved';

/**
 * Compares what a command is about to use with what the catalog recorded. Pure. A different store or
 * account is refused (ConfigurationError, exit 2) unless the operator said the catalog moved.
 * `accountSid` is null for commands that do not talk to Twilio (verify, report).
 */
export function decideIdentity(
  catalogPath: string,
  recorded: CatalogIdentity | null,
  actual: { store: string; accountSid: string | null },
  options: { moved: boolean },
): IdentityDecision {
  if (!recorded) return 'record';
  const otherStore = actual.store !== recorded.store;
  const otherAccount = actual.accountSid !== null && actual.accountSid !== recorded.accountSid;
  if (!otherStore && !otherAccount) return 'same';
  if (options.moved) return 'moved';
  if (otherStore) {
    throw new ConfigurationError(
      `the catalog ${catalogPath} belongs to the store ${recorded.store}, not ${actual.store}: omit --store to use it, or pass --catalog-moved if the archive really moved`,
    );
  }
  throw new ConfigurationError(
    `the catalog ${catalogPath} belongs to account ${recorded.accountSid}, not ${actual.accountSid}: use that account's credentials or its own --catalog (--catalog-moved if it really moved)`,
  );
}
