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
import { constants as zlibConstants, inflateSync } from 'node:zlib';

import type { MediaKind } from '../store/object-layout.js';

export type { MediaKind };

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

export function fileExtensionFor(kind: MediaKind): MediaKind {
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
/** An object stream larger than this (compressed) is not read: real ones hold a few KB of dictionaries. */
const MAX_OBJECT_STREAM_BYTES = 8 * 1024 * 1024;

const WS = '[ \\t\\r\\n\\f\\0]';
const NAME_END = '(?![^ \\t\\r\\n\\f\\0()<>\\[\\]{}/%])';
/**
 * The tokens the page count needs, in one pass: object headers (`12 0 obj`), `endobj`, `/Type /Page`,
 * `/Type /Pages`, `/Type /ObjStm`, `/Count n`, `/Parent`, a direct `/Length n`, `/First n`, `/N n`,
 * `/Filter /FlateDecode`, and the `stream` keyword (not `endstream`) with its end of line.
 */
const PDF_TOKENS = new RegExp(
  [
    `(\\d{1,10})${WS}+(\\d{1,5})${WS}+obj${NAME_END}`,
    `endobj`,
    `/Type${WS}*/(Pages|Page|ObjStm)${NAME_END}`,
    `/Count${WS}+(\\d{1,9})`,
    `/Parent${NAME_END}`,
    `/Length${WS}+(\\d{1,10})(?!${WS}+\\d+${WS}+R)`,
    `/First${WS}+(\\d{1,9})`,
    `/N${WS}+(\\d{1,9})`,
    `/Filter${WS}*/(FlateDecode)`,
    `(?<!end)stream(\\r\\n|\\n|\\r)`,
  ].join('|'),
  'g',
);

/** What one definition of an object says (a later definition, an incremental update, replaces it). */
interface PdfObjectFacts {
  /** File position of the definition (for object-stream members, the stream's): later wins. */
  at: number;
  page: boolean;
  pages: boolean;
  parent: boolean;
  count: number | null;
  objStm: boolean;
  flate: boolean;
  length: number | null;
  first: number | null;
  n: number | null;
  streamAt: number | null;
}

function newFacts(at: number): PdfObjectFacts {
  return { at, page: false, pages: false, parent: false, count: null, objStm: false, flate: false, length: null, first: null, n: null, streamAt: null };
}

/** Applies one token match to the object it belongs to. */
function applyToken(m: RegExpExecArray, facts: PdfObjectFacts): void {
  if (m[3] === 'Page') facts.page = true;
  else if (m[3] === 'Pages') facts.pages = true;
  else if (m[3] === 'ObjStm') facts.objStm = true;
  else if (m[4] !== undefined) facts.count = Number(m[4]);
  else if (m[0].startsWith('/Parent')) facts.parent = true;
  else if (m[5] !== undefined) facts.length = Number(m[5]);
  else if (m[6] !== undefined) facts.first = Number(m[6]);
  else if (m[7] !== undefined) facts.n = Number(m[7]);
  else if (m[8] !== undefined) facts.flate = true;
}

/**
 * Counts the pages of a PDF as real-world files are written (issue 12 §4), in one pass over the
 * file in chunks:
 * - each object's LAST definition counts (an incremental update that rewrites a page or the page
 *   tree replaces the old one; old bytes stay in the file);
 * - page objects inside compressed object streams (PDF 1.5+, `/Type /ObjStm`, FlateDecode) are
 *   read by inflating those streams;
 * - the page count is the number of page objects, bounded by the root page tree's `/Count` (the
 *   `/Pages` object without a `/Parent`) when there is one: an update that removes a page leaves
 *   its old object behind, and a truncated file has fewer page objects than its tree says.
 * When no page object is visible at all, the root `/Count` alone answers; a file that is not a PDF
 * or shows neither gives null.
 */
async function countPdfPages(file: FileHandle): Promise<number | null> {
  const head = Buffer.alloc(5);
  const { bytesRead } = await file.read(head, 0, 5, 0);
  if (mediaKindFromMagic(head.subarray(0, bytesRead)) !== 'pdf') return null;

  const objects = new Map<number, PdfObjectFacts>();
  let loosePages = 0;
  let current: PdfObjectFacts | null = null;
  let carry = '';
  let carryStart = 0;
  let position = 0;
  const chunk = Buffer.alloc(PDF_CHUNK_BYTES);
  for (;;) {
    const { bytesRead: n } = await file.read(chunk, 0, chunk.length, position);
    position += n;
    const atEnd = n === 0;
    const text = carry + chunk.toString('latin1', 0, n);
    const base = carryStart;
    // Tokens starting before `stop` have at least PDF_OVERLAP bytes after them (or the file ends).
    const stop = atEnd ? text.length : Math.max(0, text.length - PDF_OVERLAP);
    let resume = stop;
    PDF_TOKENS.lastIndex = 0;
    for (let m = PDF_TOKENS.exec(text); m !== null && m.index < stop; m = PDF_TOKENS.exec(text)) {
      resume = Math.max(resume, m.index + m[0].length);
      if (m[1] !== undefined) {
        current = newFacts(base + m.index);
        objects.set(Number(m[1]), current);
      } else if (m[0] === 'endobj') {
        current = null;
      } else if (m[9] !== undefined) {
        if (current) current.streamAt = base + m.index + m[0].length;
      } else if (current) {
        applyToken(m, current);
      } else if (m[3] === 'Page') {
        loosePages++;
      }
    }
    if (atEnd) break;
    carry = text.slice(resume);
    carryStart = base + resume;
  }
  for (const [, stream] of [...objects].filter(([, f]) => f.objStm && f.streamAt !== null)) {
    for (const [number, facts] of await objectStreamMembers(file, stream)) {
      const known = objects.get(number);
      if (!known || known.at < facts.at) objects.set(number, facts);
    }
  }
  let pages = loosePages;
  let rootCount: number | null = null;
  for (const facts of objects.values()) {
    if (facts.page && !facts.pages) pages++;
    if (facts.pages && !facts.parent && facts.count !== null) rootCount = Math.max(rootCount ?? 0, facts.count);
  }
  if (pages > 0) return rootCount !== null && rootCount > 0 ? Math.min(pages, rootCount) : pages;
  return rootCount !== null && rootCount > 0 ? rootCount : null;
}

/** The objects an object stream holds, with what each says; empty when it cannot be read. */
async function objectStreamMembers(file: FileHandle, stream: PdfObjectFacts): Promise<Map<number, PdfObjectFacts>> {
  const out = new Map<number, PdfObjectFacts>();
  if (stream.streamAt === null || stream.first === null || stream.n === null) return out;
  const length = Math.min(stream.length ?? MAX_OBJECT_STREAM_BYTES, MAX_OBJECT_STREAM_BYTES);
  const raw = Buffer.alloc(length);
  const { bytesRead } = await file.read(raw, 0, length, stream.streamAt);
  let data: Buffer;
  try {
    data = stream.flate ? inflateSync(raw.subarray(0, bytesRead), { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : raw.subarray(0, bytesRead);
  } catch {
    return out;
  }
  const text = data.toString('latin1');
  const header = text.slice(0, stream.first).trim().split(/[ \t\r\n\f\0]+/).map(Number);
  const members: { number: number; offset: number }[] = [];
  for (let i = 0; i + 1 < header.length && members.length < stream.n; i += 2) members.push({ number: header[i] as number, offset: header[i + 1] as number });
  members.forEach((member, i) => {
    const body = text.slice(stream.first! + member.offset, i + 1 < members.length ? stream.first! + members[i + 1]!.offset : text.length);
    const facts = newFacts(stream.at + 1 + i);
    PDF_TOKENS.lastIndex = 0;
    for (let m = PDF_TOKENS.exec(body); m !== null; m = PDF_TOKENS.exec(body)) applyToken(m, facts);
    out.set(member.number, facts);
  });
  return out;
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
