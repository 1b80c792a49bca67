/**
 * A file's identity at the moment its bytes were hashed (issue 16: hash each byte once). The spool
 * hashes media (SHA-256 and MD5 in one pass) while writing it; an upload that gets the stamp with
 * the file checks that the file is still that very file (device, inode, size, change and
 * modification times in nanoseconds) instead of reading and hashing it a second time.
 *
 * What stays proven without the second hash: the store checks the claimed SHA-256 on arrival where
 * it can (AWS S3), and a single-part ETag that is not the MD5 sent fails the upload
 * (archive-fax.ts `putChecked`) on the servers that do not check (moto, s3rver); verification and the
 * pre-delete proof look again. Without a stamp, the S3 store hashes the file as before.
 */
import { statSync } from 'node:fs';

export interface FileStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export async function stampFile(path: string): Promise<FileStamp> {
  // One local stat: synchronous is cheaper than a trip through the thread pool (measured).
  const s = statSync(path, { bigint: true });
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
}

/** True when `path` is still the file that was stamped, unchanged since (and `size` bytes long). */
export async function stillStamped(path: string, stamp: FileStamp, size: number): Promise<boolean> {
  let now: FileStamp;
  try {
    now = await stampFile(path);
  } catch {
    return false;
  }
  return now.dev === stamp.dev && now.ino === stamp.ino && now.size === stamp.size && now.size === BigInt(size)
    && now.mtimeNs === stamp.mtimeNs && now.ctimeNs === stamp.ctimeNs;
}
