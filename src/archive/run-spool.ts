/**
 * The spool: where a run streams media while it hashes it, before it goes to the store. One spool
 * per catalog, `<catalog's real path>.spool/`, used only while holding that catalog's lock, so its
 * files belong to the run that holds the lock and nobody else. Issue 15 §0 taught why: three shards
 * started at once from one working folder, each with its own --catalog, shared `<folder>/.spool/`,
 * and each emptied it at start under the others' feet (378 of 545 faxes failed with ENOENT).
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { realCatalogPath } from '../catalog/catalog-lock.js';
import { STALE_TEMP_AFTER_MS } from '../temp-files.js';

/** The spool folder of the catalog at `catalogPath` (whatever path, symlink or not, names it). */
export function spoolDirFor(catalogPath: string): string {
  return `${realCatalogPath(catalogPath)}.spool`;
}

/**
 * Creates the spool (0700) and removes what a killed run of the same catalog left in it: the caller
 * holds the catalog's lock, so no live run can own those files. Also sweeps the folder-wide spool
 * older versions shared (`<catalog folder>/.spool/`), removing only its `.part` files untouched for
 * an hour, since a run of an older version beside this one may still be writing there.
 */
export async function prepareSpool(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of await readdir(dir)) if (name.endsWith('.part')) await rm(join(dir, name), { force: true });
  await sweepSharedSpool(join(dirname(dir), '.spool'));
}

async function sweepSharedSpool(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // none: the usual case
  }
  const nowMs = Date.now();
  for (const name of names) {
    if (!/^FX[0-9a-f]{32}\.part$/i.test(name)) continue;
    const info = await stat(join(dir, name)).catch(() => null);
    if (info?.isFile() && nowMs - info.mtimeMs > STALE_TEMP_AFTER_MS) await rm(join(dir, name), { force: true });
  }
}
