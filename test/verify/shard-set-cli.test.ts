/**
 * Issue 15 §1: verify and report over several shard catalogs read them as one whole: every fax
 * once, the layout without gaps, each shard's chain on its own, one manifest over the store. A
 * set with a shard missing, or a fax in two catalogs, is named and exits 2.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';

const EMULATOR_NOW = '2021-12-01T00:00:00Z';
let emu: TestEmulator;
let cwd: string;
const catalogs = [0, 1, 2].map((i) => `shards/shard-${i}-of-3.sqlite`);

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 36, accounts: 6, seed: 151, latencyMs: 5 });
  cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-shard-set-'));
  mkdirSync(join(cwd, 'shards'));
  const runs = await Promise.all([0, 1, 2].map((i) => runCli(
    ['archive', '--subaccounts', '--shard', `${i}/3`, '--catalog', catalogs[i]!, '--store', 'media', '--workers', '3', '--json', '--now', EMULATOR_NOW],
    { cwd, env: emu.env },
  )));
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

function summaryOf(stdout: string): Record<string, any> {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('verify and report over a set of shard catalogs', () => {
  it('verify --catalog three times checks every shard on its own and the set as a whole', async () => {
    const run = await runCli(['verify', ...catalogs.flatMap((c) => ['--catalog', c]), '--json'], { cwd, env: {} });
    expect(run.code, run.stderr).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.catalogs).toBe(3);
    expect(summary.shardCount).toBe(3);
    expect(summary.shardProblems).toEqual([]);
    expect(summary.shards.map((s: any) => s.shard.index)).toEqual([0, 1, 2]);
    expect(summary.shards.every((s: any) => s.anchors.matched >= 1 && s.anchors.mismatched.length === 0)).toBe(true);
    const archived = emu.emulator.faxes().length;
    expect(summary.faxesChecked).toBe(archived);
  }, 60_000);

  it('report over the folder writes one manifest and one CSV holding every fax, with each shard\'s provenance', async () => {
    const run = await runCli(['report', '--catalog', 'shards', '--out', 'report', '--json'], { cwd, env: {} });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(cwd, 'report', 'summary.json'), 'utf8'));
    expect(summary.complete).toBe(true);
    expect(summary.shards.map((s: any) => `${s.shard.index}/${s.shard.count}`)).toEqual(['0/3', '1/3', '2/3']);
    expect(summary.shards.every((s: any) => s.runs.length >= 1 && s.chain.intact)).toBe(true);
    const csv = readFileSync(join(cwd, 'report', 'faxes.csv'), 'utf8').trim().split('\n');
    const sids = csv.slice(1).map((line) => line.split(',')[0]);
    expect(sids.sort()).toEqual(emu.emulator.faxes().map((f) => String(f.sid)).sort());
    // The joined manifest has exactly the lines of the three shards' manifests.
    const manifest = readFileSync(join(cwd, 'report', 'manifest-sha256.txt'), 'utf8').trim().split('\n');
    const perShard = [0, 1, 2].flatMap((i) => readFileSync(join(cwd, 'report', 'shards', `shard-${i}-of-3`, 'manifest-sha256.txt'), 'utf8').trim().split('\n').filter(Boolean));
    expect(manifest.sort()).toEqual(perShard.sort());
    expect(new Set(manifest.map((l) => l.split(/\s+/)[1])).size).toBe(manifest.length);
    expect(readFileSync(join(cwd, 'report', 'report.html'), 'utf8')).toContain('shard-2-of-3.sqlite');
    // Each catalog records its report run, naming the folder its report ended up in.
    for (const [i, c] of catalogs.entries()) {
      const db = new Database(join(cwd, c), { readonly: true });
      const options = JSON.parse(db.prepare(`SELECT options FROM runs WHERE kind = 'report' ORDER BY id DESC LIMIT 1`).pluck().get() as string);
      db.close();
      expect(options.outDir).toBe(join(cwd, 'report', 'shards', `shard-${i}-of-3`));
    }
  }, 60_000);

  it('a shard missing from the set is named, exit 2', async () => {
    const run = await runCli(['verify', '--catalog', catalogs[0]!, '--catalog', catalogs[2]!, '--json'], { cwd, env: {} });
    expect(run.code).toBe(2);
    const summary = summaryOf(run.stdout);
    expect(summary.shardProblems.map((p: any) => p.kind)).toContain('shard-missing');
    expect(summary.shardProblems.find((p: any) => p.kind === 'shard-missing').message).toContain('shard 1/3');
  }, 60_000);

  it('a fax in two catalogs (a shard given twice) is named by sid, exit 2', async () => {
    const twin = join(cwd, 'twin');
    mkdirSync(twin);
    for (const c of catalogs) copyFileSync(join(cwd, c), join(twin, c.split('/')[1]!));
    copyFileSync(join(cwd, catalogs[1]!), join(twin, 'shard-1-of-3-copy.sqlite'));
    const db = new Database(join(cwd, catalogs[1]!), { readonly: true });
    const sid = (db.prepare('SELECT sid FROM faxes ORDER BY sid LIMIT 1').get() as { sid: string }).sid;
    db.close();
    const run = await runCli(['report', '--catalog', 'twin', '--out', 'report-twin', '--json'], { cwd, env: {} });
    expect(run.code).toBe(2);
    const summary = summaryOf(run.stdout);
    const kinds = summary.shardProblems.map((p: any) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(['fax-in-two-catalogs', 'shard-twice', 'account-in-two-shards']));
    expect(summary.duplicateFaxes.sids[0]).toEqual({ sid, catalogs: ['shard-1-of-3-copy.sqlite', 'shard-1-of-3.sqlite'] });
    expect(run.stderr).toContain(sid);
    expect(JSON.parse(readFileSync(join(cwd, 'report-twin', 'summary.json'), 'utf8')).complete).toBe(false);
  }, 60_000);
});
