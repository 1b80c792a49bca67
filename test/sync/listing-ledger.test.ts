/**
 * Issue 11 §3, "a listing that always completes", and issue 17 §5/§6, against the emulator over
 * HTTP, a real SQLite catalog and a filesystem store, with the archive use case run in-process
 * (small pages, so a world of a few dozen faxes has several). What the ledger holds is read with
 * better-sqlite3 straight from the file, not through the catalog code.
 *
 * - an archive whose listing stopped half-way (a later page failed) is resumed by the next sync,
 *   which then holds every fax (today's main listed only the 48 h before the newest fax it had);
 * - a fax dated 30 days in the future does not move the sync's watermark;
 * - the weekly full re-listing starts by Twilio's clock and finds a fax a date-filtered listing cannot;
 * - retention is measured by Twilio's clock (the emulator's Date header), with one grouped at-risk line;
 * - `--since D --until D` is the whole UTC day D.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { archiveCommand, parseDateFlag, syncCommand } from '../../src/commands/archive-command.js';
import { parseFullListingEvery } from '../../src/commands/full-listing-option.js';
import { UsageError } from '../../src/errors.js';
import { exitCodeForSummary, runArchive, type ArchiveOptions, type ArchiveResult, type ArchiveSummary } from '../../src/pipeline/archive-run.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { writeReport } from '../../src/report/write-report.js';
import { createTwilioGateway } from '../../src/twilio/helper-library-twilio-gateway.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startRewritingProxy } from '../archive/archive-cli.js';
import { startPeriodicListing } from '../../src/pipeline/periodic-listing.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Sweep {
  id: number;
  started_at: string;
  range_after: string | null;
  range_on_or_before: string | null;
  covered_down_to: string | null;
  completed_at: string | null;
  absorbed_by: number | null;
}

function sweeps(catalogPath: string): Sweep[] {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM listing_sweeps ORDER BY id').all() as Sweep[];
  } finally {
    db.close();
  }
}

function catalogSids(catalogPath: string): Map<string, string> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return new Map((db.prepare('SELECT sid, state FROM faxes').all() as { sid: string; state: string }[]).map((r) => [r.sid, r.state]));
  } finally {
    db.close();
  }
}

class World {
  readonly dir = mkdtempSync(join(tmpdir(), 'fax-sunset-ledger-'));
  readonly catalogPath = join(this.dir, 'catalog.sqlite');
  readonly warnings: string[] = [];
  constructor(readonly emu: TestEmulator) {
    dirs.push(this.dir);
  }

  async run(kind: 'archive' | 'sync', options: Partial<ArchiveOptions> = {}, twilioUrl = this.emu.url, stopSignal?: AbortSignal): Promise<ArchiveResult> {
    const gateway = createTwilioGateway({
      credentials: { accountSid: this.emu.accountSid, username: this.emu.accountSid, password: this.emu.authToken },
      baseUrl: twilioUrl,
      rps: 2000,
      concurrency: 8,
    });
    const catalog = openCatalog(this.catalogPath);
    const store = new FsMediaStore(join(this.dir, 'media'));
    const runId = catalog.startRun(kind, {});
    try {
      const result = await runArchive(
        {
          catalog, store, gateway, runId, ...(stopSignal ? { stopSignal } : {}),
          observer: { phase() {}, listed() {}, fax() {}, deletion() {}, warning: (message) => this.warnings.push(message) },
        },
        {
          subaccounts: false, delete: false, dryRun: false, forceFullVerify: false, workers: 4, uploadConcurrency: 4, maxAttempts: 10,
          spoolDir: join(this.dir, '.spool'), pageSize: 10,
          ...(kind === 'sync' ? { incrementalLookbackMs: 48 * HOUR_MS, atRiskDays: 14, fullListingEveryMs: 7 * DAY_MS } : {}),
          ...options,
        },
      );
      catalog.finishRun(runId, result.exitCode, { ...result.summary });
      return result;
    } finally {
      catalog.close();
      await store.close();
    }
  }
}

/** An archive whose listing fails on its third page (a 400 is not retried): 20 faxes listed, the sweep unfinished. */
async function archiveStoppedAtThirdPage(world: World): Promise<void> {
  let listPages = 0;
  const proxy = await startRewritingProxy(world.emu.url, (body, request) => {
    if (request.method === 'GET' && request.path.startsWith('/v1/Faxes?') && request.path.includes('PageSize=10') && ++listPages === 3) {
      return { status: 400, body: JSON.stringify({ code: 20001, message: 'Invalid PageToken', status: 400 }) };
    }
    return body;
  });
  try {
    // One account's failed listing is its own trouble (issue 11 §4): the run ends, exit 1, the account named.
    const stopped = await world.run('archive', {}, proxy.url);
    expect(stopped.exitCode).toBe(1);
    expect(stopped.summary.accountsFailed.map((a) => a.reason).join(' ')).toMatch(/400/);
  } finally {
    await proxy.close();
  }
}

describe('a listing stopped half-way', () => {
  let emu: TestEmulator;
  beforeEach(async () => {
    emu = await startTestEmulator({ faxes: 60, accounts: 0, seed: 1101 });
  });
  afterEach(() => emu?.close());

  it('is resumed by the next sync from where it stopped; the sync then holds every fax and says so', async () => {
    const world = new World(emu);
    const all = new Set(emu.emulator.faxes().map((f) => String(f.sid)));
    expect(all.size).toBe(60);
    await archiveStoppedAtThirdPage(world);
    expect(catalogSids(world.catalogPath).size).toBe(20);
    const [stopped] = sweeps(world.catalogPath);
    expect(stopped).toMatchObject({ completed_at: null, range_after: null, range_on_or_before: null });
    expect(stopped!.covered_down_to).not.toBeNull();

    // A dry run first: it counts each unlisted fax once, writes nothing, and says the listing is incomplete.
    const dry = await world.run('sync', { dryRun: true });
    expect(dry.summary).toMatchObject({ newFaxes: 40, listingIncomplete: 1 });
    expect(dry.exitCode).toBe(1);
    expect(sweeps(world.catalogPath)).toEqual([stopped]);

    const sync = await world.run('sync');
    const inCatalog = catalogSids(world.catalogPath);
    expect([...all].filter((sid) => !inCatalog.has(sid))).toEqual([]);
    expect([...inCatalog.values()].every((state) => state === 'verified' || state === 'metadata-only')).toBe(true);
    expect(sync.exitCode).toBe(0);
    expect(sync.summary.listingIncomplete).toBe(0);
    expect(sync.summary.listing).toHaveLength(1);
    expect(sync.summary.listing[0]).toMatchObject({ account: emu.accountSid, complete: true, unfinishedSweeps: 0 });
    expect(world.warnings.some((w) => w.includes('did not finish; resuming it below'))).toBe(true);

    // The killed sweep was resumed (not started over) and completed; the sync's own sweep followed it.
    const after = sweeps(world.catalogPath);
    expect(after[0]).toMatchObject({ id: stopped!.id, absorbed_by: null });
    expect(after[0]!.completed_at).not.toBeNull();
    expect(after.every((s) => s.completed_at !== null)).toBe(true);
    // The coverage ends at the killed archive's own start (Twilio's clock), not at the newest fax.
    const upTo = Date.parse(String(sync.summary.listing[0]!.listedCompletelyUpTo));
    expect(upTo).toBeGreaterThanOrEqual(Date.parse(after[after.length - 1]!.started_at));
  });
});

describe('serve --sync-every', () => {
  it('its periodic listing resumes an unfinished sweep as sync does', async () => {
    const emu = await startTestEmulator({ faxes: 30, accounts: 0, seed: 1106 });
    try {
      const world = new World(emu);
      await archiveStoppedAtThirdPage(world);
      const [stopped] = sweeps(world.catalogPath);
      expect(stopped!.completed_at).toBeNull();
      const gateway = createTwilioGateway({
        credentials: { accountSid: emu.accountSid, username: emu.accountSid, password: emu.authToken }, baseUrl: emu.url,
      });
      const catalog = openCatalog(world.catalogPath);
      const logged: Array<{ event: string; fields: Record<string, unknown> }> = [];
      const listing = startPeriodicListing({
        catalog, accounts: async () => new Map([[emu.accountSid, gateway]]), intervalMs: 3_600_000, lookbackMs: 48 * HOUR_MS,
        fullListingEveryMs: 7 * DAY_MS, runId: null, onRecorded: () => {}, knownSecrets: () => [],
        log: { write: (_level, event, fields = {}) => void logged.push({ event, fields }) },
      });
      try {
        for (let i = 0; i < 200 && listing.status().lastListingAt === null && listing.status().lastError === null; i++) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await listing.stop();
        catalog.close();
      }
      expect(listing.status().lastError).toBeNull();
      const all = emu.emulator.faxes().map((f) => String(f.sid));
      const listed = catalogSids(world.catalogPath);
      expect(all.filter((sid) => !listed.has(sid))).toEqual([]);
      const after = sweeps(world.catalogPath);
      expect(after[0]).toMatchObject({ id: stopped!.id, absorbed_by: null });
      expect(after.every((s) => s.completed_at !== null)).toBe(true);
      expect(logged.find((l) => l.event === 'listing-done')?.fields).toMatchObject({ incompleteAccounts: 0 });
    } finally {
      await emu.close();
    }
  });
});

describe('the watermark', () => {
  let emu: TestEmulator;
  beforeEach(async () => {
    emu = await startTestEmulator({ faxes: 12, accounts: 0, seed: 1102 });
  });
  afterEach(() => emu?.close());

  it('is not moved by a fax dated 30 days in the future: a later new fax is still listed', async () => {
    const world = new World(emu);
    const twilioNow = Date.parse(String((await (await fetch(`${emu.url}/_emulator/clock`, { method: 'POST', body: '{}' })).json() as { now: string }).now));
    const future = emu.emulator.createFax({ dateCreated: new Date(twilioNow + 30 * DAY_MS).toISOString() });
    expect((await world.run('archive')).exitCode).toBe(0);
    expect((await world.run('sync')).exitCode).toBe(0);

    const catalog = openCatalog(world.catalogPath, { readonly: true });
    const watermark = catalog.watermark(emu.accountSid);
    catalog.close();
    expect(watermark).not.toBeNull();
    expect(Date.parse(watermark!)).toBeLessThan(Date.parse(String(future.date_created)) - 29 * DAY_MS);
    expect(Date.parse(watermark!)).toBeLessThanOrEqual(twilioNow + HOUR_MS);

    emu.emulator.advanceClock(3 * 3600);
    const fresh = emu.emulator.createFax({});
    const sync = await world.run('sync');
    expect(sync.exitCode).toBe(0);
    expect(sync.summary.newFaxes).toBe(1);
    expect(catalogSids(world.catalogPath).get(String(fresh.sid))).toMatch(/verified|metadata-only/);
  });

  it('a full re-listing runs once a week by Twilio\'s clock and finds what a date-filtered listing cannot', async () => {
    const world = new World(emu);
    expect((await world.run('archive')).exitCode).toBe(0);
    // A fax Twilio lists only now, dated ten days back: before the watermark minus the 48 h lookback.
    const twilioNow = Date.parse(String((await (await fetch(`${emu.url}/_emulator/clock`, { method: 'POST', body: '{}' })).json() as { now: string }).now));
    const late = emu.emulator.createFax({ dateCreated: new Date(twilioNow - 10 * DAY_MS).toISOString() });

    const incremental = await world.run('sync');
    expect(incremental.summary.newFaxes).toBe(0);
    expect(catalogSids(world.catalogPath).has(String(late.sid))).toBe(false);
    const lastIncremental = sweeps(world.catalogPath).at(-1)!;
    expect(lastIncremental.range_after).not.toBeNull();

    emu.emulator.advanceClock(6 * 86_400);
    expect((await world.run('sync')).summary.newFaxes).toBe(0); // six days: not due yet
    emu.emulator.advanceClock(2 * 86_400);
    const weekly = await world.run('sync');
    expect(weekly.summary.newFaxes).toBe(1);
    expect(catalogSids(world.catalogPath).has(String(late.sid))).toBe(true);
    const full = sweeps(world.catalogPath).at(-1)!;
    expect(full).toMatchObject({ range_after: null, range_on_or_before: null });
    expect(weekly.summary.listing[0]!.lastFullListing).toBe(full.started_at);
  });
});

describe('the rehearsal clock', () => {
  let emu: TestEmulator;
  beforeEach(async () => {
    emu = await startTestEmulator({ faxes: 40, accounts: 0, seed: 1103 });
  });
  afterEach(() => emu?.close());

  it('the emulator\'s Date header tells its own clock', async () => {
    const response = await fetch(`${emu.url}/_emulator/clock`, { method: 'POST', body: '{}' });
    const body = (await response.json()) as { now: string };
    const header = Date.parse(response.headers.get('date')!);
    expect(Math.abs(header - Date.parse(body.now))).toBeLessThan(2000);
    expect(header).toBeLessThan(Date.parse('2022-01-01T00:00:00Z'));
  });

  it('retention is measured by Twilio\'s clock, the skew is logged, and the at-risk faxes are one line', async () => {
    const world = new World(emu);
    // The dry run first (nothing recorded): it must name the same at-risk faxes as the real run.
    const dry = await world.run('sync', { dryRun: true });
    const result = await world.run('sync', {});
    const { summary } = result;
    expect(dry.summary.atRisk).toBe(summary.atRisk);
    expect(dry.summary.atRiskSids).toEqual(summary.atRiskSids);
    const retentionNow = Date.parse(summary.retentionNow);
    expect(retentionNow).toBeLessThan(Date.parse('2022-01-01T00:00:00Z'));
    expect(summary.twilioClockSkewMs).toBeLessThan(-300 * DAY_MS);
    expect(world.warnings.filter((w) => w.startsWith("Twilio's clock"))).toHaveLength(2); // one per run
    // Independently: faxes older than 166 days by that clock (none are archived before the listing).
    const cutoff = retentionNow - 166 * DAY_MS;
    const expected = emu.emulator.faxes().filter((f) => Date.parse(String(f.date_created)) < cutoff).length;
    expect(expected).toBeLessThan(40);
    expect(expected).toBeGreaterThan(0);
    expect(summary.atRisk).toBe(expected);
    const atRiskLines = world.warnings.filter((w) => w.startsWith('at risk:'));
    expect(atRiskLines).toHaveLength(expected > 0 ? 2 : 0); // one line per run, however many faxes
    if (expected > 0) expect(atRiskLines[0]).toContain(`${expected === 1 ? '1 fax' : `${expected} faxes`} not yet archived`);
  });
});

describe('the report', () => {
  let emu: TestEmulator;
  beforeEach(async () => {
    emu = await startTestEmulator({ faxes: 40, accounts: 0, seed: 1105 });
  });
  afterEach(() => emu?.close());

  it('measures retention by the clock the runs saw, and says how far each account is listed', async () => {
    const world = new World(emu);
    // Asked to stop before it starts archiving: everything listed, nothing archived, the run recorded.
    const stop = new AbortController();
    stop.abort();
    const run = await world.run('archive', {}, emu.url, stop.signal);
    expect(run.summary).toMatchObject({ stopped: true, archived: 0, listed: 40 });
    const catalog = openCatalog(world.catalogPath, { readonly: true });
    const outDir = join(world.dir, 'report');
    try {
      await writeReport({ catalog, store: new FsMediaStore(join(world.dir, 'media')), outDir });
    } finally {
      catalog.close();
    }
    const summary = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as {
      generatedAt: string;
      exceptions: Record<string, { total: number; items: Array<{ daysUntilPruned: number | null }> }>;
      listing: unknown[];
    };
    expect(Date.parse(summary.generatedAt)).toBeLessThan(Date.parse('2022-01-01T00:00:00Z'));
    const atRisk = summary.exceptions['at-risk']!;
    // By the local clock (2026) all 40 would be "1800 days past"; by Twilio's, the few oldest are close.
    expect(atRisk.total).toBeGreaterThan(0);
    expect(atRisk.total).toBeLessThan(40);
    for (const item of atRisk.items) expect(item.daysUntilPruned).toBeGreaterThanOrEqual(-1);
    expect(summary.listing).toEqual([expect.objectContaining({ account: emu.accountSid, complete: true, unfinishedSweeps: 0 })]);
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain('listed completely up to');
  });
});

describe('date-only bounds', () => {
  let emu: TestEmulator;
  beforeEach(async () => {
    emu = await startTestEmulator({ faxes: 3, accounts: 0, seed: 1104 });
  });
  afterEach(() => emu?.close());

  it('--since D --until D is the whole UTC day D, both ends included', async () => {
    const at = (iso: string) => String(emu.emulator.createFax({ dateCreated: iso }).sid);
    const inside = [at('2021-11-29T00:00:00Z'), at('2021-11-29T22:53:00Z'), at('2021-11-29T23:59:59Z')];
    const outside = [at('2021-11-28T23:59:59Z'), at('2021-11-30T00:00:00Z')];
    const world = new World(emu);
    const result = await world.run('archive', { since: parseDateFlag('2021-11-29', '--since')!, until: parseDateFlag('2021-11-29', '--until', 'end')! });
    const listed = catalogSids(world.catalogPath);
    for (const sid of inside) expect(listed.has(sid), sid).toBe(true);
    for (const sid of outside) expect(listed.has(sid), sid).toBe(false);
    expect(result.summary.listing[0]).toMatchObject({ complete: true, from: '2021-11-29T00:00:00.000Z' });
  });
});

describe('date and schedule flags', () => {
  it('parse a whole UTC day per bound, refuse impossible dates, and say so in --help', () => {
    expect(parseDateFlag('2021-11-29', '--since')!.toISOString()).toBe('2021-11-29T00:00:00.000Z');
    expect(parseDateFlag('2021-11-29', '--until', 'end')!.toISOString()).toBe('2021-11-29T23:59:59.000Z');
    expect(parseDateFlag('2021-11-29T22:53:00Z', '--until', 'end')!.toISOString()).toBe('2021-11-29T22:53:00.000Z');
    expect(() => parseDateFlag('2021-02-30', '--since')).toThrow(UsageError);
    for (const command of [archiveCommand(), syncCommand()]) expect(command.helpInformation().replace(/\s+/g, ' ')).toContain('whole UTC day, inclusive');
    expect(syncCommand().helpInformation()).toContain('--full-listing-every');
  });

  it('--full-listing-every takes 7d, 36h, 90m or never', () => {
    expect(parseFullListingEvery(undefined)).toBe(7 * DAY_MS);
    expect(parseFullListingEvery('36h')).toBe(36 * HOUR_MS);
    expect(parseFullListingEvery('90m')).toBe(90 * 60_000);
    expect(parseFullListingEvery('never')).toBeUndefined();
    expect(() => parseFullListingEvery('weekly')).toThrow(UsageError);
  });
});

describe('the exit rule', () => {
  it('a run whose listing of any account is incomplete exits 1, even with nothing else left', () => {
    const clean = {
      failed: 0, lost: 0, deleteFailed: 0, unfinished: 0, stopped: false, listingIncomplete: 0, accountsFailed: [], quarantined: 0,
    } as unknown as ArchiveSummary;
    expect(exitCodeForSummary(clean)).toBe(0);
    expect(exitCodeForSummary({ ...clean, listingIncomplete: 1 })).toBe(1);
  });
});
