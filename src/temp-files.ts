/**
 * The project's own temporary files, and when one is a leftover that is safe to remove. Issue 13 §5:
 * a SIGKILL during a folder-store write left an 80 MB hidden temp file of fax bytes that no later run
 * removed. Temp files are named `.fax-sunset-<host>-<pid>-<random>.tmp` (host: 8 hex digits of the
 * SHA-256 of the hostname), so a sweep touches nothing but its own kind, and can tell whose it is.
 *
 * A temp file is removed only when no live writer can own it:
 * - its host is this host and its pid is not alive here: the process that wrote it is gone; or
 * - it was not modified for `STALE_TEMP_AFTER_MS` (an hour): a live writer appends to its temp file
 *   from open to rename without pause (it copies a local spool file or a download in progress), so
 *   an hour of silence means its writer is dead, on whatever host (a shared mount), or its pid was
 *   reused. A writer frozen that long only loses the rename: its fax fails and is retried.
 * The folder store keeps its temp files in `<root>/.fax-sunset-tmp/`; the CSV writer puts its own
 * beside the CSV. Each sweeps its folder before it writes there (`sweepStaleTempFiles`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const STALE_TEMP_AFTER_MS = 60 * 60 * 1000;

export const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

const OWN_TEMP = /^\.fax-sunset-([0-9a-f]{8})-(\d+)-[0-9a-f]{12}\.tmp$/;

/** A fresh name for a temp file of this process. */
export function ownTempName(): string {
  return `.fax-sunset-${HOST_TAG}-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/** Host tag and pid of a name of ours, or null for any other file. */
export function parseTempName(name: string): { hostTag: string; pid: number } | null {
  const match = OWN_TEMP.exec(name);
  return match ? { hostTag: match[1]!, pid: Number(match[2]) } : null;
}

/** Whether a file named `name`, last modified at `mtimeMs`, is a leftover of ours no live writer owns (pure). */
export function isStaleTempFile(
  file: { name: string; mtimeMs: number },
  here: { hostTag: string; nowMs: number; isAlive: (pid: number) => boolean },
): boolean {
  const owner = parseTempName(file.name);
  if (!owner) return false;
  if (owner.hostTag === here.hostTag && !here.isAlive(owner.pid)) return true;
  return here.nowMs - file.mtimeMs > STALE_TEMP_AFTER_MS;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, someone else's). */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temp files of ours in `folder` that no live writer can own; nothing else. Returns how many. */
export async function sweepStaleTempFiles(folder: string, nowMs = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return 0; // no folder, nothing left behind
  }
  let swept = 0;
  for (const name of names) {
    if (!parseTempName(name)) continue;
    const path = join(folder, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || !isStaleTempFile({ name, mtimeMs: info.mtimeMs }, { hostTag: HOST_TAG, nowMs, isAlive: pidIsAlive })) continue;
    try {
      await unlink(path);
      swept++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return swept;
}
