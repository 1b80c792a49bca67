import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFaxMediaStream, faxMediaSize, type FaxMediaSpec } from '../../src/emulator/media/fax-media.js';
import { validatePdf, validateTiff } from './media-validators.js';
import { readAll } from './read-stream.js';

const SID = 'FX0123456789abcdef0123456789abcdef';
const ROWS = { standard: 1078, fine: 2156, superfine: 4312 } as const;
const DPI = { standard: 98, fine: 196, superfine: 392 } as const;
const QUALITIES = ['standard', 'fine', 'superfine'] as const;

function spec(overrides: Partial<FaxMediaSpec> = {}): FaxMediaSpec {
  return { faxSid: SID, seed: 42, contentType: 'application/pdf', numPages: 2, quality: 'standard', ...overrides };
}

async function bytesOf(s: FaxMediaSpec): Promise<Buffer> {
  return (await readAll(createFaxMediaStream(s))).bytes;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('PDF media', () => {
  for (const quality of QUALITIES) {
    it(`is a valid ${quality} PDF with exactly numPages pages and the size announced up front`, async () => {
      const s = spec({ quality, numPages: 3 });
      const bytes = await bytesOf(s);
      expect(bytes.length).toBe(faxMediaSize(s));
      const pdf = validatePdf(bytes);
      expect(pdf.pages).toBe(3);
      expect(pdf.widths).toEqual([1728, 1728, 1728]);
      expect(pdf.heights).toEqual([ROWS[quality], ROWS[quality], ROWS[quality]]);
    });
  }

  it('has one page when numPages is 1, and many when asked', async () => {
    for (const numPages of [1, 12]) {
      const s = spec({ numPages });
      const bytes = await bytesOf(s);
      expect(bytes.length).toBe(faxMediaSize(s));
      expect(validatePdf(bytes).pages).toBe(numPages);
    }
  });
});

describe('TIFF media', () => {
  for (const quality of QUALITIES) {
    it(`is a valid ${quality} multi-page TIFF with one IFD per page and the announced size`, async () => {
      const s = spec({ quality, numPages: 3, contentType: 'image/tiff' });
      const bytes = await bytesOf(s);
      expect(bytes.length).toBe(faxMediaSize(s));
      const pages = validateTiff(bytes);
      expect(pages).toHaveLength(3);
      for (const page of pages) {
        expect(page.width).toBe(1728);
        expect(page.height).toBe(ROWS[quality]);
        expect(page.xResolution).toBe(204);
        expect(page.yResolution).toBe(DPI[quality]);
      }
    });
  }

  it('has one IFD when numPages is 1', async () => {
    const s = spec({ numPages: 1, contentType: 'image/tiff' });
    const bytes = await bytesOf(s);
    expect(bytes.length).toBe(faxMediaSize(s));
    expect(validateTiff(bytes)).toHaveLength(1);
  });
});

describe('determinism and variety', () => {
  it('gives the same bytes for the same spec', async () => {
    for (const contentType of ['application/pdf', 'image/tiff'] as const) {
      const s = spec({ contentType, quality: 'fine' });
      expect(sha256(await bytesOf(s))).toBe(sha256(await bytesOf({ ...s })));
    }
  });

  it('gives different bytes for a different fax sid or seed, at the same size', async () => {
    for (const contentType of ['application/pdf', 'image/tiff'] as const) {
      const base = spec({ contentType });
      const other = { ...base, faxSid: 'FX0123456789abcdef0123456789abcdee' };
      const reseeded = { ...base, seed: 43 };
      const hashes = new Set([sha256(await bytesOf(base)), sha256(await bytesOf(other)), sha256(await bytesOf(reseeded))]);
      expect(hashes.size).toBe(3);
      expect(faxMediaSize(other)).toBe(faxMediaSize(base));
    }
  });

  it('draws a different image on every page, the same image in PDF and TIFF', async () => {
    const s = spec({ numPages: 3 });
    const pdf = validatePdf(await bytesOf(s));
    const tiff = validateTiff(await bytesOf({ ...s, contentType: 'image/tiff' }));
    const pdfHashes = pdf.images.map(sha256);
    expect(new Set(pdfHashes).size).toBe(3);
    expect(tiff.map((p) => sha256(p.image))).toEqual(pdfHashes);
  });

  it('looks like a text page: white margins, ink rows, not blank', async () => {
    const [image] = validatePdf(await bytesOf(spec({ numPages: 1 }))).images;
    const rowBytes = 216;
    const ink = (row: number): number => {
      let bits = 0;
      for (const b of image!.subarray(row * rowBytes, (row + 1) * rowBytes)) bits += popcount(b);
      return bits;
    };
    expect(ink(0)).toBe(0); // top margin
    expect(ink(ROWS.standard - 1)).toBe(0); // bottom margin
    let inkRows = 0;
    let blackBits = 0;
    for (let row = 0; row < ROWS.standard; row++) {
      const bits = ink(row);
      if (bits > 0) inkRows++;
      blackBits += bits;
    }
    expect(inkRows).toBeGreaterThan(ROWS.standard / 3);
    expect(inkRows).toBeLessThan(ROWS.standard);
    const density = blackBits / (ROWS.standard * 1728);
    expect(density).toBeGreaterThan(0.01);
    expect(density).toBeLessThan(0.2);
  });
});

describe('size and streaming', () => {
  it('has a realistic size per page: tens to about two hundred KB', () => {
    for (const contentType of ['application/pdf', 'image/tiff'] as const) {
      for (const quality of QUALITIES) {
        const perPage = (faxMediaSize(spec({ contentType, quality, numPages: 10 })) - faxMediaSize(spec({ contentType, quality, numPages: 9 })));
        expect(perPage).toBeGreaterThan(30 * 1024);
        expect(perPage).toBeLessThanOrEqual(200 * 1024);
      }
    }
  });

  it('computes the size of a very long fax without generating it', () => {
    // 5000 superfine pages would be ~1 GB: only the arithmetic runs here.
    const size = faxMediaSize(spec({ quality: 'superfine', numPages: 5000 }));
    expect(size).toBeGreaterThan(5000 * 190 * 1024);
    expect(size).toBe(faxMediaSize(spec({ quality: 'superfine', numPages: 5000 })));
  });

  it('streams in chunks of at most 64 KB', async () => {
    const { bytes, chunkSizes } = await readAll(createFaxMediaStream(spec({ quality: 'superfine', numPages: 2 })));
    expect(Math.max(...chunkSizes)).toBeLessThanOrEqual(64 * 1024);
    expect(chunkSizes.length).toBeGreaterThan(5);
    expect(bytes.length).toBe(faxMediaSize(spec({ quality: 'superfine', numPages: 2 })));
  });

  it('stops generating when destroyed half-way', async () => {
    const stream = createFaxMediaStream(spec({ quality: 'superfine', numPages: 50 }));
    let seen = 0;
    for await (const chunk of stream) {
      seen += (chunk as Buffer).length;
      if (seen > 200_000) break; // for-await's break destroys the stream
    }
    expect(stream.destroyed).toBe(true);
    expect(seen).toBeLessThan(faxMediaSize(spec({ quality: 'superfine', numPages: 50 })));
  });

  it('refuses impossible specs', () => {
    expect(() => faxMediaSize(spec({ numPages: 0 }))).toThrow(RangeError);
    expect(() => faxMediaSize(spec({ numPages: 1.5 }))).toThrow(RangeError);
    expect(() => createFaxMediaStream(spec({ contentType: 'text/plain' as never }))).toThrow(RangeError);
    expect(() => faxMediaSize(spec({ quality: 'ultra' as never }))).toThrow(RangeError);
  });

  it('keeps odd characters in a sid out of the file structure', async () => {
    const s = spec({ faxSid: 'FX) /Type /Page (é\n', numPages: 2 });
    const bytes = await bytesOf(s);
    expect(bytes.length).toBe(faxMediaSize(s));
    expect(validatePdf(bytes).pages).toBe(2);
    const t = { ...s, contentType: 'image/tiff' as const };
    const tiffBytes = await bytesOf(t);
    expect(tiffBytes.length).toBe(faxMediaSize(t));
    expect(validateTiff(tiffBytes)).toHaveLength(2);
  });
});

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x; x &= x - 1) n++;
  return n;
}
