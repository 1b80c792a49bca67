/**
 * A valid little-endian multi-page TIFF for an emulated fax: one IFD per page, chained, each page
 * a bilevel 1-bit PackBits image (Compression 32773, WhiteIsZero) in one strip, with the fax's
 * resolution (204 x 98/196/392 dpi) and PageNumber.
 *
 * Every page has the same layout and length, so all offsets follow from the page index:
 *   header (8) | page 0 | page 1 | ...
 *   page = IFD | XResolution | YResolution | ImageDescription | strip data | pad to even
 * (TIFF wants IFDs on word boundaries, hence the pad.)
 */
import type { FaxMediaSpec } from './fax-media.js';
import {
  HORIZONTAL_DPI,
  PAGE_WIDTH_PIXELS,
  pageRasterSize,
  pageRows,
  pageSeed,
  verticalDpi,
} from './fax-page-raster.js';
import type { MediaPart } from './media-parts.js';
import { metadataSafeText } from './metadata-text.js';

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const RATIONAL = 5;
const TAG_COUNT = 16;
const IFD_BYTES = 2 + TAG_COUNT * 12 + 4;

interface PageLayout {
  /** Bytes of one page before its strip: IFD, resolutions, description (even length). */
  headBytes: number;
  stripBytes: number;
  /** headBytes + stripBytes + pad. */
  pageBytes: number;
  description: Uint8Array;
}

function layout(spec: FaxMediaSpec): PageLayout {
  const description = Buffer.from(`Fax ${metadataSafeText(spec.faxSid)}\0`, 'latin1');
  const descriptionBytes = description.length + (description.length % 2);
  const headBytes = IFD_BYTES + 8 + 8 + descriptionBytes;
  const stripBytes = pageRasterSize(spec.quality, false);
  const pageBytes = headBytes + stripBytes + (stripBytes % 2);
  return { headBytes, stripBytes, pageBytes, description };
}

export function* tiffParts(spec: FaxMediaSpec): Generator<MediaPart> {
  const pages = spec.numPages;
  const page = layout(spec);
  const rows = pageRows(spec.quality);
  const ydpi = verticalDpi(spec.quality);

  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  yield header;

  for (let i = 0; i < pages; i++) {
    const start = 8 + i * page.pageBytes;
    const xResOffset = start + IFD_BYTES;
    const yResOffset = xResOffset + 8;
    const descOffset = yResOffset + 8;
    const stripOffset = start + page.headBytes;
    const nextIfd = i + 1 < pages ? start + page.pageBytes : 0;

    const head = Buffer.alloc(page.headBytes);
    head.writeUInt16LE(TAG_COUNT, 0);
    let p = 2;
    const entry = (tag: number, type: number, count: number, value: number): void => {
      head.writeUInt16LE(tag, p);
      head.writeUInt16LE(type, p + 2);
      head.writeUInt32LE(count, p + 4);
      // SHORT values sit in the first two bytes of the value field (little-endian: same as a LONG).
      head.writeUInt32LE(value, p + 8);
      p += 12;
    };
    // Tags in ascending order, as TIFF requires.
    entry(254, LONG, 1, 2); // NewSubfileType: one page of a multi-page document
    entry(256, SHORT, 1, PAGE_WIDTH_PIXELS); // ImageWidth
    entry(257, LONG, 1, rows); // ImageLength
    entry(258, SHORT, 1, 1); // BitsPerSample
    entry(259, SHORT, 1, 32773); // Compression: PackBits
    entry(262, SHORT, 1, 0); // PhotometricInterpretation: WhiteIsZero (fax convention)
    entry(266, SHORT, 1, 1); // FillOrder: most significant bit first
    entry(270, ASCII, page.description.length, descOffset); // ImageDescription
    entry(273, LONG, 1, stripOffset); // StripOffsets
    entry(277, SHORT, 1, 1); // SamplesPerPixel
    entry(278, LONG, 1, rows); // RowsPerStrip: the page is one strip
    entry(279, LONG, 1, page.stripBytes); // StripByteCounts
    entry(282, RATIONAL, 1, xResOffset); // XResolution
    entry(283, RATIONAL, 1, yResOffset); // YResolution
    entry(296, SHORT, 1, 2); // ResolutionUnit: inch
    entry(297, SHORT, 2, ((i & 0xffff) | (pages << 16)) >>> 0); // PageNumber: [index, total]
    head.writeUInt32LE(nextIfd, p);
    head.writeUInt32LE(HORIZONTAL_DPI, IFD_BYTES);
    head.writeUInt32LE(1, IFD_BYTES + 4);
    head.writeUInt32LE(ydpi, IFD_BYTES + 8);
    head.writeUInt32LE(1, IFD_BYTES + 12);
    head.set(page.description, IFD_BYTES + 16);
    yield head;

    yield { quality: spec.quality, seed: pageSeed(spec.faxSid, spec.seed, i), withEndOfData: false };
    if (page.stripBytes % 2 === 1) yield Buffer.alloc(1);
  }
}
