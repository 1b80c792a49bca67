/**
 * `fax-sunset verify` on a filesystem store, through the real CLI: a clean archive verifies with
 * exit 0; a deleted object, objects overwritten with other bytes (same size and another size), a
 * deleted sidecar and an edited sidecar are each reported by sid and kind, recorded in the catalog
 * with time and method, and make the exit code 1; the next sync archives them again. `--sample`
 * checks the share asked for, rounded up, at least one; `--full` re-reads every byte.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectRecord } from '../../src/catalog/catalog.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { createSampler, sampleSize } from '../../src/verify/verify-archive.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { EMULATOR_NOW, onlySummaryLine, runCli, stderrEvents, tableCounts, type CliRun } from './sync-cli.js';

let emu: TestEmulator;
let dir: string;
let catalogPath: string;
let storeRoot: string;
/** Every object of every archived fax, from the catalog after the archive. */
let objects: Array<ObjectRecord & { faxSid: string }>;
let archivedFaxes: number;

function cli(args: string[]): Promise<CliRun> {
  return runCli([...args, '--catalog', catalogPath, '--store', storeRoot], { cwd: dir, env: emu.env });
}

function findingsOfLastVerify(): { runId: number; findings: ReturnType<ReturnType<typeof openCatalog>['listFindings']> } {
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    const run = catalog.listRuns(10).find((r) => r.kind === 'verify');
    if (!run) throw new Error('no verify run recorded');
    return { runId: run.id, findings: catalog.listFindings({ runId: run.id, limit: 10_000 }) };
  } finally {
    catalog.close();
  }
}

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 16, accounts: 0, seed: 53 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-verify-'));
  catalogPath = join(dir, 'archive', 'catalog.sqlite');
  storeRoot = join(dir, 'archive', 'media');
  const run = await cli(['archive', '--json', '--now', EMULATOR_NOW]);
  expect(run.code, run.stderr).toBe(0);
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    objects = [];
    archivedFaxes = 0;
    for (const fax of catalog.iterateFaxes()) {
      if (fax.state !== 'verified' && fax.state !== 'metadata-only') continue;
      archivedFaxes++;
      for (const object of fax.objects) objects.push({ ...object, faxSid: fax.sid });
    }
  } finally {
    catalog.close();
  }
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('verify on a clean archive', () => {
  it('checks every object of every archived fax and exits 0', async () => {
    const run = await cli(['verify', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = onlySummaryLine(run);
    expect(summary).toMatchObject({
      command: 'verify', faxesChecked: archivedFaxes, objectsChecked: objects.length, match: objects.length,
      mismatch: 0, missing: 0, unverifiable: 0, problems: [], exitCode: 0,
    });
    const { findings } = findingsOfLastVerify();
    expect(findings).toHaveLength(objects.length);
    expect(new Set(findings.map((f) => f.key))).toEqual(new Set(objects.map((o) => o.key)));
    for (const f of findings) {
      expect(f.outcome).toBe('match');
      expect(f.method).toBe('full'); // a folder keeps no checksum: the bytes are re-read
      expect(Number.isNaN(Date.parse(f.at))).toBe(false);
    }
  });

  it('--full re-reads every byte of every object', async () => {
    const run = await cli(['verify', '--full', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(onlySummaryLine(run)).toMatchObject({ method: 'full', objectsChecked: objects.length, match: objects.length });
    const { findings } = findingsOfLastVerify();
    expect(findings.map((f) => f.method)).toEqual(objects.map(() => 'full'));
  });

  it('--sample 5% checks 5% of the faxes, rounded up, at least one; --sample 50% half of them', async () => {
    const five = await cli(['verify', '--sample', '5%', '--json']);
    expect(five.code, five.stderr).toBe(0);
    const s5 = onlySummaryLine(five);
    expect(s5.faxesChecked).toBe(Math.max(1, Math.ceil(archivedFaxes * 0.05)));
    expect(s5.sampledPercent).toBe(5);
    expect(findingsOfLastVerify().findings).toHaveLength(Number(s5.objectsChecked));

    const half = await cli(['verify', '--sample', '50', '--json']);
    expect(half.code, half.stderr).toBe(0);
    const s50 = onlySummaryLine(half);
    expect(s50.faxesChecked).toBe(Math.ceil(archivedFaxes / 2));
    const checkedFaxes = new Set(findingsOfLastVerify().findings.map((f) => f.faxSid));
    expect(checkedFaxes.size).toBe(Math.ceil(archivedFaxes / 2));
  });

  it('a bad --sample is a usage error (exit 2) that writes nothing', async () => {
    const counts = tableCounts(catalogPath);
    const run = await cli(['verify', '--sample', '0%']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--sample');
    expect(tableCounts(catalogPath)).toEqual(counts);
  });
});

describe('verify on a damaged archive', () => {
  const store = () => new FsMediaStore(storeRoot);
  let damaged: Array<{ faxSid: string; kind: 'media' | 'sidecar'; key: string; outcome: 'missing' | 'mismatch'; what: string }>;

  beforeAll(() => {
    const media = objects.filter((o) => o.kind === 'media');
    const sidecars = objects.filter((o) => o.kind === 'sidecar');
    expect(media.length).toBeGreaterThanOrEqual(3);
    const [gone, sameSize, otherSize] = media;
    // Sidecars of two faxes not touched above.
    const touched = new Set([gone!.faxSid, sameSize!.faxSid, otherSize!.faxSid]);
    const [sidecarGone, sidecarEdited] = sidecars.filter((o) => !touched.has(o.faxSid));
    const fs = store();

    rmSync(fs.pathFor(gone!.key));
    const same = readFileSync(fs.pathFor(sameSize!.key));
    const middle = Math.floor(same.length / 2);
    same.writeUInt8(same.readUInt8(middle) ^ 0xff, middle); // one byte flipped: same size, other SHA-256
    writeFileSync(fs.pathFor(sameSize!.key), same);
    writeFileSync(fs.pathFor(otherSize!.key), Buffer.concat([readFileSync(fs.pathFor(otherSize!.key)), Buffer.from('\n%appended\n')]));
    rmSync(fs.pathFor(sidecarGone!.key));
    const json = JSON.parse(readFileSync(fs.pathFor(sidecarEdited!.key), 'utf8')) as Record<string, unknown>;
    json.to = '+15555550199'; // someone "corrected" the recipient
    writeFileSync(fs.pathFor(sidecarEdited!.key), JSON.stringify(json));

    damaged = [
      { faxSid: gone!.faxSid, kind: 'media', key: gone!.key, outcome: 'missing', what: 'deleted media' },
      { faxSid: sameSize!.faxSid, kind: 'media', key: sameSize!.key, outcome: 'mismatch', what: 'media changed, same size' },
      { faxSid: otherSize!.faxSid, kind: 'media', key: otherSize!.key, outcome: 'mismatch', what: 'media changed, other size' },
      { faxSid: sidecarGone!.faxSid, kind: 'sidecar', key: sidecarGone!.key, outcome: 'missing', what: 'deleted sidecar' },
      { faxSid: sidecarEdited!.faxSid, kind: 'sidecar', key: sidecarEdited!.key, outcome: 'mismatch', what: 'edited sidecar' },
    ];
  });

  it('reports each finding by sid and kind, records it with time and method, and exits 1', async () => {
    const started = Date.now();
    const run = await cli(['verify', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const summary = onlySummaryLine(run);
    expect(summary).toMatchObject({ objectsChecked: objects.length, missing: 2, mismatch: 3, match: objects.length - 5, unverifiable: 0, exitCode: 1 });
    const named = (summary.problems as Array<Record<string, unknown>>).map((p) => `${p.faxSid} ${p.kind} ${p.outcome}`).sort();
    expect(named).toEqual(damaged.map((d) => `${d.faxSid} ${d.kind} ${d.outcome}`).sort());

    // As they are found, on stderr: one warning per finding naming outcome, kind, key and fax.
    const warnings = stderrEvents(run).filter((e) => e.event === 'warning').map((e) => String(e.message));
    expect(warnings).toHaveLength(damaged.length);
    for (const d of damaged) {
      expect(warnings.some((w) => w.startsWith(`${d.outcome.toUpperCase()} ${d.kind} ${d.key} (fax ${d.faxSid}`)), d.what).toBe(true);
    }

    const { findings } = findingsOfLastVerify();
    for (const d of damaged) {
      const found = findings.filter((f) => f.key === d.key);
      expect(found, d.what).toHaveLength(1);
      expect(found[0]).toMatchObject({ faxSid: d.faxSid, outcome: d.outcome, method: 'full' });
      expect(Date.parse(found[0]!.at)).toBeGreaterThanOrEqual(started - 1000);
    }
    const otherSize = findings.find((f) => f.key === damaged[2]!.key)!;
    expect(otherSize.detail).toMatch(/size/);

    // Still in Twilio, so each damaged fax goes back to be archived again.
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      for (const d of damaged) expect(catalog.getFax(d.faxSid)?.state, d.what).toBe('listed');
      expect(catalog.listRuns(1)[0]).toMatchObject({ kind: 'verify', exitCode: 1 });
    } finally {
      catalog.close();
    }
  });

  it('the next sync archives the damaged faxes again, and verify is clean', async () => {
    const sync = await cli(['sync', '--json', '--now', EMULATOR_NOW]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(onlySummaryLine(sync).unfinished).toBe(0);
    const run = await cli(['verify', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(onlySummaryLine(run)).toMatchObject({ objectsChecked: objects.length, match: objects.length });
    const fs = store();
    for (const d of damaged) expect(readFileSync(fs.pathFor(d.key)).length).toBe(objects.find((o) => o.key === d.key)!.size);
  });
});

describe('sampling (pure)', () => {
  it('sampleSize: the share rounded up, at least one, never more than there is', () => {
    expect(sampleSize(0, 5)).toBe(0);
    expect(sampleSize(1, 5)).toBe(1);
    expect(sampleSize(19, 5)).toBe(1);
    expect(sampleSize(21, 5)).toBe(2);
    expect(sampleSize(1000, 5)).toBe(50);
    expect(sampleSize(7, 100)).toBe(7);
    expect(sampleSize(3, 0.01)).toBe(1);
  });

  it('createSampler picks exactly that many, each candidate about equally often', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const hits = new Array<number>(40).fill(0);
    for (let round = 0; round < 2000; round++) {
      const sampled = createSampler(40, 10, random);
      let picked = 0;
      for (let i = 0; i < 40; i++) {
        if (sampled()) {
          picked++;
          hits[i]!++;
        }
      }
      expect(picked).toBe(4);
    }
    // 2000 rounds x 4 picks / 40 candidates = 200 expected each; a biased sampler (always the first) fails this.
    for (const n of hits) expect(n).toBeGreaterThan(120);
    for (const n of hits) expect(n).toBeLessThan(280);
  });
});
