/**
 * The small archive the records tests share: the report fixture (12 faxes in every state, real
 * SQLite file, real filesystem store) plus the catalog identity an archive run records, so
 * `restore` and `export` find the store the way they would in the field.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { ACCOUNT_MAIN, buildArchive, type ArchiveFixture } from '../report/archive-fixture.js';

export interface RecordsWorld {
  dir: string;
  catalogPath: string;
  storeRoot: string;
  fixture: ArchiveFixture;
  now: Date;
}

export async function buildRecordsWorld(name: string, extra?: (catalog: ReturnType<typeof openCatalog>) => void): Promise<RecordsWorld> {
  const dir = mkdtempSync(join(tmpdir(), `fax-sunset-${name}-`));
  const catalogPath = join(dir, 'catalog.sqlite');
  const storeRoot = join(dir, 'media');
  const store = new FsMediaStore(storeRoot);
  await store.check();
  const catalog = openCatalog(catalogPath);
  const now = new Date();
  try {
    catalog.recordIdentity({ store: store.displayUrl, storeEndpoint: null, accountSid: ACCOUNT_MAIN });
    const fixture = await buildArchive(catalog, store, now);
    extra?.(catalog);
    return { dir, catalogPath, storeRoot, fixture, now };
  } finally {
    catalog.close();
    await store.close();
  }
}
