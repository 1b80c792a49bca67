/**
 * Streams media to a spool file while computing SHA-256 and MD5 on the way: the media is never held
 * whole in memory, and the hashes come from the very bytes that will be uploaded.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stampFile, type FileStamp } from '../store/file-stamp.js';

export interface SpooledFile {
  path: string;
  size: number;
  sha256Hex: string;
  md5Hex: string;
  /** The first bytes (up to 8), for the magic check. */
  head: Buffer;
  /** The file as it was when hashed: the upload checks it instead of hashing the file again. */
  stamp: FileStamp;
}

export async function spoolToFile(body: Readable, path: string): Promise<SpooledFile> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  let head = Buffer.alloc(0);
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sha256.update(chunk);
      md5.update(chunk);
      size += chunk.length;
      if (head.length < 8) head = Buffer.concat([head, chunk.subarray(0, 8 - head.length)]);
      callback(null, chunk);
    },
  });
  let stamp: FileStamp;
  try {
    await pipeline(body, hasher, createWriteStream(path, { mode: 0o600 }));
    stamp = await stampFile(path);
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, size, sha256Hex: sha256.digest('hex'), md5Hex: md5.digest('hex'), head, stamp };
}
