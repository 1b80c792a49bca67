/**
 * The torture run (issue 7; issue 3's SIGKILL item): an emulated Twilio with faults, an S3 server
 * behind a proxy that fails and corrupts uploads, and `fax-sunset archive --subaccounts --delete`
 * killed with SIGKILL at random moments, then rerun until it exits 0 and audited independently.
 * `npm run torture` (scripts/torture.ts) and test/torture/torture.test.ts both call `runTorture`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type FaultKind as EmulatorFaultKind } from '../../src/emulator/index.js';
import { SeededRandom } from '../../src/emulator/seeded-random.js';
import { startFaultProxy, type FaultKind as ProxyFaultKind } from '../../test/support/fault-proxy.js';
import { startS3Server, type S3ServerKind } from '../../test/support/s3-server.js';
import { runArchiveChild, type ArchiveChildRun, type KillAnchor } from './archive-child.js';
import { auditArchive, type AuditResult } from './archive-audit.js';
import { emptyCatalogFacts, lockFileExists, readCatalogFacts, readCatalogProgress, readStoreFacts } from './audit-facts.js';
import { takeFaxSnapshot, type FaxSnapshot } from './fax-snapshot.js';

export interface TortureOptions {
  /** Faxes the emulated account starts with (spread over the main account and subaccounts). */
  faxes: number;
  subaccounts: number;
  /** Seeds the emulator's world and faults, the proxy's faults and the kill moments. */
  seed: number;
  /** SIGKILLs to land before the finishing reruns. */
  kills: number;
  /**
   * A kill lands uniformly between min and max milliseconds after its anchor: the spawn, or the
   * moment the run enters its archive or delete phase (chosen at random per kill, by `killAnchors`'
   * weights), so the kills spread over startup, listing, archiving and two-phase deletion however
   * long the job is.
   */
  minKillMs: number;
  maxKillMs: number;
  killAnchors: Partial<Record<KillAnchor, number>>;
  emulatorFaultRate: number;
  emulatorFaultKinds: EmulatorFaultKind[];
  /** How long an emulator 'slow' fault stalls. */
  slowMs: number;
  s3FaultRate: number;
  s3FaultKinds: ProxyFaultKind[];
  /** The S3 fault rate once the kills are over ("turned down"). */
  finishS3FaultRate: number;
  /** Reruns without kills allowed to reach exit 0. */
  maxFinishRuns: number;
  /** A run still going after this long is killed and reported (a hang is a finding). */
  runTimeoutMs: number;
  /** Extra arguments for every archive run. */
  archiveArgs: string[];
  /** Keep the work folder (catalog, CSV) for inspection. */
  keep: boolean;
}

export const DEFAULT_TORTURE_OPTIONS: TortureOptions = {
  faxes: 2000,
  subaccounts: 2,
  seed: 7,
  kills: 25,
  minKillMs: 300,
  maxKillMs: 5000,
  killAnchors: { spawn: 1, archive: 2, delete: 2 },
  emulatorFaultRate: 0.05,
  emulatorFaultKinds: ['500', '503', 'reset', 'truncate', 'corrupt', 'slow'],
  slowMs: 1000,
  s3FaultRate: 0.1,
  s3FaultKinds: ['500', '503', 'reset', 'flip'],
  finishS3FaultRate: 0,
  maxFinishRuns: 8,
  runTimeoutMs: 300_000,
  archiveArgs: [],
  keep: false,
};

export interface TortureRunRecord {
  index: number;
  stage: 'kill' | 'finish';
  /** Where the kill was aimed: ms after which anchor. */
  killPlan: { anchor: KillAnchor; afterMs: number } | null;
  killed: boolean;
  exitCode: number | null;
  durationMs: number;
  /** The phase the run had announced when it ended. */
  phase: string;
  /** Faxes archived (verified, metadata-only or since deleted) and deleted, per the catalog after the run. */
  archivedAfter: number;
  deletedAfter: number;
}

export interface TortureReport {
  options: TortureOptions;
  s3Kind: S3ServerKind;
  workDir: string;
  runs: TortureRunRecord[];
  kills: number;
  /** Kills by the phase they interrupted ('startup' = before the run announced anything). */
  killsByPhase: Record<string, number>;
  finishRuns: number;
  finalExitCode: number | null;
  emulatorFaults: Record<string, number>;
  emulatorThrottled: number;
  emulatorRequests: number;
  s3Faults: Record<string, number>;
  s3Requests: number;
  audit: AuditResult;
  /** Harness-level problems (a run that exited 2/3/4 or hung, no clean finish) plus the audit's. */
  violations: string[];
  durationMs: number;
}

const BUCKET = 'torture';
const PREFIX = 'archive';
const EMULATOR_NOW = '2021-12-01T00:00:00Z';

export async function runTorture(options: TortureOptions, log: (line: string) => void = () => {}): Promise<TortureReport> {
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'fax-sunset-torture-'));
  const catalogPath = join(workDir, 'catalog.sqlite');
  const world = { faxes: options.faxes, accounts: options.subaccounts, numbers: 6, seed: options.seed, now: new Date(EMULATOR_NOW) };

  log(`snapshot: hashing the media of ${options.faxes} faxes on a fault-free twin emulator (seed ${options.seed})`);
  const snapshot = await takeFaxSnapshot(world);
  const emulator = await startEmulator({
    ...world, port: 0, mediaPort: 0,
    faultRate: options.emulatorFaultRate, faultKinds: options.emulatorFaultKinds, slowMs: options.slowMs,
  });
  const s3 = await startS3Server();
  const proxy = await startFaultProxy({ target: s3.endpoint, seed: options.seed });
  try {
    assertSameWorld(snapshot, emulator.faxes());
    await s3.createBucket(BUCKET);
    log(`emulator ${emulator.url} (${emulator.accounts.length} accounts, fault rate ${options.emulatorFaultRate}); ` +
      `S3 ${s3.kind} ${s3.endpoint} behind fault proxy ${proxy.url} (PUT fault rate ${options.s3FaultRate})`);
    proxy.setFaults({ rate: options.s3FaultRate, kinds: options.s3FaultKinds, methods: ['PUT'] });

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      TMPDIR: process.env.TMPDIR,
      HOME: workDir,
      TWILIO_ACCOUNT_SID: emulator.mainAccount.sid,
      TWILIO_AUTH_TOKEN: emulator.mainAccount.authToken,
      FAX_SUNSET_TWILIO_URL: emulator.url,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      // No profile or SSO file of this machine's user may leak into the runs.
      AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
    };
    const args = [
      'archive', '--subaccounts', '--delete', '--now', EMULATOR_NOW,
      '--catalog', catalogPath, '--store', `s3://${BUCKET}/${PREFIX}`, '--s3-endpoint', proxy.url,
      // Retrying is the point here; a give-up limit is a policy the harness must not trip over.
      '--max-attempts', '1000',
      '--json', ...options.archiveArgs,
    ];

    const random = new SeededRandom(options.seed, 'torture-kills');
    const runs: TortureRunRecord[] = [];
    const violations: string[] = [];
    const killsByPhase: Record<string, number> = {};
    let kills = 0;
    let progress = { archived: 0, deleted: 0 };
    const record = (stage: 'kill' | 'finish', killPlan: TortureRunRecord['killPlan'], run: ArchiveChildRun): TortureRunRecord => {
      progress = existsSync(catalogPath) ? readCatalogProgress(catalogPath) : { archived: 0, deleted: 0 };
      const entry: TortureRunRecord = {
        index: runs.length + 1, stage, killPlan, killed: run.killed, exitCode: run.exitCode, durationMs: run.durationMs,
        phase: run.lastPhase, archivedAfter: progress.archived, deletedAfter: progress.deleted,
      };
      runs.push(entry);
      if (run.timedOut) violations.push(`run ${entry.index} still running after ${options.runTimeoutMs} ms (hung?) in phase ${run.lastPhase}`);
      if (!run.killed && !run.timedOut && run.exitCode !== 0 && run.exitCode !== 1) {
        violations.push(`run ${entry.index} exited ${run.exitCode} (expected 0 or 1): ${lastLine(run.stderrTail)}`);
      }
      log(`run ${String(entry.index).padStart(2)} ${stage.padEnd(6)} ` +
        (run.killed && killPlan
          ? `SIGKILL ${killPlan.afterMs} ms after ${killPlan.anchor}, in ${run.killedInPhase}, at ${run.durationMs} ms`
          : `exit ${run.exitCode} after ${run.durationMs} ms`) +
        `; catalog: ${entry.archivedAfter}/${options.faxes} archived, ${entry.deletedAfter} deleted`);
      return entry;
    };

    const anchors = Object.entries(options.killAnchors).filter(([, weight]) => (weight ?? 0) > 0) as [KillAnchor, number][];
    if (anchors.length === 0) throw new Error('killAnchors: give at least one anchor a positive weight');
    // How long each anchor lasted until the end of the last run that was not killed: as the job
    // shrinks (little left to archive or delete), the kill delay shrinks with it, so kills keep landing.
    const spanAfter: Partial<Record<KillAnchor, number>> = {};
    for (let attempt = 0; kills < options.kills && attempt < options.kills * 4; attempt++) {
      // Aim at the work that is left: an archive phase is empty once everything is archived, and a
      // delete-aimed run would first archive everything left unkilled, so deletion waits for that.
      const allArchived = progress.archived >= options.faxes;
      const useful = anchors.filter(([name]) =>
        (name !== 'archive' || !allArchived) && (name !== 'delete' || (allArchived && progress.deleted < options.faxes)));
      const anchor = random.weighted(useful.length > 0 ? useful : ([['spawn', 1]] as [KillAnchor, number][]));
      const span = spanAfter[anchor];
      const max = span === undefined ? options.maxKillMs : Math.min(options.maxKillMs, span * 0.9);
      const min = Math.min(options.minKillMs, max * 0.5);
      const killPlan = { anchor, afterMs: Math.round(min + random.next() * (max - min)) };
      const run = await runArchiveChild({ args, env, cwd: workDir, kill: killPlan, timeoutMs: options.runTimeoutMs });
      record('kill', killPlan, run);
      if (!run.killed && !run.timedOut) {
        for (const [name] of anchors) {
          const at = run.phaseAtMs[name];
          if (at !== undefined) spanAfter[name] = run.durationMs - at;
        }
      }
      if (run.killed) {
        kills++;
        const phase = run.killedInPhase ?? 'startup';
        killsByPhase[phase] = (killsByPhase[phase] ?? 0) + 1;
      }
    }
    if (kills < options.kills) violations.push(`only ${kills} of ${options.kills} kills landed inside a run`);

    proxy.setFaults({ rate: options.finishS3FaultRate, kinds: options.s3FaultKinds, methods: ['PUT'] });
    let finalExitCode: number | null = null;
    let finishRuns = 0;
    let lastStderr = '';
    while (finishRuns < options.maxFinishRuns && finalExitCode !== 0) {
      finishRuns++;
      const run = await runArchiveChild({ args, env, cwd: workDir, timeoutMs: options.runTimeoutMs });
      record('finish', null, run);
      finalExitCode = run.exitCode;
      lastStderr = run.stderrTail;
    }
    if (finalExitCode !== 0) violations.push(`no clean finish: the last of ${finishRuns} reruns exited ${finalExitCode}: ${lastLine(lastStderr)}`);

    log('audit: reading the catalog with raw SQL and every object straight from the S3 server');
    const stats = emulator.stats();
    const catalog = existsSync(catalogPath) ? readCatalogFacts(catalogPath) : emptyCatalogFacts('no catalog file was ever written');
    const store = await readStoreFacts({
      endpoint: s3.endpoint, bucket: BUCKET, prefix: PREFIX, region: s3.region,
      accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey,
    });
    const audit = auditArchive({
      snapshot: snapshot.faxes,
      remainingInTwilio: new Set(emulator.faxes().map((f) => String(f.sid))),
      twilioDeletedCount: stats.faxesDeleted,
      catalog,
      stored: store.stored,
      pendingMultipartUploads: store.pendingMultipartUploads,
      finishedClean: finalExitCode === 0,
      lockFilePresent: lockFileExists(catalogPath),
    });
    return {
      options, s3Kind: s3.kind, workDir, runs, kills, killsByPhase, finishRuns, finalExitCode,
      emulatorFaults: { ...stats.faults }, emulatorThrottled: stats.throttled, emulatorRequests: stats.requestsTotal + stats.mediaRequests,
      s3Faults: proxy.stats().injected, s3Requests: proxy.stats().requests,
      audit, violations: [...violations, ...audit.violations], durationMs: Date.now() - started,
    };
  } finally {
    await proxy.close();
    await s3.close();
    await emulator.close();
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

/** The twin and the tortured emulator must hold the same faxes, or the snapshot proves nothing. */
function assertSameWorld(snapshot: FaxSnapshot, faxes: Record<string, unknown>[]): void {
  const live = new Map(faxes.map((f) => [String(f.sid), String(f.account_sid)]));
  const same = live.size === snapshot.faxes.length && snapshot.faxes.every((f) => live.get(f.sid) === f.accountSid);
  if (!same) throw new Error('the fault-free twin emulator generated other faxes than the tortured one: the snapshot is unusable');
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
