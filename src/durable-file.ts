/**
 * The one way a finished file takes its place: fsync the written temp file, rename it over the
 * target, fsync the folder. After that a crash shows the old file or the new one, never half of
 * one, and never neither (the rename itself is on disk once its folder is). The CSV, the records
 * export's ZIP, the reversion plan and rollback journal, and the folder store's objects all use it.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes `temp` (already written and closed) durable and renames it over `target`, then makes the rename durable. */
export async function publishFile(temp: string, target: string): Promise<void> {
  await syncFile(temp);
  await rename(temp, target);
  await syncFolder(dirname(target));
}

export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes a rename in `folder` durable. Where the platform cannot open or fsync a folder (Windows,
 * some network filesystems: EISDIR, EINVAL, EPERM, EACCES) the rename has still happened and
 * nothing better is possible; any other error (EIO) is a disk that may have lost it, and throws.
 */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES') throw error;
  } finally {
    await handle?.close();
  }
}
