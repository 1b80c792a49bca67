import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../src/records/stored-zip.js';
import { readCatalog, runCli, stderrLines, summaryOf } from '../archive/archive-cli.js';
import { ACCOUNT_MAIN, faxSidFor } from '../report/archive-fixture.js';
import { validateBag } from '../report/bagit-validator.js';
import { buildRecordsWorld, type RecordsWorld } from './records-world.js';

let world: RecordsWorld;

beforeAll(async () => {
  world = await buildRecordsWorld('export');
});

afterAll(() => {
  if (world) rmSync(world.dir, { recursive: true, force: true });
});

const digest = (alg: string, bytes: Uint8Array) => createHash(alg).update(bytes).digest('hex');

/** A manifest read as RFC 8493 §2.1.3 says (checksum, whitespace, path), independently of the writer. */
function manifest(bagDir: string, name: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of readFileSync(join(bagDir, name), 'utf8').split('\n')) {
    if (!line) continue;
    const match = /^([0-9a-f]+)[ \t]+(.+)$/.exec(line);
    expect(match, `${name}: ${line}`).not.toBeNull();
    entries.set(match![2]!, match![1]!);
  }
  return entries;
}

function payloadFiles(bagDir: string): string[] {
  const walk = (dir: string, rel: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), `${rel}/${e.name}`) : [`${rel}/${e.name}`]));
  return walk(join(bagDir, 'data'), 'data').sort();
}

/** RFC 8493 beyond test/report's validator: both algorithms, tag manifests cover every tag file, the oxum, and the store's bytes. */
function checkBag(bagDir: string, storeRoot: string): void {
  expect(validateBag(bagDir)).toEqual([]);
  expect(readFileSync(join(bagDir, 'bagit.txt'), 'utf8')).toBe('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n');
  const files = payloadFiles(bagDir);
  for (const alg of ['sha256', 'sha512']) {
    const entries = manifest(bagDir, `manifest-${alg}.txt`);
    expect([...entries.keys()].sort()).toEqual(files);
    for (const file of files) expect(digest(alg, readFileSync(join(bagDir, file)))).toBe(entries.get(file));
    const tags = manifest(bagDir, `tagmanifest-${alg}.txt`);
    const tagFiles = readdirSync(bagDir).filter((n) => n !== 'data' && !n.startsWith('tagmanifest-')).sort();
    expect([...tags.keys()].sort()).toEqual(tagFiles);
    expect(tagFiles).toEqual(expect.arrayContaining(['bag-info.txt', 'bagit.txt', 'manifest-sha256.txt', 'manifest-sha512.txt', 'provenance.json']));
    for (const tag of tagFiles) expect(digest(alg, readFileSync(join(bagDir, tag)))).toBe(tags.get(tag));
  }
  const oxum = /^Payload-Oxum: (\d+)\.(\d+)$/m.exec(readFileSync(join(bagDir, 'bag-info.txt'), 'utf8'));
  expect(oxum).not.toBeNull();
  expect(Number(oxum![2])).toBe(files.length);
  expect(Number(oxum![1])).toBe(files.reduce((n, f) => n + statSync(join(bagDir, f)).size, 0));
  // Every payload object re-hashed against the store itself (read straight from its folder).
  const sha256 = manifest(bagDir, 'manifest-sha256.txt');
  for (const file of files.filter((f) => f !== 'data/faxes.csv')) {
    const stored = readFileSync(join(storeRoot, ...file.slice('data/'.length).split('/')));
    expect(digest('sha256', stored)).toBe(sha256.get(file));
    expect(Buffer.compare(stored, readFileSync(join(bagDir, file)))).toBe(0);
  }
}

function events(type?: string): Array<{ id: number; type: string; data: Record<string, any>; prev_hash: string }> {
  const db = new Database(world.catalogPath, { readonly: true });
  try {
    return (db.prepare(`SELECT id, type, data, prev_hash FROM events ${type ? 'WHERE type = ?' : ''} ORDER BY id`).all(...(type ? [type] : [])) as Array<{ id: number; type: string; data: string; prev_hash: string }>)
      .map((e) => ({ ...e, data: JSON.parse(e.data) }));
  } finally {
    db.close();
  }
}

describe('fax-sunset export', () => {
  it('a valid bag by RFC 8493 of exactly the selected faxes, every byte the store\'s; provenance names the chain head; the export is a disclosure', async () => {
    const out = join(world.dir, 'bag');
    const headBefore = events().at(-1)!;
    const run = await runCli(['export', '--out', out, '--account', ACCOUNT_MAIN, '--direction', 'inbound', '--catalog', world.catalogPath, '--organization', 'Example Clinic', '--json'], { cwd: world.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    checkBag(out, world.storeRoot);

    const db = new Database(world.catalogPath, { readonly: true });
    const selected = (db.prepare(`SELECT sid FROM faxes WHERE account_sid = ? AND direction = 'inbound' ORDER BY created_key`).all(ACCOUNT_MAIN) as { sid: string }[]).map((r) => r.sid);
    db.close();
    const { objects } = readCatalog(world.catalogPath);
    const expectedKeys = objects.filter((o) => selected.includes(o.fax_sid)).map((o) => `data/${o.key}`);
    expect(payloadFiles(out)).toEqual([...expectedKeys, 'data/faxes.csv'].sort());
    const csv = readFileSync(join(out, 'data', 'faxes.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + selected.length);
    expect(csv[0]).toMatch(/^sid,account_sid,.*,in_bag$/);

    const provenance = JSON.parse(readFileSync(join(out, 'provenance.json'), 'utf8'));
    expect(provenance).toMatchObject({
      exportedBy: expect.stringMatching(/^.+@.+$/), filter: { accountSid: ACCOUNT_MAIN, direction: 'inbound' },
      store: `file://${world.storeRoot}`, eventChain: { intact: true, headHash: expect.any(String) },
    });
    expect(provenance.runs.map((r: { kind: string }) => r.kind)).toEqual(['archive', 'verify']);
    // The head the provenance names is the event the disclosure is chained to.
    const [disclosure] = events('disclosure');
    expect(disclosure!.prev_hash).toBe(provenance.eventChain.headHash);
    expect(disclosure!.id).toBe(headBefore.id + 1);
    expect(disclosure!.data).toMatchObject({ action: 'export', destination: out, manifestSha256: digest('sha256', readFileSync(join(out, 'manifest-sha256.txt'))) });
    expect([...disclosure!.data.sids].sort()).toEqual([...selected].sort());
    expect(summaryOf(run)).toMatchObject({ command: 'export', exitCode: 0, disclosureRecorded: true, manifestSha256: disclosure!.data.manifestSha256 });
    expect(statSync(join(out, 'data', 'faxes.csv')).mode & 0o777).toBe(0o600);
  });

  it('--zip: one stored ZIP that unzip -t accepts and that unpacks to the same valid bag', async (context) => {
    if (spawnSync('unzip', ['-v']).status !== 0) {
      console.log('skipped: unzip is not installed (apt-get install unzip)');
      context.skip();
    }
    const zip = join(world.dir, 'handover.zip');
    const run = await runCli(['export', '--out', zip, '--zip', '--sid', faxSidFor(7), '--catalog', world.catalogPath, '--json'], { cwd: world.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const test = spawnSync('unzip', ['-t', zip], { encoding: 'utf8' });
    expect(test.stdout).toContain('No errors detected');
    expect(test.status).toBe(0);
    const unpacked = join(world.dir, 'unzipped');
    mkdirSync(unpacked);
    expect(spawnSync('unzip', ['-q', zip, '-d', unpacked]).status).toBe(0);
    expect(readdirSync(unpacked)).toEqual(['handover']);
    checkBag(join(unpacked, 'handover'), world.storeRoot);
    expect(readdirSync(world.dir).filter((n) => n.includes('.bag'))).toEqual([]);
  });

  it('a fax whose stored bytes differ is left out whole (one line, exit 1); the bag of the rest stays valid', async () => {
    const tampered = faxSidFor(3);
    const media = readCatalog(world.catalogPath).objects.find((o) => o.fax_sid === tampered && o.kind === 'media')!;
    const path = join(world.storeRoot, ...media.key.split('/'));
    const original = readFileSync(path);
    writeFileSync(path, Buffer.concat([original, Buffer.from('x')]));
    try {
      const out = join(world.dir, 'bag-tampered');
      const run = await runCli(['export', '--out', out, '--direction', 'outbound', '--catalog', world.catalogPath], { cwd: world.dir });
      expect(run.code).toBe(1);
      expect(stderrLines(run)).toEqual([expect.stringContaining(`${tampered} LEFT OUT of the bag: ${media.key}: the store's bytes`)]);
      expect(existsSync(join(out, 'data', ...media.key.split('/')))).toBe(false);
      expect(validateBag(out)).toEqual([]);
      expect(JSON.parse(readFileSync(join(out, 'provenance.json'), 'utf8')).faxes.excluded).toEqual([{ sid: tampered, problem: expect.stringContaining('sha256') }]);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('bad usage: no filter without --all, an --out that is not empty: exit 2, one line, nothing recorded', async () => {
    const before = events('disclosure').length;
    const none = await runCli(['export', '--out', join(world.dir, 'x'), '--catalog', world.catalogPath, '--json'], { cwd: world.dir });
    expect(none.code).toBe(2);
    expect(stderrLines(none)).toEqual([expect.stringContaining('export needs a filter')]);
    expect(summaryOf(none)).toMatchObject({ command: 'export', exitCode: 2 });
    const busy = await runCli(['export', '--out', join(world.dir, 'bag'), '--all', '--catalog', world.catalogPath], { cwd: world.dir });
    expect(busy.code).toBe(2);
    expect(stderrLines(busy)).toEqual([expect.stringContaining('already exists and is not empty')]);
    expect(events('disclosure')).toHaveLength(before);
  });
});

describe('crc32', () => {
  it('is the ISO 3309 check value and continues across chunks', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('56789'), crc32(Buffer.from('1234')))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe('the report lists disclosures', () => {
  it('report.html and summary.json name every restore and export from the chain: who, when, which sids, the manifest hash', async () => {
    const recorded = events('disclosure');
    expect(recorded.length).toBeGreaterThan(0);
    const out = join(world.dir, 'report');
    const run = await runCli(['report', '--out', out, '--catalog', world.catalogPath, '--json'], { cwd: world.dir });
    expect(run.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.disclosures.map((d: { eventId: number }) => d.eventId)).toEqual(recorded.map((e) => e.id));
    expect(summary.disclosures[0]).toMatchObject({ action: 'export', by: recorded[0]!.data.by, sids: recorded[0]!.data.sids, manifestSha256: recorded[0]!.data.manifestSha256 });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="disclosures"');
    for (const e of recorded) expect(html).toContain(e.data.manifestSha256);
  });
});
