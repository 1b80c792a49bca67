/**
 * Page counts of the emulator's media, read the way a viewer would (no dependency): a TIFF's IFD
 * chain, a PDF's `/Type /Page` objects. media-host.test.ts has the same logic inline; this copy
 * is importable without pulling that file's tests along.
 */

/** Pages of a TIFF: the IFD chain from the header's first offset; throws on a non-TIFF or a loop. */
export function tiffPageCount(buf: Buffer): number {
  const order = buf.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') throw new Error('not a TIFF: no byte-order mark');
  const little = order === 'II';
  const u16 = (at: number) => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  if (u16(2) !== 42) throw new Error('not a TIFF: no 42');
  const visited = new Set<number>();
  for (let ifd = u32(4); ifd !== 0; ifd = u32(ifd + 2 + u16(ifd) * 12)) {
    if (visited.has(ifd)) throw new Error('TIFF IFD chain loops');
    visited.add(ifd);
  }
  return visited.size;
}

/** Pages of a PDF: its `/Type /Page` objects (not `/Pages`). */
export function pdfPageCount(buf: Buffer): number {
  return (buf.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g) ?? []).length;
}
