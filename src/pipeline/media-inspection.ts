/**
 * What the archive pipeline checks about a downloaded spool file before it trusts it: the kind of
 * file its first bytes say it is, whether that matches the Content-Type, and how many pages it has
 * (compared with the fax's num_pages). Reads files at offsets or in bounded chunks, never whole.
 *
 * Page counting answers null ("cannot tell") rather than guess: a mismatch is evidence of a
 * truncated or wrong download, so a wrong count would raise false alarms, and a null simply
 * leaves the check unverified.
 */
import { open, type FileHandle } from 'node:fs/promises';

export type MediaKind = 'pdf' | 'tiff';

/** The kind the magic bytes say: '%PDF-' for PDF, 'II*\0' / 'MM\0*' for TIFF (and BigTIFF's 43); else null. */
export function mediaKindFromMagic(firstBytes: Uint8Array): MediaKind | null {
  const b = firstBytes;
  if (b.length >= 5 && b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46 && b[4] === 0x2d) return 'pdf';
  if (b.length >= 4) {
    if (b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) return 'tiff';
    if (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43)) return 'tiff';
  }
  return null;
}

/** The kind a Content-Type names (parameters and case ignored); null for anything else or no header. */
export function mediaKindForContentType(contentType: string | null): MediaKind | null {
  if (contentType === null) return null;
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (essence === 'application/pdf') return 'pdf';
  if (essence === 'image/tiff' || essence === 'image/tif') return 'tiff';
  return null;
}

export function fileExtensionFor(kind: MediaKind): 'pdf' | 'tiff' {
  return kind;
}

/** How far from the end a PDF's last `%%EOF` may be (writers add a newline or some padding). */
const PDF_EOF_WINDOW = 1024;

/**
 * Whether the file holds up as a whole `kind` beyond its magic bytes: a PDF has `%%EOF` within its
 * last KB; a TIFF's IFD chain could be walked (`pages` is that walk's count: null means it broke).
 */
export async function mediaStructureOk(filePath: string, kind: MediaKind, pages: number | null): Promise<boolean> {
  if (kind === 'tiff') return pages !== null;
  const file = await open(filePath, 'r');
  try {
    const size = (await file.stat()).size;
    const length = Math.min(size, PDF_EOF_WINDOW);
    const tail = Buffer.alloc(length);
    await file.read(tail, 0, length, size - length);
    return tail.includes('%%EOF', 0, 'latin1');
  } finally {
    await file.close();
  }
}

/** Page count of the file at `filePath` read as `kind`; null when it cannot tell (broken, truncated, unusual). */
export async function countPages(filePath: string, kind: MediaKind): Promise<number | null> {
  const file = await open(filePath, 'r');
  try {
    return kind === 'pdf' ? await countPdfPages(file) : await countTiffPages(file);
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// PDF

const PDF_CHUNK_BYTES = 256 * 1024;
/** Bytes kept from the end of each chunk, so a token split across a chunk border is still seen whole. */
const PDF_OVERLAP = 128;
const TYPE = Buffer.from('/Type', 'latin1');
const PAGE = Buffer.from('/Page', 'latin1');
const COUNT = Buffer.from('/Count', 'latin1');

/**
 * Counts `/Type /Page` dictionaries (not `/Pages`) in one pass over the file. When there are none
 * (page objects hidden in compressed object streams, PDF 1.5+), falls back to the largest /Count,
 * which is the root page tree's (intermediate nodes count fewer). A file that is not a PDF gives null.
 * An incremental update that rewrites a page would be counted twice; fax PDFs are written once.
 */
async function countPdfPages(file: FileHandle): Promise<number | null> {
  const head = Buffer.alloc(5);
  const { bytesRead } = await file.read(head, 0, 5, 0);
  if (mediaKindFromMagic(head.subarray(0, bytesRead)) !== 'pdf') return null;

  let pages = 0;
  let maxCount: number | null = null;
  let carry = Buffer.alloc(0);
  let position = 0;
  const chunk = Buffer.alloc(PDF_CHUNK_BYTES);
  for (;;) {
    const { bytesRead: n } = await file.read(chunk, 0, chunk.length, position);
    position += n;
    const atEnd = n === 0;
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    // Tokens starting before `stop` have at least PDF_OVERLAP bytes after them (or the file ends).
    const stop = atEnd ? buf.length : Math.max(0, buf.length - PDF_OVERLAP);
    for (let i = buf.indexOf(0x2f); i !== -1 && i < stop; i = buf.indexOf(0x2f, i + 1)) {
      if (startsWith(buf, i, TYPE) && !isNameChar(buf[i + TYPE.length])) {
        const j = skipWhitespace(buf, i + TYPE.length);
        if (startsWith(buf, j, PAGE) && !isNameChar(buf[j + PAGE.length])) pages++;
      } else if (startsWith(buf, i, COUNT) && !isNameChar(buf[i + COUNT.length])) {
        const value = readInteger(buf, skipWhitespace(buf, i + COUNT.length));
        if (value !== null && (maxCount === null || value > maxCount)) maxCount = value;
      }
    }
    if (atEnd) break;
    // Copy: `chunk` is reused by the next read.
    carry = Buffer.from(buf.subarray(stop));
  }
  if (pages > 0) return pages;
  return maxCount !== null && maxCount > 0 ? maxCount : null;
}

function startsWith(buf: Buffer, at: number, token: Buffer): boolean {
  if (at + token.length > buf.length) return false;
  for (let k = 0; k < token.length; k++) if (buf[at + k] !== token[k]) return false;
  return true;
}

/** PDF whitespace: NUL, TAB, LF, FF, CR, SP. */
function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}

/** A byte that would continue a name (so `/Page` in `/Pages` or `/PageLabels` is not `/Page`). */
function isNameChar(c: number | undefined): boolean {
  if (c === undefined) return false; // end of file ends the name
  if (isWhitespace(c)) return false;
  // Delimiters: ( ) < > [ ] { } / %
  return !(c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d ||
    c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25);
}

function skipWhitespace(buf: Buffer, at: number): number {
  let i = at;
  while (i < buf.length && isWhitespace(buf[i])) i++;
  return i;
}

function readInteger(buf: Buffer, at: number): number | null {
  let i = at;
  let value = 0;
  while (i < buf.length && i - at < 12) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    i++;
  }
  return i > at ? value : null;
}

// ---------------------------------------------------------------------------------------------
// TIFF

/** More IFDs than any fax has pages; a longer chain is treated as corrupt. */
const MAX_IFDS = 100_000;
/** Real IFDs hold a few dozen tags; a huge count is corruption, not a reason to allocate megabytes. */
const MAX_IFD_ENTRIES = 4096;

/**
 * Walks the IFD chain (classic and BigTIFF, either byte order) with reads at offsets, counting
 * page IFDs. An IFD marked as a reduced-resolution image (NewSubfileType bit 0, a thumbnail) is
 * not a page. A loop, an offset outside the file or a truncated IFD gives null.
 */
async function countTiffPages(file: FileHandle): Promise<number | null> {
  const size = (await file.stat()).size;
  const header = Buffer.alloc(16);
  const { bytesRead } = await file.read(header, 0, 16, 0);
  if (bytesRead < 8 || mediaKindFromMagic(header) !== 'tiff') return null;
  const le = header[0] === 0x49;
  const u16 = (b: Buffer, at: number): number => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const u64 = (b: Buffer, at: number): number => Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));

  const big = u16(header, 2) === 43;
  if (big && (bytesRead < 16 || u16(header, 4) !== 8)) return null;
  // Classic: 2-byte entry count, 12-byte entries, 4-byte offsets. BigTIFF: 8, 20, 8.
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  const offsetBytes = big ? 8 : 4;
  const headerBytes = big ? 16 : 8;

  let offset = big ? u64(header, 8) : u32(header, 4);
  const seen = new Set<number>();
  let pages = 0;
  while (offset !== 0) {
    if (offset < headerBytes || offset + countBytes > size || seen.has(offset) || seen.size >= MAX_IFDS) return null;
    seen.add(offset);
    const countBuf = Buffer.alloc(countBytes);
    if (!(await readExactly(file, countBuf, offset))) return null;
    const entries = big ? u64(countBuf, 0) : u16(countBuf, 0);
    const bodyBytes = entries * entryBytes + offsetBytes;
    if (entries === 0 || entries > MAX_IFD_ENTRIES || offset + countBytes + bodyBytes > size) return null;
    const body = Buffer.alloc(bodyBytes);
    if (!(await readExactly(file, body, offset + countBytes))) return null;
    let thumbnail = false;
    for (let e = 0; e < entries; e++) {
      const at = e * entryBytes;
      if (u16(body, at) !== 254) continue;
      const type = u16(body, at + 2);
      const valueAt = at + (big ? 12 : 8);
      const value = type === 3 ? u16(body, valueAt) : u32(body, valueAt);
      thumbnail = (value & 1) === 1;
    }
    if (!thumbnail) pages++;
    offset = big ? u64(body, entries * entryBytes) : u32(body, entries * entryBytes);
  }
  return pages > 0 ? pages : null;
}

/** False when the file ends first (it shrank while we read: treat as cannot tell). */
async function readExactly(file: FileHandle, into: Buffer, position: number): Promise<boolean> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) return false;
    done += bytesRead;
  }
  return true;
}
