/**
 * Scenario 4, catalog and sync over a large account (100k faxes; 5k with --quick):
 * - the catalog's insert rate from listing pages (`recordListed`, 1000 faxes a page, as the
 *   pipeline writes them); target >= 20k rows/s (DESIGN.md "Performance");
 * - a no-change `fax-sunset sync` over the archived account: the emulator holds the same faxes, all
 *   older than the watermark minus --lookback except the last 48 hours' worth, so the sync lists only
 *   that window. Target: exit 0, no media traffic, nothing new/updated/archived, ~one listing page;
 * - `fax-sunset report --out` over the same catalog (time and peak RSS; no target in the issue).
 * The archived catalog is built through the Catalog API with synthetic objects (archived-catalog.ts).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DEFAULT_EMULATOR_NOW } from '../../src/emulator/index.js';
import { buildArchivedCatalog } from './archived-catalog.js';
import { BenchCleanup } from './bench-cleanup.js';
import { startBenchEmulator } from './bench-emulator.js';
import { runCli, summaryLine } from './run-cli.js';
import type { ScenarioContext } from './scenario-context.js';
import { mebibytes, perSecond, round, type ScenarioResult } from './scenario-result.js';

const TARGET = 'inserts >= 20k rows/s; sync: exit 0, 0 media requests, 0 changes';
export const MIN_INSERT_ROWS_PER_S = 20_000;

export async function catalogScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const faxes = ctx.quick ? 5_000 : 100_000;
  const cleanup = new BenchCleanup();
  try {
    const emu = await startBenchEmulator({ faxes, seed: 11 }, cleanup);
    const dir = cleanup.tempDir('catalog');
    const catalogPath = join(dir, 'catalog.sqlite');
    const storeDir = join(dir, 'media');
    mkdirSync(storeDir);

    ctx.log(`catalog: writing ${faxes} listed faxes into a new catalog, then marking them archived`);
    const built = buildArchivedCatalog(catalogPath, emu.emulator.faxes());
    const insertRate = perSecond(built.rows, built.listedMs, 0);

    ctx.log(`catalog: no-change sync over ${faxes} archived faxes`);
    emu.emulator.resetStats();
    const sync = await runCli(
      ['sync', '--catalog', catalogPath, '--store', storeDir, '--now', DEFAULT_EMULATOR_NOW.toISOString(), '--lookback', '48', '--json'],
      { cwd: dir, env: emu.cliEnv, cleanup },
    );
    const stats = emu.emulator.stats();
    const summary = summaryLine(sync);
    const changes = ['newFaxes', 'updatedFaxes', 'archived', 'metadataOnly', 'failed', 'lost'].reduce((n, k) => n + Number(summary?.[k] ?? 0), 0);
    const syncOk = sync.exitCode === 0 && summary !== null && stats.mediaRequests === 0 && changes === 0;
    if (!syncOk) ctx.log(`catalog: sync exited ${sync.exitCode}: ${sync.stderrTail.slice(-300)}`);

    ctx.log(`catalog: report --out over ${faxes} faxes`);
    const report = await runCli(['report', '--out', join(dir, 'report'), '--catalog', catalogPath, '--store', storeDir, '--json'], { cwd: dir, env: {}, cleanup });
    const reportSummary = summaryLine(report) ?? report.lines.find((l) => l.command === 'report') ?? null;
    if (report.exitCode !== 0) ctx.log(`catalog: report exited ${report.exitCode}: ${report.stderrTail.slice(-300)}`);

    const insertOk = insertRate !== null && insertRate >= MIN_INSERT_ROWS_PER_S;
    return {
      scenario: 'catalog',
      figures: {
        faxes,
        insert_rows_per_s: insertRate,
        archive_steps_rows_per_s: perSecond(built.rows, built.archivedMs, 0),
        sync_s: round(sync.durationMs / 1000, 2),
        sync_listed: summary ? Number(summary.listed ?? 0) : null,
        sync_api_requests: stats.requestsTotal,
        sync_media_requests: stats.mediaRequests,
        sync_changes: changes,
        sync_peak_rss_mb: mebibytes(sync.peakRssBytes),
        report_s: round(report.durationMs / 1000, 2),
        report_exit: report.exitCode,
        report_faxes: reportSummary && typeof reportSummary.totals === 'object' && reportSummary.totals !== null ? Number((reportSummary.totals as Record<string, unknown>).faxes ?? 0) : null,
        report_peak_rss_mb: mebibytes(report.peakRssBytes),
      },
      target: TARGET,
      pass: insertOk && syncOk && report.exitCode === 0,
      notes: [
        'catalog built through the Catalog API (recordListed pages of 1000, then fetched/stored/verified per fax) with synthetic objects; the emulator holds the same faxes',
        'sync and report are the built CLI (dist/cli.js) spawned as a process (times include node start-up)',
      ],
    };
  } finally {
    await cleanup.run();
  }
}
