/**
 * Scenario 2, against rclone: unthrottled on loopback, the same media moved into the same
 * S3-compatible server (moto) by `rclone copy` and by the archiver, with as many rclone transfers as
 * the archiver's uploads at once. Target: the archiver, which also writes a sidecar per fax, checks
 * every file (type, size, pages), verifies every object and commits the catalog, at >= 1.5x rclone and
 * <= 10 ms of archiver CPU per fax (issue 16). rclone runs again at twice the transfers: the S3
 * server's own ceiling on this machine (moto answers every request with `Connection: close`).
 *
 * What differs, honestly: rclone reads the files from a local folder (written from the emulator's
 * media beforehand); the archiver downloads them from the emulator's media host, which generates the
 * bytes on the fly in the bench's process, on the same cores. rclone runs first, the archiver second,
 * into separate prefixes of one bucket. rclone is configured by environment only (no config file).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { DEFAULT_EMULATOR_NOW } from '../../src/emulator/index.js';
import { startS3Server } from '../../test/support/s3-server.js';
import { BenchCleanup } from './bench-cleanup.js';
import { rcloneVersion } from './bench-environment.js';
import { startBenchEmulator } from './bench-emulator.js';
import { phaseStartMs, runCli, summaryLine } from './run-cli.js';
import { MAX_CPU_MS_PER_FAX, MIN_RCLONE_RATIO } from './bench-targets.js';
import type { ScenarioContext } from './scenario-context.js';
import { perSecond, ratio, type ScenarioResult } from './scenario-result.js';

const TARGET = 'archiver files/s >= 1.5x rclone; <= 10 ms archiver CPU per fax';
/** The archiver's uploads at once, its media downloads at once, its workers and rclone's --transfers. */
export const TRANSFERS = 8;
const BUCKET = 'bench';

/** Finds rclone, or installs Debian's package when running as root with apt. Returns how it was found. */
function ensureRclone(log: (m: string) => void): string {
  if (rcloneVersion()) return 'found on PATH';
  log('rclone: not on PATH, trying apt-get install -y rclone');
  const result = spawnSync('sh', ['-c', 'apt-get install -y rclone || (apt-get update && apt-get install -y rclone)'], { stdio: 'ignore', timeout: 300_000 });
  if (result.status === 0 && rcloneVersion()) return 'installed with apt-get';
  throw new Error('rclone is not installed and apt-get could not install it');
}

/** The environment that defines the rclone remote `bench:` (no config file is read or written). */
export function rcloneEnv(endpoint: string, accessKeyId: string, secretAccessKey: string, region: string): Record<string, string> {
  return {
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: secretAccessKey,
    RCLONE_CONFIG_BENCH_REGION: region,
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
    RCLONE_S3_NO_CHECK_BUCKET: 'true',
  };
}

function runRclone(args: string[], env: Record<string, string>, cleanup: BenchCleanup): Promise<{ exitCode: number | null; durationMs: number; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.AWS_CA_BUNDLE;
  const started = performance.now();
  const child = spawn('rclone', args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.add(`kill rclone ${child.pid}`, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ exitCode, durationMs: performance.now() - started, stderr }));
  });
}

/** Writes every fax's media into `dir` (one file per fax, as the archiver names it). Returns the count. */
async function exportMedia(faxes: Record<string, unknown>[], dir: string): Promise<number> {
  const limit = pLimit(TRANSFERS);
  const withMedia = faxes.filter((f) => typeof f.media_url === 'string' && f.media_url !== '');
  await Promise.all(
    withMedia.map((fax) =>
      limit(async () => {
        const response = await fetch(String(fax.media_url), { headers: { 'User-Agent': 'fax-sunset-bench' } });
        if (!response.ok || !response.body) throw new Error(`media of ${String(fax.sid)}: HTTP ${response.status}`);
        const ext = (response.headers.get('content-type') ?? '').includes('tiff') ? 'tiff' : 'pdf';
        const folder = join(dir, String(fax.account_sid));
        mkdirSync(folder, { recursive: true });
        await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(join(folder, `${String(fax.sid)}.${ext}`)));
      }),
    ),
  );
  return withMedia.length;
}

/** Whether the S3 server keeps a connection open after answering (moto's Werkzeug says `Connection: close`). */
async function serverKeepsConnections(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, { method: 'GET' });
    await response.arrayBuffer();
    return (response.headers.get('connection') ?? '').toLowerCase() !== 'close';
  } catch {
    return false;
  }
}

export async function rcloneScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const faxes = ctx.quick ? 120 : 1000;
  const cleanup = new BenchCleanup();
  try {
    const rcloneFound = ensureRclone(ctx.log);
    const s3 = await startS3Server();
    cleanup.add('stop S3 server', () => s3.close());
    await s3.createBucket(BUCKET);
    const emu = await startBenchEmulator({ faxes, seed: 7 }, cleanup);
    const dir = cleanup.tempDir('rclone');
    const source = join(dir, 'source');

    ctx.log(`rclone: writing the media of ${faxes} faxes to a local folder`);
    const exportStarted = performance.now();
    const files = await exportMedia(emu.emulator.faxes(), source);
    // The emulator's media host serving the same files to a plain client: the ceiling of the
    // archiver's source on this machine.
    const exportMs = performance.now() - exportStarted;
    const listed = readdirSync(source, { recursive: true }).filter((name) => /\.(pdf|tiff)$/.test(String(name))).length;

    ctx.log(`rclone: rclone copy of ${files} files with --transfers ${TRANSFERS} into ${s3.kind}`);
    const rclone = await runRclone(
      ['copy', source, `bench:${BUCKET}/rclone`, '--transfers', String(TRANSFERS), '--checkers', String(TRANSFERS), '--no-traverse'],
      rcloneEnv(s3.endpoint, s3.accessKeyId, s3.secretAccessKey, s3.region),
      cleanup,
    );
    if (rclone.exitCode !== 0) throw new Error(`rclone exited ${rclone.exitCode}: ${rclone.stderr.slice(-300)}`);
    ctx.log(`rclone: again with --transfers ${TRANSFERS * 2} (the server's ceiling)`);
    const rcloneWide = await runRclone(
      ['copy', source, `bench:${BUCKET}/rclone-${TRANSFERS * 2}`, '--transfers', String(TRANSFERS * 2), '--checkers', String(TRANSFERS * 2), '--no-traverse'],
      rcloneEnv(s3.endpoint, s3.accessKeyId, s3.secretAccessKey, s3.region),
      cleanup,
    );
    const keepAlive = await serverKeepsConnections(s3.endpoint);

    ctx.log(`rclone: fax-sunset archive of ${faxes} faxes (${files} with media) into ${s3.kind}`);
    const run = await runCli(
      [
        'archive', '--catalog', join(dir, 'catalog.sqlite'), '--store', `s3://${BUCKET}/archiver`, '--s3-endpoint', s3.endpoint,
        '--now', DEFAULT_EMULATOR_NOW.toISOString(), '--workers', String(TRANSFERS), '--upload-concurrency', String(TRANSFERS),
        '--media-concurrency', String(TRANSFERS), '--json',
      ],
      {
        cwd: dir,
        env: { ...emu.cliEnv, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region },
        cleanup,
      },
    );
    const summary = summaryLine(run);
    if (run.exitCode !== 0) throw new Error(`archive exited ${run.exitCode}: ${run.stderrTail.slice(-300)}`);
    const archived = Number(summary?.archived ?? 0);
    const firstEventMs = phaseStartMs(run, 'reconcile') ?? 0;
    const workMs = (summary ? Number(summary.receivedMs) : run.durationMs) - firstEventMs;

    const rcloneRate = perSecond(listed, rclone.durationMs, 2);
    const archiverWall = perSecond(archived, run.durationMs, 2);
    const archiverWork = perSecond(archived, workMs, 2);
    const r = ratio(archiverWall, rcloneRate);
    const cpuMsPerFax = run.cpuSeconds !== null && archived > 0 ? Math.round((run.cpuSeconds * 1000 * 10) / archived) / 10 : null;
    return {
      scenario: 'rclone',
      figures: {
        s3_server: s3.kind,
        media_files: archived,
        transfers: TRANSFERS,
        rclone_files_per_s: rcloneRate,
        archiver_files_per_s: archiverWall,
        ratio: r,
        archiver_files_per_s_work: archiverWork,
        ratio_work: ratio(archiverWork, rcloneRate),
        emulator_media_files_per_s: perSecond(files, exportMs, 2),
        rclone_s: Math.round(rclone.durationMs) / 1000,
        archiver_s: Math.round(run.durationMs) / 1000,
        archiver_cpu_s: run.cpuSeconds,
        archiver_cpu_ms_per_fax: cpuMsPerFax,
        [`rclone_${TRANSFERS * 2}_transfers_files_per_s`]: rcloneWide.exitCode === 0 ? perSecond(listed, rcloneWide.durationMs, 2) : null,
        s3_server_keeps_connections: keepAlive ? 'yes' : 'no (Connection: close)',
      },
      target: TARGET,
      pass: r !== null && r >= MIN_RCLONE_RATIO && cpuMsPerFax !== null && cpuMsPerFax <= MAX_CPU_MS_PER_FAX && archived === files,
      notes: [
        `rclone ${rcloneFound}; its files come from local disk, the archiver's from the emulator generating them on the same 2 cores`,
        `the archiver also stores ${archived + Number(summary?.metadataOnly ?? 0)} sidecars, checks each file, verifies each object (from the PUT's ETag and checksum) and commits the catalog; rclone checks MD5/ETag`,
        `archiver_cpu_ms_per_fax: the archiver process's CPU (start-up included) over the faxes with media; keep-alive cannot help where s3_server_keeps_connections is no: every request pays a connect, rclone's too`,
        'ratio uses wall time for both (archiver start-up included); ratio_work uses the archiver\'s work window',
      ],
    };
  } finally {
    await cleanup.run();
  }
}
