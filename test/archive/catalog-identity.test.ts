/**
 * Issue 17 §1 (a catalog knows its store and its account), §4 (the one-line JSON contract, exact
 * bytes), §10 (one duration parser) and issue 13 §6 (--dry-run writes nothing), through the real
 * CLI against the emulator and a folder store. Each case is one a new operator met: verify without
 * --store checked the default folder and sent every verified fax back to `listed`; a typo in
 * --catalog created an empty catalog and exited 0; a dry run created catalog.sqlite and its lock.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { readCatalog, runCli, stderrLines, summaryOf, type CliRun } from './archive-cli.js';

let emu: TestEmulator;
let dir: string;
let elsewhere: string;
let catalogPath: string;
let storePath: string;
/** Faxes of the main account (the catalog archives it alone: no --subaccounts). */
let mainFaxes: number;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 8, accounts: 1, numbers: 2, seed: 1717 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-identity-'));
  // Commands run from another folder, as an operator's next shell would: the defaults point there.
  elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  catalogPath = join(dir, 'archive', 'catalog.sqlite');
  storePath = join(dir, 'archive', 'media');
  mainFaxes = emu.emulator.faxes(emu.accountSid).length;
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(args, { cwd: elsewhere, env: { ...emu.env, ...env }, timeoutMs: 60_000 });
}

function states(): string[] {
  return [...readCatalog(catalogPath).faxes.values()].map((f) => `${f.sid}:${f.state}`).sort();
}

function events(type: string): Array<Record<string, unknown>> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT data FROM events WHERE type = ? ORDER BY id').all(type) as Array<{ data: string }>).map((r) => JSON.parse(r.data));
  } finally {
    db.close();
  }
}

function oneLine(run: CliRun, code: number, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  const lines = stderrLines(run);
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('a catalog knows its store and its account', () => {
  it('a dry run before the first archive writes nothing: no catalog, no lock, no folder (issue 13 §6)', async () => {
    const run = await cli(['archive', '--dry-run', '--json', '--catalog', catalogPath, '--store', storePath, '--now', '2021-12-01T00:00:00Z']);
    expect(run.code, run.stderr).toBe(1); // faxes left to archive
    expect(summaryOf(run)).toMatchObject({ dryRun: true, newFaxes: mainFaxes, unfinished: mainFaxes });
    expect(existsSync(join(dir, 'archive'))).toBe(false);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('the first archive records the store and the main account (an event); bytesStored is an exact integer', async () => {
    const run = await cli(['archive', '--json', '--catalog', catalogPath, '--store', storePath, '--now', '2021-12-01T00:00:00Z']);
    expect(run.code, run.stderr).toBe(0);
    const summary = summaryOf(run)!;
    expect(Number.isInteger(summary.bytesStored)).toBe(true);
    expect(summary.bytesStored as number).toBeGreaterThan(1000);
    expect(summary.bytesStoredHuman).toMatch(/^\d+(\.\d)? (B|KB|MB)$/);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(events('catalog-identity')).toEqual([{ accountSid: emu.accountSid, store: `file://${storePath}`, storeEndpoint: null }]);
  });

  it('a dry run over an existing catalog leaves every file as it was', async () => {
    const folder = join(dir, 'archive');
    const before = readdirSync(folder).sort();
    const hash = sha256(catalogPath);
    const run = await cli(['sync', '--dry-run', '--delete', '--catalog', catalogPath, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run)).toMatchObject({ dryRun: true, wouldDelete: mainFaxes });
    expect(readdirSync(folder).sort()).toEqual(before);
    expect(sha256(catalogPath)).toBe(hash);
  });

  it('verify without --store audits the recorded store, not the default folder', async () => {
    const run = await cli(['verify', '--catalog', catalogPath, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run)).toMatchObject({ store: `file://${storePath}`, missing: 0, faxesChecked: mainFaxes });
    expect(existsSync(join(elsewhere, 'fax-archive'))).toBe(false);
  });

  it('verify --store <another store> is refused with one line, exit 2, nothing changed', async () => {
    const before = states();
    const other = join(dir, 'other-media');
    const run = await cli(['verify', '--catalog', catalogPath, '--store', other]);
    oneLine(run, 2, new RegExp(`belongs to the store file://${storePath}.*--catalog-moved`));
    expect(states()).toEqual(before);
  });

  it('a store holding none of the objects is refused, even with --catalog-moved: "probably wrong", nothing changed', async () => {
    const before = states();
    const findings = events('finding').length;
    const empty = join(dir, 'empty-media');
    mkdirSync(empty);
    const run = await cli(['verify', '--catalog', catalogPath, '--store', empty, '--catalog-moved', '--json']);
    expect(run.code, run.stderr).toBe(2);
    expect(stderrLines(run).at(-1)).toMatch(/not one of the \d+ objects .* the store is probably wrong/);
    expect(summaryOf(run)).toMatchObject({ command: 'verify', exitCode: 2 });
    expect(states()).toEqual(before);
    expect(events('finding')).toHaveLength(findings);
    expect(events('catalog-moved')).toEqual([]);
  });

  it('verify --catalog with a typo is refused, and creates nothing', async () => {
    const typo = join(dir, 'archve', 'catalog.sqlite');
    const run = await cli(['verify', '--catalog', typo, '--json']);
    oneLine(run, 2, /no catalog at .*archve/);
    expect(summaryOf(run)).toMatchObject({ command: 'verify', exitCode: 2 });
    expect(existsSync(join(dir, 'archve'))).toBe(false);
  });

  it('another account\'s credentials on this catalog: refused, exit 2, before any Twilio request', async () => {
    const sub = emu.emulator.accounts[1]!;
    emu.emulator.resetStats();
    const run = await cli(['sync', '--catalog', catalogPath], { TWILIO_ACCOUNT_SID: sub.sid, TWILIO_AUTH_TOKEN: sub.authToken });
    oneLine(run, 2, new RegExp(`belongs to account ${emu.accountSid}, not ${sub.sid}`));
    expect(Object.keys(emu.emulator.stats().requests)).toEqual([]);
  });

  it('--catalog-moved: the archive moved to another folder; the move is recorded and later runs use it', async () => {
    const moved = join(dir, 'moved-media');
    renameSync(storePath, moved);
    const run = await cli(['sync', '--catalog', catalogPath, '--store', moved, '--catalog-moved', '--lookback', '2d', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(events('catalog-moved')).toEqual([
      {
        from: { accountSid: emu.accountSid, store: `file://${storePath}`, storeEndpoint: null },
        to: { accountSid: emu.accountSid, store: `file://${moved}`, storeEndpoint: null },
      },
    ]);
    const verify = await cli(['verify', '--catalog', catalogPath, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(summaryOf(verify)).toMatchObject({ store: `file://${moved}`, match: expect.any(Number), missing: 0 });
  });

  it('report --bag without --store copies from the recorded (moved) store; another --store is refused', async () => {
    const run = await cli(['report', '--out', join(dir, 'report'), '--catalog', catalogPath, '--bag', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run)).toMatchObject({ command: 'report', missingObjects: 0, bagComplete: true });
    const other = await cli(['report', '--out', join(dir, 'report-2'), '--catalog', catalogPath, '--store', join(dir, 'nowhere')]);
    oneLine(other, 2, /belongs to the store file:\/\/.*moved-media/);
  });

  it('one duration vocabulary: a refused --lookback names the flag and the units, exit 2, one JSON line', async () => {
    const bad = await cli(['sync', '--catalog', catalogPath, '--lookback', '2x', '--json']);
    oneLine(bad, 2, /--lookback must be a duration like 30m, 6h or 2d/);
    expect(summaryOf(bad)).toMatchObject({ command: 'sync', exitCode: 2 });
    expect(bad.stdout.trim().split('\n')).toHaveLength(1);
  });
});
