/**
 * A minimal, valid PDF 1.4 for an emulated fax: one page object per fax page, each drawing one
 * full-page 1-bit image XObject (/RunLengthDecode, see fax-page-raster.ts), then a classic
 * cross-reference table with exact byte offsets, the trailer and %%EOF.
 *
 * Object numbers: 1 Catalog, 2 Pages, 3 Info; page i (0-based) uses 4+3i (Page), 5+3i (content
 * stream), 6+3i (image). Described as parts (media-parts.ts) so length and bytes come from one place.
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
import { latin1, type MediaPart } from './media-parts.js';
import { metadataSafeText } from './metadata-text.js';

/** The header's second line is a comment of bytes >= 128, which tells transfer tools the file is binary. */
const HEADER = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1');
const XREF_ENTRIES_PER_PART = 3000; // 20 bytes each: ~60 KB literal parts

function pad10(n: number): string {
  return String(n).padStart(10, '0');
}

export function* pdfParts(spec: FaxMediaSpec): Generator<MediaPart> {
  const pages = spec.numPages;
  const quality = spec.quality;
  const objectCount = 3 + 3 * pages;
  // offsets[n] = byte offset of object n; offsets[0] is the free-list head.
  const offsets = new Array<number>(objectCount + 1).fill(0);
  let pos = 0;
  function* literal(text: string): Generator<MediaPart> {
    const bytes = latin1(text);
    pos += bytes.length;
    yield bytes;
  }

  pos += HEADER.length;
  yield HEADER;

  offsets[1] = pos;
  yield* literal('1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n');

  offsets[2] = pos;
  const kids: string[] = [];
  for (let i = 0; i < pages; i++) kids.push(`${4 + 3 * i} 0 R`);
  yield* literal(`2 0 obj\n<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>\nendobj\n`);

  offsets[3] = pos;
  const title = metadataSafeText(spec.faxSid);
  yield* literal(`3 0 obj\n<< /Title (${title}) /Producer (fax-sunset emulator) /Creator (Twilio Programmable Fax) >>\nendobj\n`);

  // The page is drawn at its physical size: 1728 px at 204 dpi by the rows at the quality's dpi.
  const rows = pageRows(quality);
  const widthPt = round2((PAGE_WIDTH_PIXELS / HORIZONTAL_DPI) * 72);
  const heightPt = round2((rows / verticalDpi(quality)) * 72);
  const content = `q ${widthPt} 0 0 ${heightPt} 0 0 cm /Im0 Do Q\n`;
  const rasterLength = pageRasterSize(quality, true);

  for (let i = 0; i < pages; i++) {
    const pageObj = 4 + 3 * i;
    offsets[pageObj] = pos;
    yield* literal(
      `${pageObj} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${widthPt} ${heightPt}] ` +
        `/Resources << /XObject << /Im0 ${pageObj + 2} 0 R >> >> /Contents ${pageObj + 1} 0 R >>\nendobj\n`,
    );
    offsets[pageObj + 1] = pos;
    yield* literal(`${pageObj + 1} 0 obj\n<< /Length ${content.length} >>\nstream\n${content}endstream\nendobj\n`);
    offsets[pageObj + 2] = pos;
    // /Decode [1 0]: a 0 bit is white, as in fax (TIFF WhiteIsZero), so PDF and TIFF share the raster.
    yield* literal(
      `${pageObj + 2} 0 obj\n<< /Type /XObject /Subtype /Image /Width ${PAGE_WIDTH_PIXELS} /Height ${rows} ` +
        `/ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0] /Filter /RunLengthDecode /Length ${rasterLength} >>\nstream\n`,
    );
    pos += rasterLength;
    yield { quality, seed: pageSeed(spec.faxSid, spec.seed, i), withEndOfData: true };
    yield* literal('\nendstream\nendobj\n');
  }

  const xrefOffset = pos;
  yield* literal(`xref\n0 ${objectCount + 1}\n`);
  // Each entry is exactly 20 bytes ("nnnnnnnnnn ggggg n\r\n"), as readers index into the table.
  for (let first = 0; first <= objectCount; first += XREF_ENTRIES_PER_PART) {
    let text = '';
    const last = Math.min(objectCount, first + XREF_ENTRIES_PER_PART - 1);
    for (let n = first; n <= last; n++) {
      text += n === 0 ? '0000000000 65535 f\r\n' : `${pad10(offsets[n] as number)} 00000 n\r\n`;
    }
    yield* literal(text);
  }
  const id = pageSeed(spec.faxSid, spec.seed, -1).toString(16).padStart(8, '0').repeat(4);
  yield* literal(
    `trailer\n<< /Size ${objectCount + 1} /Root 1 0 R /Info 3 0 R /ID [<${id}> <${id}>] >>\nstartxref\n${xrefOffset}\n%%EOF\n`,
  );
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
