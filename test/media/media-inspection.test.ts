import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaxMediaStream, type FaxMediaSpec } from '../../src/emulator/media/fax-media.js';
import {
  countPages,
  fileExtensionFor,
  mediaKindForContentType,
  mediaKindFromMagic,
} from '../../src/archive/media-inspection.js';
import { readAll } from './read-stream.js';

let dir: string;
let fileNumber = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-inspection-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, `f${fileNumber++}`);
  await writeFile(path, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return path;
}

async function emulatorMedia(overrides: Partial<FaxMediaSpec>): Promise<Buffer> {
  const spec: FaxMediaSpec = {
    faxSid: 'FXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', seed: 3, contentType: 'application/pdf', numPages: 1, quality: 'standard', ...overrides,
  };
  return (await readAll(createFaxMediaStream(spec))).bytes;
}

describe('mediaKindFromMagic', () => {
  it('recognises PDF and both TIFF byte orders', () => {
    expect(mediaKindFromMagic(Buffer.from('%PDF-1.7\n'))).toBe('pdf');
    expect(mediaKindFromMagic(Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]))).toBe('tiff');
    expect(mediaKindFromMagic(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toBe('tiff');
    expect(mediaKindFromMagic(Buffer.from([0x49, 0x49, 0x2b, 0x00, 8, 0, 0, 0]))).toBe('tiff'); // BigTIFF
  });

  it('refuses everything else, including short and near-miss input', () => {
    expect(mediaKindFromMagic(Buffer.from('%PDF'))).toBeNull();
    expect(mediaKindFromMagic(Buffer.from('<html><body>403 Forbidden'))).toBeNull();
    expect(mediaKindFromMagic(Buffer.from('<?xml version="1.0"?><Error>'))).toBeNull();
    expect(mediaKindFromMagic(Buffer.from([0x49, 0x49, 0x00, 0x2a]))).toBeNull(); // II with MM's order
    expect(mediaKindFromMagic(Buffer.from([0x4d, 0x4d, 0x2a, 0x00]))).toBeNull();
    expect(mediaKindFromMagic(new Uint8Array())).toBeNull();
  });
});

describe('mediaKindForContentType', () => {
  it('reads the media type, ignoring case and parameters', () => {
    expect(mediaKindForContentType('application/pdf')).toBe('pdf');
    expect(mediaKindForContentType('Application/PDF; charset=binary')).toBe('pdf');
    expect(mediaKindForContentType(' image/tiff ')).toBe('tiff');
    expect(mediaKindForContentType('IMAGE/TIFF;application=faxbw')).toBe('tiff');
  });

  it('is null for other types and for a missing header', () => {
    expect(mediaKindForContentType(null)).toBeNull();
    expect(mediaKindForContentType('')).toBeNull();
    expect(mediaKindForContentType('application/octet-stream')).toBeNull();
    expect(mediaKindForContentType('text/html; charset=utf-8')).toBeNull();
    expect(mediaKindForContentType('application/pdfx')).toBeNull();
  });
});

describe('fileExtensionFor', () => {
  it('maps kinds to the object key extensions', () => {
    expect(fileExtensionFor('pdf')).toBe('pdf');
    expect(fileExtensionFor('tiff')).toBe('tiff');
  });
});

describe('countPages on emulator media', () => {
  for (const numPages of [1, 2, 7]) {
    for (const contentType of ['application/pdf', 'image/tiff'] as const) {
      it(`counts ${numPages} page(s) of ${contentType}`, async () => {
        const bytes = await emulatorMedia({ numPages, contentType });
        const kind = mediaKindFromMagic(bytes.subarray(0, 8));
        expect(kind).toBe(mediaKindForContentType(contentType));
        expect(await countPages(await fileWith(bytes), kind!)).toBe(numPages);
      });
    }
  }

  it('counts pages in files larger than its read chunk (superfine)', async () => {
    const pdf = await emulatorMedia({ numPages: 4, quality: 'superfine' });
    expect(pdf.length).toBeGreaterThan(512 * 1024);
    expect(await countPages(await fileWith(pdf), 'pdf')).toBe(4);
    const tiff = await emulatorMedia({ numPages: 4, quality: 'superfine', contentType: 'image/tiff' });
    expect(await countPages(await fileWith(tiff), 'tiff')).toBe(4);
  });
});

describe('countPages on hand-made PDFs', () => {
  it('counts a /Type /Page token wherever it falls across a read-chunk border', async () => {
    const token = '/Type /Page';
    // Read chunks are 256 KB; place the token's start just before, on and after that border.
    const border = 256 * 1024;
    for (let shift = -14; shift <= 2; shift++) {
      const head = '%PDF-1.4\n%';
      const filler = 'x'.repeat(border + shift - head.length - 1);
      const text = `${head}${filler}\n${token} >>\n1 0 obj << ${token} >> endobj\n%%EOF\n`;
      expect(text.indexOf(token)).toBe(border + shift);
      expect(await countPages(await fileWith(text), 'pdf'), `shift ${shift}`).toBe(2);
    }
  });

  it('counts /Page with any whitespace or none, never /Pages or longer names', async () => {
    const text = [
      '%PDF-1.4',
      '1 0 obj << /Type /Catalog /Pages 2 0 R /PageLabels 9 0 R >> endobj',
      '2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj',
      '3 0 obj << /Type/Page/Parent 2 0 R >> endobj',
      '4 0 obj << /Type\r\n\t/Page >> endobj',
      '5 0 obj << /Parent 2 0 R /Type /Page>> endobj',
      '6 0 obj << /Type /PageX /Typewriter /Page >> endobj',
      '%%EOF',
    ].join('\n');
    expect(await countPages(await fileWith(text), 'pdf')).toBe(3);
  });

  it('falls back to the root /Count when page objects are hidden in object streams', async () => {
    const text = '%PDF-1.5\n1 0 obj << /Type /Pages /Kids [4 0 R 5 0 R] /Count 5 >> endobj\n' +
      '4 0 obj << /Type /Pages /Count 2 >> endobj\n%%EOF\n';
    expect(await countPages(await fileWith(text), 'pdf')).toBe(5);
  });

  it('cannot tell for a file that is not a PDF or has no pages', async () => {
    expect(await countPages(await fileWith('<html>Access denied</html>'), 'pdf')).toBeNull();
    expect(await countPages(await fileWith(''), 'pdf')).toBeNull();
    expect(await countPages(await fileWith('%PDF-1.4\n%%EOF\n'), 'pdf')).toBeNull();
  });

  it('counts fewer pages in a truncated download', async () => {
    const pdf = await emulatorMedia({ numPages: 3 });
    const truncated = pdf.subarray(0, Math.floor(pdf.length / 2));
    const count = await countPages(await fileWith(truncated), 'pdf');
    expect(count).not.toBe(3);
  });
});

/** Builds a classic TIFF: each IFD has only NewSubfileType (so thumbnails can be marked). */
function handMadeTiff(order: 'II' | 'MM', subfileTypes: number[], nextOverride?: (index: number, offsets: number[]) => number): Buffer {
  const le = order === 'II';
  const ifdBytes = 2 + 12 + 4;
  const buf = Buffer.alloc(8 + ifdBytes * subfileTypes.length);
  const u16 = (v: number, at: number): void => { le ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at); };
  const u32 = (v: number, at: number): void => { le ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at); };
  buf.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  const offsets = subfileTypes.map((_, i) => 8 + i * ifdBytes);
  subfileTypes.forEach((type, i) => {
    const at = offsets[i]!;
    u16(1, at);
    u16(254, at + 2);
    u16(4, at + 4);
    u32(1, at + 6);
    u32(type, at + 10);
    const next = nextOverride ? nextOverride(i, offsets) : (offsets[i + 1] ?? 0);
    u32(next, at + 14);
  });
  return buf;
}

describe('countPages on hand-made TIFFs', () => {
  it('walks big-endian and little-endian chains', async () => {
    expect(await countPages(await fileWith(handMadeTiff('MM', [2, 2, 2])), 'tiff')).toBe(3);
    expect(await countPages(await fileWith(handMadeTiff('II', [0, 0])), 'tiff')).toBe(2);
  });

  it('does not count a reduced-resolution (thumbnail) IFD as a page', async () => {
    expect(await countPages(await fileWith(handMadeTiff('II', [0, 1, 0])), 'tiff')).toBe(2);
  });

  it('cannot tell when the chain loops', async () => {
    const loop = handMadeTiff('II', [0, 0, 0], (i, offsets) => (i === 2 ? offsets[0]! : offsets[i + 1]!));
    expect(await countPages(await fileWith(loop), 'tiff')).toBeNull();
    const self = handMadeTiff('MM', [0], (_i, offsets) => offsets[0]!);
    expect(await countPages(await fileWith(self), 'tiff')).toBeNull();
  });

  it('cannot tell when an offset points outside the file or into the header', async () => {
    expect(await countPages(await fileWith(handMadeTiff('II', [0, 0], (i, o) => (i === 1 ? 10_000_000 : o[i + 1]!))), 'tiff')).toBeNull();
    expect(await countPages(await fileWith(handMadeTiff('II', [0, 0], (i, o) => (i === 1 ? 4 : o[i + 1]!))), 'tiff')).toBeNull();
  });

  it('cannot tell for a truncated emulator TIFF', async () => {
    const tiff = await emulatorMedia({ numPages: 3, contentType: 'image/tiff' });
    expect(await countPages(await fileWith(tiff.subarray(0, Math.floor(tiff.length / 2))), 'tiff')).toBeNull();
    expect(await countPages(await fileWith(tiff.subarray(0, 20)), 'tiff')).toBeNull();
  });

  it('cannot tell for a file that is not a TIFF, or a PDF read as a TIFF', async () => {
    expect(await countPages(await fileWith('not a tiff at all'), 'tiff')).toBeNull();
    expect(await countPages(await fileWith(await emulatorMedia({ numPages: 2 })), 'tiff')).toBeNull();
  });

  it('walks a BigTIFF chain', async () => {
    // Header 16 bytes, then two IFDs of one entry each: 8 (count) + 20 (entry) + 8 (next).
    const ifdBytes = 36;
    const buf = Buffer.alloc(16 + 2 * ifdBytes);
    buf.write('II', 0, 'latin1');
    buf.writeUInt16LE(43, 2);
    buf.writeUInt16LE(8, 4);
    buf.writeBigUInt64LE(16n, 8);
    for (let i = 0; i < 2; i++) {
      const at = 16 + i * ifdBytes;
      buf.writeBigUInt64LE(1n, at);
      buf.writeUInt16LE(256, at + 8); // ImageWidth
      buf.writeUInt16LE(3, at + 10);
      buf.writeBigUInt64LE(1n, at + 12);
      buf.writeUInt16LE(1728, at + 20);
      buf.writeBigUInt64LE(i === 0 ? BigInt(16 + ifdBytes) : 0n, at + 28);
    }
    expect(await countPages(await fileWith(buf), 'tiff')).toBe(2);
  });
});

describe('countPages errors', () => {
  it('rejects (does not answer null) when the file does not exist', async () => {
    await expect(countPages(join(dir, 'missing'), 'pdf')).rejects.toThrow(/ENOENT/);
  });
});
