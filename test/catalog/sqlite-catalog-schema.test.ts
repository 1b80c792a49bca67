import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src/catalog/migrations.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ConfigurationError } from '../../src/errors.js';
import { driveTo, tempDir, twilioFax } from './fax-fixtures.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('opening a catalog', () => {
  it('creates the folder and a migrated WAL database, and reopening changes nothing', () => {
    const path = join(dir, 'nested', 'deeper', 'catalog.sqlite');
    const catalog = openCatalog(path);
    driveTo(catalog, 1, 'verified');
    catalog.close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['deletions', 'events', 'fax_history', 'faxes', 'findings', 'objects', 'runs']));
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'faxes'`).all() as { name: string }[]).map((t) => t.name);
    expect(indexes).toEqual(expect.arrayContaining(['faxes_state_created', 'faxes_account_created', 'faxes_unfinished']));
    db.close();

    const again = openCatalog(path);
    expect(again.getFax(twilioFax(1).sid as string)?.state).toBe('verified');
    again.close();
  });

  it('creates the database, its WAL and shared-memory files with mode 0600', () => {
    const path = join(dir, 'catalog.sqlite');
    const catalog = openCatalog(path);
    catalog.recordListed([twilioFax(1)], null);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(file), file).toBe(true);
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    catalog.close();
  });

  it('refuses a folder it cannot create with one clear ConfigurationError', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const open = () => openCatalog(join(blocker, 'catalog.sqlite'));
    expect(open).toThrow(ConfigurationError);
    expect(open).toThrow(/^cannot create or write the catalog .*a-file\/catalog\.sqlite: a part of the path is a file, not a folder \((ENOTDIR|EEXIST)\); pass --catalog with a writable folder$/);
  });

  it('refuses a catalog written by a newer schema', () => {
    const path = join(dir, 'catalog.sqlite');
    openCatalog(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openCatalog(path)).toThrow(/newer than this fax-sunset understands/);
  });

  it('opens read-only without writing, and a missing file read-only is a ConfigurationError', () => {
    expect(() => openCatalog(join(dir, 'missing.sqlite'), { readonly: true })).toThrow(ConfigurationError);
    const path = join(dir, 'catalog.sqlite');
    const writer = openCatalog(path);
    driveTo(writer, 1, 'listed');
    writer.close();
    const reader = openCatalog(path, { readonly: true });
    expect(reader.countByState().listed).toBe(1);
    expect(() => reader.markFailed(twilioFax(1).sid as string, 'x')).toThrow(ConfigurationError);
    reader.close();
  });

  it('never stores a pre-signed URL signature anywhere in the file', () => {
    const path = join(dir, 'catalog.sqlite');
    const catalog = openCatalog(path);
    catalog.recordListed([twilioFax(1), twilioFax(2)], null);
    catalog.recordListed([twilioFax(1, { date_updated: '2024-03-01T00:00:00Z' })], null); // history too
    const row = catalog.getFax(twilioFax(1).sid as string)!;
    expect(row.raw.media_url).toBe(`https://media.twiliocdn.com/fax/${row.accountSid}/${'c'.repeat(40)}`);
    catalog.close();
    const bytes = Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
    expect(bytes.includes('X-Amz-Signature')).toBe(false);
    expect(bytes.includes('deadbeefcafe')).toBe(false);
    expect(bytes.includes('media.twiliocdn.com/fax')).toBe(true); // the URL itself is kept
  });
});
