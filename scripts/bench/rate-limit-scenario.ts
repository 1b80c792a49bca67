/**
 * Scenario 1, against the rate limit: the emulator admits R API requests per second with ~40 ms of
 * latency (more answer 429), the archiver runs with `--rps R`. Its throughput in faxes/s is compared
 * with the bound R / (API requests per fax): no client can do better.
 *
 * Which run is API-bound: an archive without --delete makes ~1 API request per 1000 faxes (the
 * listing; media comes from the media host, which has no rate limit), so its bound is far above what
 * the media path allows and says nothing about the limiter. The pass that Twilio's limit governs is
 * the deletion, so the account is archived first (unmeasured, as the runbook does: archive, verify,
 * then delete), and the measured runs are `archive --delete`: one listing plus one DELETE per fax.
 * The deletion pass never touches media, so the preparing archive keeps media on few faxes (faster).
 *
 * Two measured runs share the account: the first deletes half of it with `--rps R` (the judged
 * figure), the second the rest with `--rps 0.95 R` (what an operator who leaves a little headroom
 * gets; at exactly R any jitter between the two token buckets draws a 429, which the archiver's
 * adaptive limiter answers by halving its rate and recovering slowly).
 */
import { DEFAULT_EMULATOR_NOW } from '../../src/emulator/index.js';
import { BenchCleanup } from './bench-cleanup.js';
import { startBenchEmulator, type BenchEmulator } from './bench-emulator.js';
import { thinOutMedia } from './memory-scenario.js';
import { phaseStartMs, runCli, summaryLine } from './run-cli.js';
import { MIN_RATE_LIMIT_RATIO } from './bench-targets.js';
import type { ScenarioContext } from './scenario-context.js';
import { perSecond, rateLimitBound, ratio, round, type Figure, type ScenarioResult } from './scenario-result.js';

const TARGET = 'ratio >= 0.95 at --rps R, 0 failed';
export const RATE_LIMIT_RPS = 50;
export const RATE_LIMIT_LATENCY_MS = 40;
const HEADROOM = 0.95;

interface DeletionRun {
  deleted: number;
  failed: number;
  admitted: number;
  throttled: number;
  bound: number | null;
  wallBound: number | null;
  throughput: number | null;
  wallThroughput: number | null;
}

async function measuredDeletion(emu: BenchEmulator, common: string[], clientRps: number, maxDelete: number | null, dir: string, cleanup: BenchCleanup): Promise<DeletionRun> {
  emu.emulator.resetStats();
  const args = ['archive', '--delete', ...common, '--rps', String(clientRps), ...(maxDelete === null ? [] : ['--max-delete', String(maxDelete)])];
  const run = await runCli(args, { cwd: dir, env: emu.cliEnv, cleanup });
  const stats = emu.emulator.stats();
  const summary = summaryLine(run);
  const deleted = Number(summary?.deleted ?? 0);
  const failed = Number(summary?.failed ?? 0) + Number(summary?.deleteFailed ?? 0) + (run.exitCode === 0 ? 0 : 1);
  const admitted = stats.requestsTotal - stats.throttled;
  // The work window: from the run's first event (store checked, lock taken) to its summary; the
  // wall time adds node loading the built CLI and its dependencies.
  const firstEventMs = phaseStartMs(run, 'reconcile') ?? 0;
  const summaryMs = summary ? Number(summary.receivedMs) : run.durationMs;
  const windowMs = summaryMs - firstEventMs;
  return {
    deleted,
    failed,
    admitted,
    throttled: stats.throttled,
    // The emulator's bucket holds one second's worth and is full when a run starts.
    bound: rateLimitBound(RATE_LIMIT_RPS, admitted, deleted, RATE_LIMIT_RPS, windowMs),
    throughput: perSecond(deleted, windowMs, 2),
    wallBound: rateLimitBound(RATE_LIMIT_RPS, admitted, deleted, RATE_LIMIT_RPS, run.durationMs),
    wallThroughput: perSecond(deleted, run.durationMs, 2),
  };
}

export async function rateLimitScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const faxes = ctx.quick ? 400 : 3000;
  const rps = RATE_LIMIT_RPS;
  const cleanup = new BenchCleanup();
  try {
    const emu = await startBenchEmulator({ faxes, seed: 5, rps, latencyMs: RATE_LIMIT_LATENCY_MS }, cleanup);
    thinOutMedia(emu.emulator, 20);
    const dir = cleanup.tempDir('rate');
    const common = ['--catalog', `${dir}/catalog.sqlite`, '--store', `${dir}/media`, '--now', DEFAULT_EMULATOR_NOW.toISOString(), '--json'];
    ctx.log(`rate-limit: archiving ${faxes} faxes first (not measured)`);
    const first = await runCli(['archive', ...common, '--rps', String(rps)], { cwd: dir, env: emu.cliEnv, cleanup });
    if (first.exitCode !== 0) throw new Error(`the preparing archive exited ${first.exitCode}: ${first.stderrTail.slice(-300)}`);

    const half = Math.floor(faxes / 2);
    ctx.log(`rate-limit: archive --delete of ${half} faxes with --rps ${rps} against a ${rps} rps limit, ${RATE_LIMIT_LATENCY_MS} ms latency`);
    const atLimit = await measuredDeletion(emu, common, rps, half, dir, cleanup);
    const headroomRps = round(rps * HEADROOM, 2);
    ctx.log(`rate-limit: archive --delete of the other ${faxes - half} faxes with --rps ${headroomRps}`);
    const withHeadroom = await measuredDeletion(emu, common, headroomRps, null, dir, cleanup);

    const r = ratio(atLimit.throughput, atLimit.bound);
    const figures: Record<string, Figure> = {
      faxes_per_run: half,
      rps_limit: rps,
      latency_ms: RATE_LIMIT_LATENCY_MS,
      requests_per_fax: atLimit.deleted > 0 ? round(atLimit.admitted / atLimit.deleted, 4) : null,
      bound_faxes_per_s: atLimit.bound === null ? null : round(atLimit.bound, 2),
      faxes_per_s: atLimit.throughput,
      ratio: r,
      ratio_wall: ratio(atLimit.wallThroughput, atLimit.wallBound),
      throttled_429: atLimit.throttled,
      failed: atLimit.failed,
      [`faxes_per_s_at_${headroomRps}rps`]: withHeadroom.throughput,
      [`ratio_at_${headroomRps}rps`]: ratio(withHeadroom.throughput, withHeadroom.bound),
      [`throttled_429_at_${headroomRps}rps`]: withHeadroom.throttled,
      [`failed_at_${headroomRps}rps`]: withHeadroom.failed,
    };
    return {
      scenario: 'rate-limit',
      figures,
      target: TARGET,
      pass: r !== null && r >= MIN_RATE_LIMIT_RATIO && atLimit.failed === 0 && atLimit.deleted === half,
      notes: [
        'measured: archive --delete over an already archived account (one listing + one DELETE per fax); media has no rate limit',
        'ratio = faxes/s over the run\'s work window (first event to summary) / bound (R plus the emulator\'s one-second burst over that window, / requests per fax); ratio_wall includes process start-up',
        `a second run with --rps ${headroomRps} (5% headroom) deletes the other half`,
      ],
    };
  } finally {
    await cleanup.run();
  }
}
