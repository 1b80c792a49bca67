/**
 * A minimal ZIP writer (PKWARE APPNOTE 6.3: local headers, central directory, end record), for
 * `export --zip`: one file to hand over. Entries are *stored* (method 0, no compression: faxes are
 * PDF/TIFF, already compressed, and a stored entry can be checked with nothing but a CRC-32), names
 * are UTF-8 (flag bit 11), times are the export's in UTC. Each file is read twice (CRC-32 first, so
 * the local header carries it and no data descriptor is needed), never held whole.
 *
 * Written here rather than adding a dependency: this much of the format is ~100 lines, and the
 * project adds no package for what it can write and test itself. No ZIP64: more than 65,535 files or
 * 4 GiB is refused with one line before anything is written (export without --zip then).
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { UsageError } from '../errors.js';
import { ownTempName } from '../temp-files.js';
import { publishFile } from '../durable-file.js';

const MAX_ENTRIES = 0xffff;
const MAX_OFFSET = 0xffffffff;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as ZIP and gzip use) continued over `bytes`; start with 0. Pure. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function fileCrc32(path: string): Promise<number> {
  let crc = 0;
  for await (const chunk of createReadStream(path)) crc = crc32(chunk as Buffer, crc);
  return crc;
}

function dosDateTime(at: Date): { time: number; date: number } {
  const year = Math.max(1980, at.getUTCFullYear());
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}

export interface ZipEntry {
  /** The name inside the archive ('/'-separated, relative). */
  name: string;
  /** The file on disk. */
  path: string;
}

/** Refuses what this writer cannot hold (no ZIP64), before anything is written. */
export function assertZipFits(entries: readonly ZipEntry[]): void {
  const bytes = entries.reduce((n, e) => n + statSync(e.path).size + 30 + 46 + 2 * Buffer.byteLength(e.name), 22);
  if (entries.length > MAX_ENTRIES || bytes > MAX_OFFSET) {
    throw new UsageError(`--zip holds at most ${MAX_ENTRIES} files and 4 GiB (this export has ${entries.length} files, ${bytes} bytes): export without --zip, or narrow the filters`);
  }
}

/** Writes `entries` as a stored ZIP at `target` (temp file beside it, fsynced, renamed; mode 0600). */
export async function writeStoredZip(target: string, entries: readonly ZipEntry[], at: Date): Promise<{ bytes: number; entries: number }> {
  assertZipFits(entries);
  const temp = join(dirname(target), ownTempName());
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  let offset = 0;
  const write = async (chunk: Buffer) => {
    offset += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const { time, date } = dosDateTime(at);
  const central: Buffer[] = [];
  try {
    for (const entry of entries) {
      const name = Buffer.from(entry.name, 'utf8');
      const size = statSync(entry.path).size;
      const crc = await fileCrc32(entry.path);
      const localOffset = offset;
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed: 2.0
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      local.writeUInt16LE(0, 8); // stored
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(size, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      await write(local);
      await write(name);
      let copied = 0;
      for await (const chunk of createReadStream(entry.path)) {
        copied += (chunk as Buffer).length;
        await write(chunk as Buffer);
      }
      if (copied !== size) throw new Error(`${entry.path} changed while it was zipped`);
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(0x0800, 8);
      header.writeUInt16LE(0, 10);
      header.writeUInt16LE(time, 12);
      header.writeUInt16LE(date, 14);
      header.writeUInt32LE(crc, 16);
      header.writeUInt32LE(size, 20);
      header.writeUInt32LE(size, 24);
      header.writeUInt16LE(name.length, 28);
      // extra, comment, disk number start, internal attributes: 0
      header.writeUInt32LE(((0o100600 & 0xffff) << 16) >>> 0, 38); // a regular file, rw-------
      header.writeUInt32LE(localOffset, 42);
      central.push(header, name);
    }
    const centralStart = offset;
    for (const part of central) await write(part);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(offset - centralStart, 12);
    end.writeUInt32LE(centralStart, 16);
    await write(end);
    out.end();
    await once(out, 'finish');
    await publishFile(temp, target);
    return { bytes: offset, entries: entries.length };
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}
