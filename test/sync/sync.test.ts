/**
 * `fax-sunset sync` as a scheduler runs it: the real CLI against the emulator over HTTP, a
 * filesystem store, a real SQLite catalog. Proves issue 4's sync promises: an unchanged account
 * costs one listing and no writes beyond the run record; new faxes and late changes are picked up
 * (old version kept in the history); a fax pruned before it was archived is `lost`, loudly; faxes
 * near the 180-day pruning go first and are named; one JSON line on stdout; exit codes 0/1/2/3;
 * unfinished items are retried even when older than the watermark.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireCatalogLock } from '../../src/catalog/catalog-lock.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import {
  EMULATOR_NOW,
  eventTypesAfter,
  faxRowsFingerprint,
  faxStates,
  fileStamp,
  onlySummaryLine,
  runCli,
  stderrEvents,
  tableCounts,
  type CliRun,
} from './sync-cli.js';

const DAY_MS = 86_400_000;
const dirs: string[] = [];

function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fax-sunset-sync-${label}-`));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Workspace {
  dir: string;
  catalog: string;
  store: string;
  csv: string;
}

function workspace(label: string): Workspace {
  const dir = tempDir(label);
  return { dir, catalog: join(dir, 'archive', 'catalog.sqlite'), store: join(dir, 'archive', 'media'), csv: join(dir, 'archive', 'faxes.csv') };
}

function cli(emu: TestEmulator, ws: Workspace, args: string[]): Promise<CliRun> {
  return runCli([...args, '--catalog', ws.catalog, '--store', ws.store, '--now', EMULATOR_NOW], { cwd: ws.dir, env: emu.env });
}

function lastEventId(catalogPath: string): number {
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    let last = 0;
    for (;;) {
      const page = catalog.listEvents({ afterId: last, limit: 1000 });
      if (page.length === 0) return last;
      last = page[page.length - 1]!.id;
    }
  } finally {
    catalog.close();
  }
}

describe('sync after an archive', () => {
  let emu: TestEmulator;
  let ws: Workspace;

  beforeAll(async () => {
    emu = await startTestEmulator({ faxes: 10, accounts: 0, seed: 41 });
    ws = workspace('unchanged');
  });
  afterAll(() => emu?.close());

  it('archive first: exit 0, everything archived', async () => {
    const run = await cli(emu, ws, ['archive', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = onlySummaryLine(run);
    expect(summary).toMatchObject({ command: 'archive', listed: 10, newFaxes: 10, failed: 0, lost: 0, unfinished: 0, exitCode: 0 });
    expect(existsSync(ws.csv)).toBe(true);
  });

  it('a sync over the unchanged account fetches no media, no single fax, and writes nothing beyond its run record', async () => {
    const countsBefore = tableCounts(ws.catalog);
    const rowsBefore = faxRowsFingerprint(ws.catalog);
    const csvBefore = fileStamp(ws.csv);
    const eventsBefore = lastEventId(ws.catalog);
    emu.emulator.resetStats();

    const run = await cli(emu, ws, ['sync', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = onlySummaryLine(run);
    expect(summary).toMatchObject({ command: 'sync', newFaxes: 0, updatedFaxes: 0, archived: 0, metadataOnly: 0, lost: 0, failed: 0, unfinished: 0, csv: null, exitCode: 0 });

    const stats = emu.emulator.stats();
    expect(stats.mediaRequests).toBe(0);
    expect(stats.mediaBytesServed).toBe(0);
    // Only listing pages: no fetch of one fax, no media sub-resource, no deletion.
    expect(Object.keys(stats.requests)).toEqual(['GET /v1/Faxes']);
    expect(stats.requests['GET /v1/Faxes']).toBeGreaterThanOrEqual(1);

    const countsAfter = tableCounts(ws.catalog);
    expect(countsAfter.runs).toBe(countsBefore.runs! + 1);
    // The sync's own listing sweep goes to the ledger (issue 11 §3), completed.
    expect(countsAfter.listing_sweeps).toBe(countsBefore.listing_sweeps! + 1);
    expect(summary.listingIncomplete).toBe(0);
    for (const table of Object.keys(countsBefore)) {
      if (table === 'runs' || table === 'events' || table === 'listing_sweeps') continue;
      expect(countsAfter[table], `rows of ${table}`).toBe(countsBefore[table]);
    }
    // The run's own record, and nothing else, went to the event log.
    expect(eventTypesAfter(ws.catalog, eventsBefore)).toEqual(['run-started', 'run-finished']);
    expect(faxRowsFingerprint(ws.catalog)).toBe(rowsBefore);
    expect(fileStamp(ws.csv)).toEqual(csvBefore);
  });

  it('picks up a new fax and a late status change; the old version goes to the history, the sidecar is rewritten', async () => {
    // The watermark is where the last completed listing started (issue 11 §3): a fax created an hour
    // before it is inside the 48 h lookback, so its late status change is listed by the next sync.
    const recent = emu.emulator.createFax({ direction: 'inbound', withMedia: true, numPages: 1, dateCreated: new Date(Date.parse(EMULATOR_NOW) - 3_600_000).toISOString() });
    expect((await cli(emu, ws, ['sync', '--json'])).code).toBe(0);
    const changedSid = String(recent.sid);
    const before = faxStates(ws.catalog).get(changedSid)!;
    const catalogBefore = openCatalog(ws.catalog, { readonly: true });
    const oldVersion = catalogBefore.getFax(changedSid)!;
    catalogBefore.close();
    const sidecarObject = oldVersion.objects.find((o) => o.kind === 'sidecar')!;
    const sidecarPath = join(ws.store, sidecarObject.key);
    expect(JSON.parse(readFileSync(sidecarPath, 'utf8')).status).toBe(oldVersion.status);
    const changed = emu.emulator.updateFax(changedSid, { status: oldVersion.status === 'failed' ? 'canceled' : 'failed' });
    expect(changed).not.toBeNull();
    const created = emu.emulator.createFax({ direction: 'inbound', withMedia: true, numPages: 2 });
    emu.emulator.resetStats();

    const run = await cli(emu, ws, ['sync', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = onlySummaryLine(run);
    const changedHasMedia = before.mediaSid !== null;
    expect(summary).toMatchObject({
      newFaxes: 1, updatedFaxes: 1, archived: changedHasMedia ? 2 : 1, metadataOnly: changedHasMedia ? 0 : 1, lost: 0, failed: 0, exitCode: 0,
    });
    expect(summary.csv).toBeTypeOf('string');
    // Exactly the new fax's media was downloaded: the changed fax's media did not change.
    expect(emu.emulator.stats().mediaRequests).toBe(1);

    const catalog = openCatalog(ws.catalog, { readonly: true });
    try {
      const newRow = catalog.getFax(String(created.sid))!;
      expect(newRow.state).toBe('verified');
      expect(newRow.objects.map((o) => o.kind).sort()).toEqual(['media', 'sidecar']);

      const updated = catalog.getFax(changedSid)!;
      expect(updated.status).toBe(changed!.status);
      expect(updated.dateUpdated).toBe(changed!.date_updated);
      expect(updated.state).toBe(before.state); // archived again, media kept as it was
      expect(updated.objects.find((o) => o.kind === 'media')?.sha256Hex).toBe(oldVersion.objects.find((o) => o.kind === 'media')?.sha256Hex);
      const history = catalog.getHistory(changedSid);
      expect(history).toHaveLength(1);
      expect(history[0]!.dateUpdated).toBe(oldVersion.dateUpdated);
      expect(history[0]!.raw.status).toBe(oldVersion.status);
    } finally {
      catalog.close();
    }
    // The copy in the store says what Twilio says now.
    expect(JSON.parse(readFileSync(sidecarPath, 'utf8'))).toMatchObject({ status: changed!.status, date_updated: changed!.date_updated });
  });

  it('exit 3 while another run holds the catalog lock, and nothing is written', async () => {
    const counts = tableCounts(ws.catalog);
    const lock = acquireCatalogLock(ws.catalog, { command: 'test-holder' });
    try {
      const run = await cli(emu, ws, ['sync', '--json']);
      expect(run.code).toBe(3);
      // Still the one summary line (issue 17 §4), so a scheduler never reads the previous night's.
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'summary', command: 'sync', exitCode: 3 });
      expect(run.stderr).toMatch(/lock/i);
    } finally {
      lock.release();
    }
    expect(tableCounts(ws.catalog)).toEqual(counts);
  });

  it('exit 2 for a bad flag value, before anything is written', async () => {
    const counts = tableCounts(ws.catalog);
    const run = await cli(emu, ws, ['sync', '--lookback', 'two-days']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--lookback');
    expect(tableCounts(ws.catalog)).toEqual(counts);
  });
});

describe('faxes close to the 180-day pruning', () => {
  let emu: TestEmulator;
  let ws: Workspace;
  let oldSid: string;

  beforeAll(async () => {
    emu = await startTestEmulator({ faxes: 6, accounts: 0, seed: 43 });
    ws = workspace('at-risk');
    const created = new Date(Date.parse(EMULATOR_NOW) - 175 * DAY_MS).toISOString();
    oldSid = String(emu.emulator.createFax({ dateCreated: created, withMedia: true, numPages: 1 }).sid);
  });
  afterAll(() => emu?.close());

  it('go first and are named, on stderr and in the summary line', async () => {
    const run = await cli(emu, ws, ['sync', '--json', '--workers', '1', '--at-risk-days', '14']);
    expect(run.code, run.stderr).toBe(0);
    const summary = onlySummaryLine(run);
    expect(summary.atRisk).toBeGreaterThanOrEqual(1);
    expect(summary.atRiskSids).toContain(oldSid);

    const events = stderrEvents(run);
    const warnings = events.filter((e) => e.event === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.includes('at risk') && w.includes(oldSid))).toBe(true);
    // One worker: the archive order is visible, and the fax closest to pruning is first.
    const faxEvents = events.filter((e) => e.event === 'fax');
    expect(faxEvents[0]?.sid).toBe(oldSid);
    expect(faxStates(ws.catalog).get(oldSid)?.state).toBe('verified');
  });

  it('--at-risk-days 0 names none of them', async () => {
    const ws2 = workspace('at-risk-zero');
    const run = await cli(emu, ws2, ['sync', '--json', '--at-risk-days', '0']);
    expect(run.code, run.stderr).toBe(0);
    expect(onlySummaryLine(run)).toMatchObject({ atRisk: 0, atRiskSids: [] });
  });
});

describe('unfinished items and faxes pruned before they were archived', () => {
  const SEED = 47;
  let ws: Workspace;
  let failedSids: string[];
  let prunedSid: string;
  let watermark: string;
  let copyCatalog: string;

  beforeAll(async () => {
    ws = workspace('unfinished');
    // First run: every media download is cut short, so every fax with media is left failed.
    const faulty = await startTestEmulator({ faxes: 10, accounts: 0, seed: SEED, faultRate: 1, faultKinds: ['truncate'] });
    try {
      const run = await cli(faulty, ws, ['archive', '--json', '--max-attempts', '5']);
      expect(run.code, run.stderr).toBe(1);
      expect(onlySummaryLine(run).failed).toBeGreaterThanOrEqual(3);
    } finally {
      await faulty.close();
    }
    const states = faxStates(ws.catalog);
    failedSids = [...states].filter(([, f]) => f.state === 'failed').map(([sid]) => sid)
      .sort((a, b) => String(states.get(a)!.dateCreated).localeCompare(String(states.get(b)!.dateCreated)));
    watermark = [...states.values()].map((f) => String(f.dateCreated)).sort().at(-1)!;
    // Twilio's pruning takes the oldest failed one before any run could archive it.
    prunedSid = failedSids[0]!;
    // A second copy of the catalog, to show the same loss in the human output.
    copyCatalog = join(ws.dir, 'archive', 'catalog-copy.sqlite');
    copyFileSync(ws.catalog, copyCatalog);
  });

  it('sync retries every failed fax, also those older than the watermark, and records the pruned one as lost', async () => {
    const emu = await startTestEmulator({ faxes: 10, accounts: 0, seed: SEED });
    try {
      expect(emu.emulator.pruneFax(prunedSid)).toBe(true);
      // A 1-hour lookback: the listing cannot reach the old failed faxes; only the catalog can.
      const oldFailed = failedSids.filter((sid) => Date.parse(faxStates(ws.catalog).get(sid)!.dateCreated!) < Date.parse(watermark) - 3_600_000);
      expect(oldFailed.length).toBeGreaterThanOrEqual(2);

      const run = await cli(emu, ws, ['sync', '--json', '--lookback', '1']);
      expect(run.code, run.stderr).toBe(1); // a lost fax is never "all done"
      const summary = onlySummaryLine(run);
      expect(summary).toMatchObject({ lost: 1, failed: 0, archived: failedSids.length - 1, exitCode: 1 });
      expect(summary.lostSids).toEqual([prunedSid]);
      expect(summary.listed).toBeLessThan(10);

      const lostEvents = stderrEvents(run).filter((e) => e.event === 'fax' && e.outcome === 'lost');
      expect(lostEvents.map((e) => e.sid)).toEqual([prunedSid]);

      const after = faxStates(ws.catalog);
      expect(after.get(prunedSid)?.state).toBe('lost');
      for (const sid of failedSids) if (sid !== prunedSid) expect(after.get(sid)?.state, sid).toBe('verified');
      for (const sid of oldFailed) if (sid !== prunedSid) expect(after.get(sid)?.state).toBe('verified');

      const catalog = openCatalog(ws.catalog, { readonly: true });
      try {
        expect(catalog.getFax(prunedSid)?.lastError).toMatch(/no longer has this fax/);
        const runs = catalog.listRuns(1);
        expect(runs[0]).toMatchObject({ kind: 'sync', exitCode: 1 });
        expect(runs[0]!.summary).toMatchObject({ lost: 1 });
      } finally {
        catalog.close();
      }

      // The next sync has nothing left to do: the loss stays recorded, the run is clean.
      const again = await cli(emu, ws, ['sync', '--json', '--lookback', '1']);
      expect(again.code, again.stderr).toBe(0);
      expect(onlySummaryLine(again)).toMatchObject({ lost: 0, failed: 0, unfinished: 0 });
      expect(faxStates(ws.catalog).get(prunedSid)?.state).toBe('lost');
    } finally {
      await emu.close();
    }
  });

  it('the human output says LOST with the sid, and the summary counts it', async () => {
    const emu = await startTestEmulator({ faxes: 10, accounts: 0, seed: SEED });
    try {
      emu.emulator.pruneFax(prunedSid);
      const run = await runCli(['sync', '--quiet', '--catalog', copyCatalog, '--store', ws.store, '--now', EMULATOR_NOW], { cwd: ws.dir, env: emu.env });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`LOST ${prunedSid}`));
      expect(run.stdout).toMatch(/^\s+lost\s+1$/m);
      expect(run.stdout).toContain(prunedSid);
    } finally {
      await emu.close();
    }
  });
});
