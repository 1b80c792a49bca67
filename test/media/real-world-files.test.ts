/**
 * Page counting on files as real-world writers make them (issue 12 §4): PDFs whose page objects hide
 * in compressed object streams, PDFs updated incrementally (a page added, then removed), and TIFFs
 * with several strips per page and a thumbnail IFD. The emulator serves the same files
 * (`world.realWorldFiles`), see test/archive/real-world-media.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realWorldFile, REAL_WORLD_FILE_KINDS } from '../../src/emulator/media/real-world-files.js';
import { countPages, mediaKindFromMagic, mediaStructureOk } from '../../src/archive/media-inspection.js';

const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-real-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function fileWith(bytes: Buffer): string {
  const path = join(dir, `f${++n}`);
  writeFileSync(path, bytes);
  return path;
}
const naivePdfPages = (b: Buffer) => (b.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g) ?? []).length;

describe('countPages on real-world files', () => {
  for (const kind of REAL_WORLD_FILE_KINDS) {
    for (const pages of [1, 3, 7]) {
      it(`counts ${pages} page(s) of a ${kind} file, and its structure holds`, async () => {
        const bytes = realWorldFile(kind, pages, 'FXtest');
        const type = mediaKindFromMagic(bytes)!;
        expect(type).toBe(kind === 'multi-strip' ? 'tiff' : 'pdf');
        const path = fileWith(bytes);
        const counted = await countPages(path, type);
        expect(counted).toBe(pages);
        expect(await mediaStructureOk(path, type, counted)).toBe(true);
      });
    }
  }

  it('the PDF fixtures have teeth: counting /Type /Page tokens gets them wrong', () => {
    expect(naivePdfPages(realWorldFile('object-streams', 3, 'x'))).toBe(0);
    expect(naivePdfPages(realWorldFile('incremental-update', 3, 'x'))).toBe(4);
  });

  it('a PDF cut before its end has no %%EOF: its structure does not hold', async () => {
    const bytes = realWorldFile('object-streams', 2, 'x');
    const path = fileWith(bytes.subarray(0, bytes.length - 40));
    expect(await mediaStructureOk(path, 'pdf', await countPages(path, 'pdf'))).toBe(false);
  });
});
