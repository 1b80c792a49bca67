/**
 * Scenario 3, memory: the archiver's peak RSS (VmHWM of the spawned CLI) archiving a small and a
 * large account to a filesystem store. Target: flat in the number of faxes and under 150 MB (issue 16).
 *
 * Realistic media for 100k faxes is ~35 GB and about half an hour on a 2-core machine (measured:
 * ~17 faxes/s, ~350 KB per fax), so the large runs keep media on 1 fax in MEDIA_EVERY and make the
 * others metadata-only through the emulator's own `updateFax` hook (they still cost a listing row,
 * a sidecar upload, a verification and three catalog commits each). A realistic small run (every
 * fax with its media) is measured too, so the mix can be compared with it.
 */
import { DEFAULT_EMULATOR_NOW, type RunningEmulator } from '../../src/emulator/index.js';
import { faxesWithMedia, startBenchEmulator } from './bench-emulator.js';
import { BenchCleanup } from './bench-cleanup.js';
import { runCli, summaryLine } from './run-cli.js';
import { MAX_ARCHIVE_RSS_MB } from './bench-targets.js';
import type { ScenarioContext } from './scenario-context.js';
import { mebibytes, memoryVerdict, perSecond, type Figure, type ScenarioResult } from './scenario-result.js';

const CEILING_BYTES = MAX_ARCHIVE_RSS_MB * 1024 * 1024;
const TARGET = 'peak RSS flat (large <= 1.5x small) and < 150 MB';
/** One fax in this many keeps its media in the mixed runs. */
export const MEDIA_EVERY = 20;

interface MemoryRun {
  faxes: number;
  withMedia: number;
  peakRssBytes: number | null;
  durationMs: number;
  exitCode: number | null;
  archived: number;
}

/** Removes the media of all but one fax in `every` (deterministic: list order). Returns faxes left with media. */
export function thinOutMedia(emulator: RunningEmulator, every: number): number {
  let seen = 0;
  let kept = 0;
  for (const fax of emulator.faxes()) {
    if (typeof fax.media_url !== 'string' || fax.media_url === '') continue;
    if (seen++ % every === 0) kept++;
    else emulator.updateFax(String(fax.sid), { media: false });
  }
  return kept;
}

/** Minutes `faxes` would take at the rate of the all-media run (null when it did not run). */
function realisticMinutes(faxes: number, run: MemoryRun): number | null {
  const rate = perSecond(run.faxes, run.durationMs);
  return rate ? Math.round(faxes / rate / 60) : null;
}

async function measure(ctx: ScenarioContext, faxes: number, mediaEvery: number): Promise<MemoryRun> {
  const cleanup = new BenchCleanup();
  try {
    const emu = await startBenchEmulator({ faxes, seed: 3 }, cleanup);
    const withMedia =
      mediaEvery > 1 ? thinOutMedia(emu.emulator, mediaEvery) : faxesWithMedia(emu.emulator);
    ctx.log(`memory: archiving ${faxes} faxes (${withMedia} with media) to a filesystem store`);
    const dir = cleanup.tempDir('memory');
    const run = await runCli(
      ['archive', '--catalog', `${dir}/catalog.sqlite`, '--store', `${dir}/media`, '--now', DEFAULT_EMULATOR_NOW.toISOString(), '--json'],
      { cwd: dir, env: emu.cliEnv, cleanup },
    );
    const summary = summaryLine(run);
    if (run.exitCode !== 0) ctx.log(`memory: archive exited ${run.exitCode}: ${run.stderrTail.slice(-300)}`);
    return {
      faxes,
      withMedia,
      peakRssBytes: run.peakRssBytes,
      durationMs: run.durationMs,
      exitCode: run.exitCode,
      archived: Number(summary?.archived ?? 0) + Number(summary?.metadataOnly ?? 0),
    };
  } finally {
    await cleanup.run();
  }
}

export async function memoryScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const small = ctx.quick ? 200 : 1000;
  const large = ctx.quick ? 2000 : 100_000;
  // No fax at all: what node and the SDKs cost before the first fax.
  const baseline = await measure(ctx, 0, 1);
  const realistic = await measure(ctx, small, 1);
  const smallMix = await measure(ctx, small, MEDIA_EVERY);
  const largeMix = await measure(ctx, large, MEDIA_EVERY);
  const verdict = memoryVerdict(smallMix.peakRssBytes, largeMix.peakRssBytes, CEILING_BYTES);
  const runs = [realistic, smallMix, largeMix];
  const allDone = runs.every((r) => r.exitCode === 0 && r.archived === r.faxes);
  const figures: Record<string, Figure> = { peak_rss_mb_0_faxes: mebibytes(baseline.peakRssBytes) };
  for (const [label, run] of [[`${small}_all_media`, realistic], [`${small}_mix`, smallMix], [`${large}_mix`, largeMix]] as const) {
    figures[`peak_rss_mb_${label}`] = mebibytes(run.peakRssBytes);
    figures[`faxes_per_s_${label}`] = perSecond(run.faxes, run.durationMs);
  }
  figures.n_large = large;
  figures.media_faxes_large = largeMix.withMedia;
  figures.growth = smallMix.peakRssBytes && largeMix.peakRssBytes ? Math.round((largeMix.peakRssBytes / smallMix.peakRssBytes) * 100) / 100 : null;
  return {
    scenario: 'memory',
    figures,
    target: TARGET,
    pass: verdict.pass && allDone,
    notes: [
      `mix = media on 1 fax in ${MEDIA_EVERY} (the rest metadata-only via the emulator's updateFax hook): realistic media for ${large} faxes would take ~${realisticMinutes(large, realistic)} min at the all-media rate measured here`,
      'peak = VmHWM of the spawned CLI (the built dist/cli.js, as operators run it)',
      ...(allDone ? [] : ['a run did not archive every fax: see the log above']),
    ],
  };
}
