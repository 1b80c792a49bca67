/**
 * The image data of one emulated fax page: a 1728-pixel-wide, 1-bit raster run-length encoded
 * with PackBits. PDF's /RunLengthDecode and TIFF's Compression=32773 are the same byte code, so
 * both writers share this module (the PDF variant only adds the end-of-data byte 128).
 *
 * Why PackBits and not Flate or CCITT G4: the media server must send Content-Length before it
 * generates a byte, so the encoded length of a page has to be a pure function of the spec.
 * We therefore pick the *shape* of every row from its row index alone (margins, text lines,
 * blank leading) and only the *content* (ink bits, word gaps) from the seeded PRNG. A blank row
 * always encodes to 4 bytes and an ink row always to 83, so a page's length is known up front,
 * while the bytes still look like a scanned text page (~47/94/188 KB per page by quality).
 *
 * Rows are packed separately, as TIFF requires for PackBits.
 */

export type FaxQuality = 'standard' | 'fine' | 'superfine';

/** A fax line is 1728 pixels (ITU-T T.4, 215 mm at ~204 dpi): 216 bytes at 1 bit per pixel. */
export const PAGE_WIDTH_PIXELS = 1728;
export const ROW_BYTES = PAGE_WIDTH_PIXELS / 8;
export const HORIZONTAL_DPI = 204;

/** Vertical resolution per Twilio quality (T.4 normal/fine and the 392-line superfine mode). */
const VERTICAL_DPI: Record<FaxQuality, number> = { standard: 98, fine: 196, superfine: 392 };

/** A US Letter page is 11 inches tall. */
const PAGE_HEIGHT_INCHES = 11;

export function verticalDpi(quality: FaxQuality): number {
  const dpi = VERTICAL_DPI[quality];
  if (dpi === undefined) throw new RangeError(`unknown fax quality: ${String(quality)}`);
  return dpi;
}

export function pageRows(quality: FaxQuality): number {
  return PAGE_HEIGHT_INCHES * verticalDpi(quality);
}

// Row encodings (PackBits: 0..127 = copy n+1 literal bytes; 129..255 = repeat the next byte 257-n times).
const BLANK_ROW_BYTES = 4; // white x128, white x88
const LEFT_MARGIN = 12; // bytes of white before the first word
const WORD_BYTES = 24; // literal bytes per "word" span
const WORDS_PER_ROW = 3;
const GAP_TOTAL = ROW_BYTES - LEFT_MARGIN - WORDS_PER_ROW * WORD_BYTES; // 132, split into 2 gaps + trailing white
const INK_ROW_BYTES = 2 + WORDS_PER_ROW * (1 + WORD_BYTES) + WORDS_PER_ROW * 2; // 83
/** The largest encoded row: a writer must have this much room before it starts a row. */
export const MAX_ENCODED_ROW_BYTES = INK_ROW_BYTES;

/** 1 for a row that carries text, 0 for a blank one; depends only on the quality. Cached. */
const rowKindCache = new Map<FaxQuality, { kinds: Uint8Array; inkRows: number }>();

function rowKinds(quality: FaxQuality): { kinds: Uint8Array; inkRows: number } {
  const cached = rowKindCache.get(quality);
  if (cached) return cached;
  const dpi = verticalDpi(quality);
  const rows = pageRows(quality);
  const kinds = new Uint8Array(rows);
  // Half-inch top and bottom margins, six text lines per inch, each line 60% ink and 40% leading.
  const margin = Math.round(dpi / 2);
  const pitch = dpi / 6;
  let inkRows = 0;
  for (let row = margin; row < rows - margin; row++) {
    const inLine = (row - margin) % pitch;
    if (inLine < pitch * 0.6) {
      kinds[row] = 1;
      inkRows++;
    }
  }
  const result = { kinds, inkRows };
  rowKindCache.set(quality, result);
  return result;
}

/** Exact encoded length of one page's raster (plus the PDF end-of-data byte when asked). */
export function pageRasterSize(quality: FaxQuality, withEndOfData: boolean): number {
  const { kinds, inkRows } = rowKinds(quality);
  const blankRows = kinds.length - inkRows;
  return inkRows * INK_ROW_BYTES + blankRows * BLANK_ROW_BYTES + (withEndOfData ? 1 : 0);
}

/**
 * Writes one page's raster into caller-provided buffers, a whole row at a time, so the caller
 * can stream a page in fixed-size chunks without holding it whole.
 */
export class PageRasterWriter {
  private row = 0;
  private state: number;
  private endOfDataWritten: boolean;
  private readonly kinds: Uint8Array;

  constructor(quality: FaxQuality, seed: number, withEndOfData: boolean) {
    this.kinds = rowKinds(quality).kinds;
    // xorshift32 must not start at 0 (it would stay 0 forever).
    this.state = seed >>> 0 || 0x9e3779b9;
    this.endOfDataWritten = !withEndOfData;
  }

  get done(): boolean {
    return this.row >= this.kinds.length && this.endOfDataWritten;
  }

  /**
   * Writes as many whole rows as fit into `out` from `pos`, returns the new position. Writes
   * nothing when fewer than MAX_ENCODED_ROW_BYTES are free (the caller flushes and comes back).
   */
  fill(out: Uint8Array, pos: number): number {
    const kinds = this.kinds;
    const rows = kinds.length;
    const limit = out.length - MAX_ENCODED_ROW_BYTES;
    let row = this.row;
    let s = this.state;
    let p = pos;
    while (row < rows && p <= limit) {
      if (kinds[row] === 0) {
        out[p] = 129; // 257-128: 128 white bytes
        out[p + 1] = 0;
        out[p + 2] = 169; // 257-88: 88 white bytes
        out[p + 3] = 0;
        p += 4;
      } else {
        out[p] = 257 - LEFT_MARGIN;
        out[p + 1] = 0;
        p += 2;
        // Two gaps of 2..61 bytes; the trailing white run takes the rest (10..128), so every
        // repeat run stays within PackBits' 2..128 range.
        s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
        const g1 = 2 + ((s >>> 0) % 60);
        const g2 = 2 + ((s >>> 16) % 60);
        for (let w = 0; w < WORDS_PER_ROW; w++) {
          out[p++] = WORD_BYTES - 1;
          // Ink density ~25%: AND of two random words, like sparse glyph strokes.
          for (let i = 0; i < WORD_BYTES; i += 4) {
            s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
            let a = s;
            s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
            a &= s;
            out[p] = a;
            out[p + 1] = a >>> 8;
            out[p + 2] = a >>> 16;
            out[p + 3] = a >>> 24;
            p += 4;
          }
          out[p] = 257 - (w === 0 ? g1 : w === 1 ? g2 : GAP_TOTAL - g1 - g2);
          out[p + 1] = 0;
          p += 2;
        }
      }
      row++;
    }
    this.row = row;
    this.state = s;
    if (row >= rows && !this.endOfDataWritten && p < out.length) {
      out[p++] = 128; // PDF RunLengthDecode end-of-data marker
      this.endOfDataWritten = true;
    }
    return p;
  }
}

/**
 * The PRNG seed of one page: a 32-bit hash of fax sid, emulator seed and page index, so pages
 * differ from each other and from every other fax, and the same spec always gives the same bytes.
 */
export function pageSeed(faxSid: string, seed: number, pageIndex: number): number {
  // FNV-1a over the sid, then the numbers folded in with murmur3's finaliser for avalanche.
  let h = 0x811c9dc5;
  for (let i = 0; i < faxSid.length; i++) {
    h ^= faxSid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h = fmix32(h ^ fmix32(seed >>> 0) ^ Math.imul(Math.floor(seed / 0x100000000) | 0, 0x85ebca6b));
  h = fmix32(h ^ Math.imul(pageIndex + 1, 0xc2b2ae35));
  return h >>> 0;
}

function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
