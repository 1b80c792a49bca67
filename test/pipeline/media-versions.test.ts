/**
 * Issue 11 §6, "A verified copy is never overwritten". When Twilio reports new media for a fax
 * already archived, the verified object used to be overwritten in place (a folder store lost the old
 * bytes; only an event kept the old hash). Now the new media goes under the next version's key,
 * the old object and its proof stay, and the catalog, the CSV and the report list every version.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { mediaKeyFor } from '../../src/archive/archive-fax.js';
import { mediaVersionKey } from '../../src/store/object-layout.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { runCli, sha256Hex, type CliRun } from '../archive/archive-cli.js';

const NOW = '2021-12-01T00:00:00Z';
let emu: TestEmulator;
let dir: string;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 3, accounts: 0, numbers: 2, seed: 1106 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-versions-'));
});
afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const catalogPath = () => join(dir, 'catalog.sqlite');
const store = () => join(dir, 'media');
const run = (args: string[]): Promise<CliRun> => runCli([...args, '--now', NOW, '--catalog', catalogPath(), '--quiet'], { cwd: dir, env: emu.env });

describe('new media for an archived fax', () => {
  it('goes under <FaxSid>.v2; the verified first version stays in the store and in the catalog, CSV and report', async () => {
    const first = await run(['archive', '--store', store()]);
    expect(first.code, first.stderr).toBe(0);
    const catalog = openCatalog(catalogPath(), { readonly: true });
    const before = [...catalog.iterateFaxes()].find((f) => f.state === 'verified')!;
    catalog.close();
    const v1 = before.objects.find((o) => o.kind === 'media')!;
    const v1Bytes = readFileSync(join(store(), v1.key));
    expect(sha256Hex(v1Bytes)).toBe(v1.sha256Hex);

    expect(emu.emulator.updateFax(before.sid, { media: 'changed' })).toBeTruthy();
    const again = await run(['archive', '--store', store(), '--csv', join(dir, 'faxes.csv')]);
    expect(again.code, again.stderr).toBe(0);

    const after = openCatalog(catalogPath(), { readonly: true });
    const row = after.getFax(before.sid)!;
    after.close();
    expect(row.state).toBe('verified');
    const v2 = row.objects.find((o) => o.kind === 'media')!;
    expect(v2.sha256Hex).not.toBe(v1.sha256Hex);
    expect(v2.key).toBe(v1.key.replace(/\.(pdf|tiff)$/, '.v2.$1'));
    expect(sha256Hex(readFileSync(join(store(), v2.key)))).toBe(v2.sha256Hex);
    // The first version: its bytes untouched, its row and proof kept.
    expect(readFileSync(join(store(), v1.key)).equals(v1Bytes)).toBe(true);
    expect(row.previousObjects).toEqual([
      expect.objectContaining({ kind: 'media', key: v1.key, sha256Hex: v1.sha256Hex, verifiedAt: v1.verifiedAt, verificationMethod: v1.verificationMethod }),
    ]);

    // Keys and hashes hold no comma or quote, so a plain split reads this row.
    const [header, ...lines] = readFileSync(join(dir, 'faxes.csv'), 'utf8').trim().split('\n');
    const columns = header!.split(',');
    const cells = lines.find((l) => l.startsWith(`${before.sid},`))!.split(',');
    expect(cells[columns.indexOf('media_key')]).toBe(v2.key);
    expect(cells[columns.indexOf('previous_media')]).toContain(`${v1.key} ${v1.sha256Hex}`);

    const report = await runCli(['report', '--out', join(dir, 'report'), '--catalog', catalogPath(), '--quiet'], { cwd: dir, env: emu.env });
    expect(report.code, report.stderr).toBe(0);
    const manifest = readFileSync(join(dir, 'report', 'manifest-sha256.txt'), 'utf8');
    expect(manifest).toContain(v1.sha256Hex);
    expect(manifest).toContain(v2.sha256Hex);

    // verify audits the superseded version too; a bad one is reported, and the fax stays as it is
    // (Twilio no longer has those bytes to archive again).
    rmSync(join(store(), v1.key));
    const verify = await runCli(['verify', '--catalog', catalogPath(), '--store', store(), '--json'], { cwd: dir, env: emu.env });
    expect(verify.code, verify.stderr).toBe(1);
    expect(verify.stdout).toContain(v1.key);
    const audited = openCatalog(catalogPath(), { readonly: true });
    expect(audited.getFax(before.sid)!.state).toBe('verified');
    expect(audited.listFindings({ outcome: 'missing' }).map((f) => f.key)).toEqual([v1.key]);
    audited.close();
  });
});

describe('mediaKeyFor (pure)', () => {
  const base = { sid: 'FX' + '1'.repeat(32), accountSid: 'AC' + '2'.repeat(32), dateCreated: '2021-06-01T00:00:00Z' };
  const object = (key: string, sha: string, verified: boolean) => ({
    kind: 'media' as const, key, size: 1, sha256Hex: sha, md5Hex: '0'.repeat(32), contentType: 'application/pdf', etag: null, versionId: null,
    storedAt: 'x', verifiedAt: verified ? 'y' : null, verificationMethod: verified ? ('full' as const) : null,
  });
  const k1 = mediaVersionKey({ accountSid: base.accountSid, faxSid: base.sid, dateCreated: base.dateCreated, kind: 'pdf', version: 1 });
  const k2 = mediaVersionKey({ accountSid: base.accountSid, faxSid: base.sid, dateCreated: base.dateCreated, kind: 'pdf', version: 2 });
  it('first media: the plain key; same bytes again: their key; new bytes beside a verified copy: the next version', () => {
    expect(k1).toMatch(/\/FX1{32}\.pdf$/);
    expect(k2).toMatch(/\/FX1{32}\.v2\.pdf$/);
    expect(mediaKeyFor({ ...base, objects: [] }, 'a'.repeat(64), 'pdf')).toBe(k1);
    expect(mediaKeyFor({ ...base, objects: [object(k1, 'a'.repeat(64), true)] }, 'a'.repeat(64), 'pdf')).toBe(k1);
    expect(mediaKeyFor({ ...base, objects: [object(k1, 'a'.repeat(64), true)] }, 'b'.repeat(64), 'pdf')).toBe(k2);
    // An unverified copy is no evidence: its key is written again.
    expect(mediaKeyFor({ ...base, objects: [object(k1, 'a'.repeat(64), false)] }, 'b'.repeat(64), 'pdf')).toBe(k1);
    const previous = [{ ...object(k1, 'a'.repeat(64), true), verifiedAt: 'y', verificationMethod: 'full' as const, supersededAt: 'z' }];
    expect(mediaKeyFor({ ...base, objects: [object(k2, 'b'.repeat(64), true)], previousObjects: previous }, 'a'.repeat(64), 'pdf')).toBe(k1);
    expect(mediaKeyFor({ ...base, objects: [object(k2, 'b'.repeat(64), true)], previousObjects: previous }, 'c'.repeat(64), 'pdf')).toMatch(/\.v3\.pdf$/);
  });
});
