/**
 * Writes a file so that a reader (or a crash) sees either the old content or the new, never half:
 * write a temporary file beside it, fsync it, rename it over the target, fsync the folder. The
 * rollback file depends on this: it must be usable after a crash at any instant of an apply.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { syncFolder } from '../durable-file.js';

export async function writeFileAtomic(target: string, data: string, options: { mode?: number } = {}): Promise<void> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'w', options.mode ?? 0o600);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncFolder(dir);
}
