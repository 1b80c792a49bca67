/**
 * Strict, test-only readers of the emulator's media: they check structure byte by byte (xref
 * offsets, stream lengths, IFD chains, every PackBits row) so a writer bug fails a test instead
 * of producing a file that only looks right. Deliberately independent of src/archive/media-inspection.ts.
 */
import { strict as assert } from 'node:assert';

export interface ValidatedPdf {
  pages: number;
  /** Decoded image of each page (1 bit per pixel, rows of width/8 bytes). */
  images: Buffer[];
  widths: number[];
  heights: number[];
}

/** Decodes PackBits / RunLengthDecode from `at`, until `rowBytes * rows` bytes are out; returns bytes used. */
/** Rows must be packed separately (TIFF requires it; the emulator does it in PDF too). */
export function decodePackBits(src: Buffer, at: number, rowBytes: number, rows: number): { out: Buffer; used: number } {
  const out = Buffer.alloc(rowBytes * rows);
  let p = at;
  let o = 0;
  for (let row = 0; row < rows; row++) {
    const rowEnd = o + rowBytes;
    while (o < rowEnd) {
      assert.ok(p < src.length, 'packbits data ends early');
      const n = src[p++] as number;
      if (n < 128) {
        assert.ok(o + n + 1 <= rowEnd, `literal run crosses the row end at row ${row}`);
        src.copy(out, o, p, p + n + 1);
        p += n + 1;
        o += n + 1;
      } else if (n > 128) {
        const count = 257 - n;
        assert.ok(o + count <= rowEnd, `repeat run crosses the row end at row ${row}`);
        out.fill(src[p++] as number, o, o + count);
        o += count;
      } else {
        assert.fail('unexpected 128 (no-op/EOD) inside the data');
      }
    }
  }
  return { out, used: p - at };
}

function dictAt(text: string, at: number): string {
  const start = text.indexOf('<<', at);
  const end = text.indexOf('>>\n', start);
  return text.slice(start, end + 2);
}

export function validatePdf(buf: Buffer): ValidatedPdf {
  const text = buf.toString('latin1');
  assert.ok(text.startsWith('%PDF-1.4\n'), 'header');
  assert.ok(text.endsWith('%%EOF\n'), 'ends with %%EOF');
  const startxref = /startxref\n(\d+)\n%%EOF\n$/.exec(text);
  assert.ok(startxref, 'startxref');
  const xrefAt = Number(startxref[1]);
  assert.equal(text.slice(xrefAt, xrefAt + 5), 'xref\n');
  const sub = /^xref\n0 (\d+)\n/.exec(text.slice(xrefAt, xrefAt + 40));
  assert.ok(sub, 'xref subsection');
  const size = Number(sub[1]);
  const entriesAt = xrefAt + sub[0].length;
  const offsets: number[] = [];
  for (let n = 0; n < size; n++) {
    const entry = text.slice(entriesAt + 20 * n, entriesAt + 20 * (n + 1));
    assert.match(entry, /^\d{10} \d{5} [nf]\r\n$/, `xref entry ${n}`);
    offsets.push(Number(entry.slice(0, 10)));
    if (n > 0) {
      const off = offsets[n] as number;
      assert.equal(text.slice(off, off + `${n} 0 obj\n`.length), `${n} 0 obj\n`, `object ${n} at its xref offset`);
    }
  }
  const trailerAt = entriesAt + 20 * size;
  const trailer = dictAt(text, trailerAt);
  assert.ok(text.slice(trailerAt).startsWith('trailer\n'), 'trailer follows the xref');
  assert.match(trailer, new RegExp(`/Size ${size}\\b`));
  const root = /\/Root (\d+) 0 R/.exec(trailer);
  assert.ok(root, 'trailer /Root');
  const catalog = dictAt(text, offsets[Number(root[1])] as number);
  assert.match(catalog, /\/Type \/Catalog/);
  const pagesRef = /\/Pages (\d+) 0 R/.exec(catalog);
  assert.ok(pagesRef);
  const pagesDict = dictAt(text, offsets[Number(pagesRef[1])] as number);
  const count = Number(/\/Count (\d+)/.exec(pagesDict)?.[1]);
  const kids = [...(/\/Kids \[([^\]]*)\]/.exec(pagesDict)?.[1] ?? '').matchAll(/(\d+) 0 R/g)].map((m) => Number(m[1]));
  assert.equal(kids.length, count, 'kids match /Count');

  const images: Buffer[] = [];
  const widths: number[] = [];
  const heights: number[] = [];
  for (const kid of kids) {
    const page = dictAt(text, offsets[kid] as number);
    assert.match(page, /\/Type \/Page\b(?!s)/);
    const imageRef = Number(/\/Im0 (\d+) 0 R/.exec(page)?.[1]);
    const imageAt = offsets[imageRef] as number;
    const dict = dictAt(text, imageAt);
    const length = Number(/\/Length (\d+)/.exec(dict)?.[1]);
    const width = Number(/\/Width (\d+)/.exec(dict)?.[1]);
    const height = Number(/\/Height (\d+)/.exec(dict)?.[1]);
    assert.match(dict, /\/BitsPerComponent 1\b/);
    assert.match(dict, /\/Filter \/RunLengthDecode\b/);
    const dataAt = text.indexOf('>>\nstream\n', imageAt) + '>>\nstream\n'.length;
    assert.equal(text.slice(dataAt + length, dataAt + length + 10), '\nendstream', 'stream /Length is exact');
    const { out, used } = decodePackBits(buf, dataAt, width / 8, height);
    assert.equal(buf[dataAt + used], 128, 'RunLengthDecode end-of-data marker');
    assert.equal(used + 1, length, 'image data fills the stream exactly');
    images.push(out);
    widths.push(width);
    heights.push(height);
  }
  const pageObjects = (text.match(/\/Type \/Page\b(?!s)/g) ?? []).length;
  assert.equal(pageObjects, count, '/Type /Page objects match /Count');
  return { pages: count, images, widths, heights };
}

export interface ValidatedTiffPage {
  width: number;
  height: number;
  xResolution: number;
  yResolution: number;
  image: Buffer;
}

export function validateTiff(buf: Buffer): ValidatedTiffPage[] {
  assert.equal(buf.toString('latin1', 0, 4), 'II*\0', 'little-endian TIFF header');
  const pages: ValidatedTiffPage[] = [];
  let offset = buf.readUInt32LE(4);
  const seen = new Set<number>();
  while (offset !== 0) {
    assert.ok(!seen.has(offset), 'IFD loop');
    seen.add(offset);
    assert.equal(offset % 2, 0, 'IFD on a word boundary');
    const count = buf.readUInt16LE(offset);
    const tags = new Map<number, { type: number; count: number; valueAt: number }>();
    let previous = -1;
    for (let e = 0; e < count; e++) {
      const at = offset + 2 + 12 * e;
      const tag = buf.readUInt16LE(at);
      assert.ok(tag > previous, 'tags ascending');
      previous = tag;
      tags.set(tag, { type: buf.readUInt16LE(at + 2), count: buf.readUInt32LE(at + 4), valueAt: at + 8 });
    }
    const value = (tag: number): number => {
      const t = tags.get(tag);
      assert.ok(t, `tag ${tag} present`);
      return t.type === 3 ? buf.readUInt16LE(t.valueAt) : buf.readUInt32LE(t.valueAt);
    };
    const rational = (tag: number): number => {
      const t = tags.get(tag);
      assert.ok(t && t.type === 5, `rational tag ${tag}`);
      const at = buf.readUInt32LE(t.valueAt);
      return buf.readUInt32LE(at) / buf.readUInt32LE(at + 4);
    };
    const width = value(256);
    const height = value(257);
    assert.equal(value(258), 1, 'bilevel');
    assert.equal(value(259), 32773, 'PackBits');
    assert.equal(value(278), height, 'one strip per page');
    const stripOffset = value(273);
    const stripBytes = value(279);
    assert.ok(stripOffset + stripBytes <= buf.length, 'strip inside the file');
    const { out, used } = decodePackBits(buf, stripOffset, width / 8, height);
    assert.equal(used, stripBytes, 'StripByteCounts is exact');
    pages.push({ width, height, xResolution: rational(282), yResolution: rational(283), image: out });
    offset = buf.readUInt32LE(offset + 2 + 12 * count);
    assert.ok(offset < buf.length, 'next IFD inside the file');
  }
  return pages;
}
