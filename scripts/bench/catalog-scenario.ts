/**
 * Scenario 4, catalog and sync over a large account (100k faxes; 5k with --quick):
 * - the catalog's insert rate from listing pages (`recordListed`, 1000 faxes a page, as the
 *   pipeline writes them); target >= 50k rows/s (DESIGN.md "Performance", issue 16), beside SQLite's
 *   own ceiling for the same rows (sqlite-ceiling.ts) and the rate per CPU second;
 * - the archive steps (fetched, stored, verified): faxes/s through `recordSteps` batches, target
 *   >= 5k/s, beside the old one-transaction-per-step path on the first faxes;
 * - a no-change `fax-sunset sync` over the archived account: the emulator holds the same faxes, all
 *   older than the watermark minus --lookback except the last 48 hours' worth, so the sync lists only
 *   that window. Target: exit 0, no media traffic, nothing new/updated/archived, ~one listing page;
 * - `fax-sunset report --out` over the same catalog: time and peak RSS, target < 5 s and < 150 MB
 *   (issue 16's table; the streaming report that meets it is issue 15's).
 * The archived catalog is built through the Catalog API with synthetic objects (archived-catalog.ts).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DEFAULT_EMULATOR_NOW } from '../../src/emulator/index.js';
import { buildArchivedCatalog } from './archived-catalog.js';
import { measureSqliteInsertCeiling } from './sqlite-ceiling.js';
import { BenchCleanup } from './bench-cleanup.js';
import { startBenchEmulator } from './bench-emulator.js';
import { runCli, summaryLine } from './run-cli.js';
import { MAX_REPORT_RSS_MB, MAX_REPORT_S, MIN_INSERT_ROWS_PER_S, MIN_STEP_ROWS_PER_S } from './bench-targets.js';
import type { ScenarioContext } from './scenario-context.js';
import { mebibytes, perSecond, round, type ScenarioResult } from './scenario-result.js';

const TARGET = 'inserts >= 50k rows/s; steps >= 5k faxes/s; report < 5 s and < 150 MB; sync: exit 0, 0 media requests, 0 changes';

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
    const built = buildArchivedCatalog(catalogPath, emu.emulator.faxes(), { oneByOne: Math.min(5_000, Math.floor(faxes / 10)) });
    const insertRate = perSecond(built.rows, built.listedMs, 0);
    const stepRate = perSecond(built.batchedRows, built.batchedMs, 0);
    const ceiling = measureSqliteInsertCeiling(dir, emu.emulator.faxes());

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
    const stepsOk = stepRate !== null && stepRate >= MIN_STEP_ROWS_PER_S;
    const reportRss = mebibytes(report.peakRssBytes);
    const reportOk = report.exitCode === 0 && report.durationMs < MAX_REPORT_S * 1000 && reportRss !== null && reportRss < MAX_REPORT_RSS_MB;
    return {
      scenario: 'catalog',
      figures: {
        faxes,
        insert_rows_per_s: insertRate,
        insert_rows_per_cpu_s: perSecond(built.rows, built.listedCpuMs, 0),
        sqlite_ceiling_rows_per_s: perSecond(ceiling.rows, ceiling.ms, 0),
        sqlite_ceiling_rows_per_cpu_s: perSecond(ceiling.rows, ceiling.cpuMs, 0),
        archive_steps_rows_per_s: stepRate,
        archive_steps_rows_per_cpu_s: perSecond(built.batchedRows, built.batchedCpuMs, 0),
        archive_steps_one_by_one_rows_per_s: perSecond(built.singleRows, built.singleMs, 0),
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
      pass: insertOk && stepsOk && syncOk && reportOk,
      notes: [
        'catalog built through the Catalog API (recordListed pages of 1000, then fetched/stored/verified: the first faxes one transaction per step, the rest in recordSteps batches of 100 faxes) with synthetic objects; the emulator holds the same faxes',
        'sqlite_ceiling_*: the same rows inserted by one bare prepared statement into the same schema (no validation, no events): the most the catalog could reach here',
        'sync and report are the built CLI (dist/cli.js) spawned as a process (times include node start-up)',
      ],
    };
  } finally {
    await cleanup.run();
  }
}
