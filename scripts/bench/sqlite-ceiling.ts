/**
 * The floor under the catalog's insert figure: the same listing rows (the columns `recordListed`
 * writes, already computed) inserted with one prepared statement, pages of 1000 in one transaction
 * each, into a fresh catalog's `faxes` table with its indexes and triggers, and nothing else (no
 * validation, no sanitizing, no event). The catalog cannot insert faster than this on this machine;
 * where `insert_rows_per_s` misses its target, this figure says how much of the miss is SQLite's.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { faxColumnsFrom } from '../../src/catalog/fax-columns.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { sanitizeFaxJson } from '../../src/archive/fax-metadata.js';
import { LISTING_PAGE_SIZE } from './archived-catalog.js';

export interface SqliteCeiling {
  rows: number;
  ms: number;
  cpuMs: number;
}

export function measureSqliteInsertCeiling(dir: string, faxes: readonly Record<string, unknown>[]): SqliteCeiling {
  const path = join(dir, 'ceiling.sqlite');
  openCatalog(path).close(); // the real schema, migrated
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('temp_store = MEMORY');
    const columns = faxes.map((fax) => faxColumnsFrom(sanitizeFaxJson(fax)));
    const insert = db.prepare(`INSERT INTO faxes (sid, account_sid, state, status, direction, from_number, to_number, quality, media_sid, media_url,
        num_pages, duration, price, price_unit, api_version, url, links, date_created, date_updated, created_key, raw,
        first_seen_at, updated_at, state_changed_at, last_run_id)
      VALUES (?, ?, 'listed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sid) DO NOTHING`);
    const at = new Date().toISOString();
    const page = db.transaction((rows: typeof columns) => {
      for (const c of rows) {
        insert.run(c.sid, c.accountSid, c.status, c.direction, c.from, c.to, c.quality, c.mediaSid, c.mediaUrl, c.numPages, c.duration,
          c.price, c.priceUnit, c.apiVersion, c.url, c.links, c.dateCreated, c.dateUpdated, c.createdKey, c.rawJson, at, at, at, null);
      }
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < columns.length; i += LISTING_PAGE_SIZE) page.immediate(columns.slice(i, i + LISTING_PAGE_SIZE));
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { rows: columns.length, ms, cpuMs: (used.user + used.system) / 1000 };
  } finally {
    db.close();
  }
}
