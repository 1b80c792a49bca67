/**
 * Fax media in the shapes real-world writers produce (issue 12 §4), for the emulator to serve and
 * the tests to count: the archiver's page counter must not be tuned to the emulator's own simple
 * files. Small and deterministic (built whole in memory: a few KB per page, no raster).
 *
 * - `object-streams`: PDF 1.5 whose catalog, page tree and page objects all live in one FlateDecode
 *   object stream, indexed by a cross-reference stream (no `/Type /Page` in the clear).
 * - `incremental-update`: a PDF written once, then updated twice by appended sections: one adds a
 *   page (a new page object, the page tree rewritten), one removes a page (the tree rewritten, the
 *   old page object left behind), as editors and fax servers that stamp documents do.
 * - `multi-strip`: a TIFF whose pages each have several strips (StripOffsets/StripByteCounts arrays),
 *   a reduced-resolution thumbnail IFD in the chain (not a page), big-endian.
 */
import { deflateSync } from 'node:zlib';

export type RealWorldFileKind = 'object-streams' | 'incremental-update' | 'multi-strip';
export const REAL_WORLD_FILE_KINDS: readonly RealWorldFileKind[] = ['object-streams', 'incremental-update', 'multi-strip'];

/** Bytes of a file of `kind` that a reader must count as `pages` pages. */
export function realWorldFile(kind: RealWorldFileKind, pages: number, label: string): Buffer {
  if (!Number.isInteger(pages) || pages < 1 || pages > 500) throw new RangeError(`pages must be 1..500, got ${pages}`);
  if (kind === 'object-streams') return objectStreamPdf(pages, label);
  if (kind === 'incremental-update') return incrementallyUpdatedPdf(pages, label);
  return multiStripTiff(pages, label);
}

/** The content type the file really is. */
export function realWorldContentType(kind: RealWorldFileKind): 'application/pdf' | 'image/tiff' {
  return kind === 'multi-strip' ? 'image/tiff' : 'application/pdf';
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');

function contentStream(label: string, page: number): string {
  const text = `(${label.replace(/[()\\]/g, '')} page ${page}) Tj`;
  return `BT /F1 12 Tf 72 720 Td ${text} ET`;
}

/** Objects 1 catalog, 2 pages, 3 font, then per page: a page object and its content stream. */
function objectStreamPdf(pages: number, label: string): Buffer {
  const pageNumbers = Array.from({ length: pages }, (_, i) => 4 + 2 * i);
  const compressed: { number: number; body: string }[] = [
    { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
    { number: 2, body: `<< /Type /Pages /Kids [${pageNumbers.map((n) => `${n} 0 R`).join(' ')}] /Count ${pages} >>` },
    { number: 3, body: '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>' },
    ...pageNumbers.map((n) => ({
      number: n,
      body: `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${n + 1} 0 R >>`,
    })),
  ];
  const parts: Buffer[] = [latin1('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n')];
  let offset = parts[0]!.length;
  const offsets = new Map<number, number>();
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  // Content streams stay outside the object stream (streams cannot be inside one).
  pageNumbers.forEach((n, i) => {
    const content = deflateSync(latin1(contentStream(label, i + 1)));
    offsets.set(n + 1, offset);
    push(Buffer.concat([latin1(`${n + 1} 0 obj\n<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`), content, latin1('\nendstream\nendobj\n')]));
  });
  let headerText = '';
  let bodyText = '';
  for (const o of compressed) {
    headerText += `${o.number} ${bodyText.length} `;
    bodyText += `${o.body}\n`;
  }
  const objStmNumber = 4 + 2 * pages;
  const objStm = deflateSync(latin1(headerText + bodyText));
  offsets.set(objStmNumber, offset);
  push(Buffer.concat([
    latin1(`${objStmNumber} 0 obj\n<< /Type /ObjStm /N ${compressed.length} /First ${headerText.length} /Length ${objStm.length} /Filter /FlateDecode >>\nstream\n`),
    objStm,
    latin1('\nendstream\nendobj\n'),
  ]));
  // Cross-reference stream: W [1 4 2]; type 1 = offset, type 2 = (object stream, index).
  const xrefNumber = objStmNumber + 1;
  const size = xrefNumber + 1;
  const rows = Buffer.alloc(size * 7);
  const row = (n: number, type: number, a: number, b: number) => {
    rows.writeUInt8(type, n * 7);
    rows.writeUInt32BE(a, n * 7 + 1);
    rows.writeUInt16BE(b, n * 7 + 5);
  };
  row(0, 0, 0, 65535);
  compressed.forEach((o, i) => row(o.number, 2, objStmNumber, i));
  for (const [n, at] of offsets) row(n, 1, at, 0);
  const xrefAt = offset;
  row(xrefNumber, 1, xrefAt, 0);
  const xref = deflateSync(rows);
  push(Buffer.concat([
    latin1(`${xrefNumber} 0 obj\n<< /Type /XRef /Size ${size} /W [1 4 2] /Root 1 0 R /Length ${xref.length} /Filter /FlateDecode >>\nstream\n`),
    xref,
    latin1(`\nendstream\nendobj\nstartxref\n${xrefAt}\n%%EOF\n`),
  ]));
  return Buffer.concat(parts);
}

/** Classic xref sections; `pages` is the count after both updates (written with pages, +1, then -1). */
function incrementallyUpdatedPdf(pages: number, label: string): Buffer {
  const parts: string[] = ['%PDF-1.4\n'];
  let length = parts[0]!.length;
  const write = (text: string) => {
    parts.push(text);
    length += Buffer.byteLength(text, 'latin1');
  };
  let prevXref = -1;
  const section = (objects: { number: number; body: string }[], size: number) => {
    const at: [number, number][] = [];
    for (const o of objects) {
      at.push([o.number, length]);
      write(`${o.number} 0 obj\n${o.body}\nendobj\n`);
    }
    const xrefAt = length;
    let xref = 'xref\n';
    if (prevXref < 0) xref += '0 1\n0000000000 65535 f \n';
    for (const [n, offset] of at.sort((a, b) => a[0] - b[0])) xref += `${n} 1\n${String(offset).padStart(10, '0')} 00000 n \n`;
    write(`${xref}trailer\n<< /Size ${size} /Root 1 0 R${prevXref >= 0 ? ` /Prev ${prevXref}` : ''} >>\nstartxref\n${xrefAt}\n%%EOF\n`);
    prevXref = xrefAt;
  };
  const page = (n: number, i: number) => [
    { number: n, body: `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${n + 1} 0 R >>` },
    { number: n + 1, body: `<< /Length ${contentStream(label, i).length} >>\nstream\n${contentStream(label, i)}\nendstream` },
  ];
  const original = Array.from({ length: pages }, (_, i) => 3 + 2 * i);
  const tree = (kids: number[]) => ({ number: 2, body: `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>` });
  // 1: the document as first written.
  section([{ number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' }, tree(original), ...original.flatMap((n, i) => page(n, i + 1))], 3 + 2 * pages);
  // 2: a cover page stamped on (a new page object; the tree rewritten under the same number).
  const cover = 3 + 2 * pages;
  section([...page(cover, 0), tree([cover, ...original])], cover + 2);
  // 3: the cover removed again; its page object stays in the file, unreferenced.
  section([tree(original)], cover + 2);
  return Buffer.from(parts.join(''), 'latin1');
}

/** Big-endian classic TIFF: per page an IFD with 3 strips of 1-bit rows; a thumbnail IFD after the first page. */
function multiStripTiff(pages: number, label: string): Buffer {
  const width = 1728;
  const rowsPerStrip = 8;
  const strips = 3;
  const rowBytes = width / 8;
  const stripBytes = rowsPerStrip * rowBytes;
  const ifds: { thumbnail: boolean; page: number }[] = [];
  for (let p = 0; p < pages; p++) {
    ifds.push({ thumbnail: false, page: p });
    if (p === 0) ifds.push({ thumbnail: true, page: p });
  }
  const ENTRIES = 12;
  const ifdBytes = 2 + ENTRIES * 12 + 4;
  const arraysBytes = strips * 4 * 2;
  const perIfd = ifdBytes + arraysBytes + strips * stripBytes;
  const buf = Buffer.alloc(8 + ifds.length * perIfd);
  buf.write('MM', 0, 'latin1');
  buf.writeUInt16BE(42, 2);
  buf.writeUInt32BE(8, 4);
  const seed = [...label].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  ifds.forEach((ifd, index) => {
    const at = 8 + index * perIfd;
    const offsetsAt = at + ifdBytes;
    const countsAt = offsetsAt + strips * 4;
    const dataAt = countsAt + strips * 4;
    let e = at + 2;
    buf.writeUInt16BE(ENTRIES, at);
    const entry = (tag: number, type: number, count: number, value: number) => {
      buf.writeUInt16BE(tag, e);
      buf.writeUInt16BE(type, e + 2);
      buf.writeUInt32BE(count, e + 4);
      if (type === 3 && count === 1) buf.writeUInt16BE(value, e + 8);
      else buf.writeUInt32BE(value, e + 8);
      e += 12;
    };
    entry(254, 4, 1, ifd.thumbnail ? 1 : 0); // NewSubfileType
    entry(256, 3, 1, width); // ImageWidth
    entry(257, 3, 1, rowsPerStrip * strips); // ImageLength
    entry(258, 3, 1, 1); // BitsPerSample
    entry(259, 3, 1, 1); // Compression: none
    entry(262, 3, 1, 0); // WhiteIsZero
    entry(273, 4, strips, offsetsAt); // StripOffsets
    entry(277, 3, 1, 1); // SamplesPerPixel
    entry(278, 3, 1, rowsPerStrip); // RowsPerStrip
    entry(279, 4, strips, countsAt); // StripByteCounts
    entry(297, 3, 2, ((ifd.page & 0xffff) << 16) | (pages & 0xffff)); // PageNumber
    entry(296, 3, 1, 2); // ResolutionUnit: inch
    buf.writeUInt32BE(index + 1 < ifds.length ? 8 + (index + 1) * perIfd : 0, e);
    for (let s = 0; s < strips; s++) {
      buf.writeUInt32BE(dataAt + s * stripBytes, offsetsAt + s * 4);
      buf.writeUInt32BE(stripBytes, countsAt + s * 4);
    }
    for (let i = 0; i < strips * stripBytes; i += 97) buf[dataAt + i] = (seed + index * 131 + i) & 0xff;
  });
  return buf;
}
