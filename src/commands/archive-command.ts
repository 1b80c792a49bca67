/**
 * `fax-sunset archive`: parse flags, wire the edges, run the archive use case, print, exit.
 */
import { Command, Option } from 'commander';
import { runArchive, type ArchiveOptions } from '../pipeline/archive-run.js';
import { writeCatalogCsv } from '../catalog/csv-export.js';
import { inShard, parseShard } from '../pipeline/account-shard.js';
import type { RunAccounts } from '../twilio/account-directory.js';
import { ExitCode, UsageError } from '../errors.js';
import { addSharedOptions, parsePositiveInt } from './shared-options.js';
import { chooseOutputMode, createRunOutput, formatBytes } from './run-output.js';
import { addStoreOptions, openArchiveResources, type ArchiveFlags } from './archive-resources.js';
import { dirname, join } from 'node:path';

export function parseDateFlag(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${flag} must be a date like 2021-06-30 or 2021-06-30T20:00:00Z, got ${JSON.stringify(value)}`);
  return date;
}

export function archiveCommand(): Command {
  const command = new Command('archive')
    .description('List every fax, fetch its media, store it, verify it, write the catalog and CSV; --delete removes verified faxes from Twilio');
  addArchiveOptions(command);
  command.action(async (flags: ArchiveFlags & Record<string, string | boolean | undefined>) => {
    process.exitCode = await archiveAction(flags, 'archive');
  });
  return command;
}

export function syncCommand(): Command {
  const command = new Command('sync')
    .description('Nightly incremental archive: faxes created since the last watermark minus --lookback, plus everything unfinished')
    .option('--lookback <hours>', 'relist this many hours before the watermark (late status changes)', '48')
    .option('--at-risk-days <days>', 'name unarchived faxes this close to Twilio\'s 180-day pruning', '14');
  addArchiveOptions(command);
  command.action(async (flags: ArchiveFlags & Record<string, string | boolean | undefined>) => {
    process.exitCode = await archiveAction(flags, 'sync');
  });
  return command;
}

function addArchiveOptions(command: Command): void {
  command
    .option('--subaccounts', 'also archive every subaccount, each with its own credentials (from the accounts list with the auth token; from --credentials with an API key)')
    .option('--shard <i/n>', 'with --subaccounts: only the subaccounts whose sid hashes to i of n (the main account is in 0); one catalog per shard')
    .option('--delete', 'delete from Twilio the faxes proven archived (two-phase, with receipts)')
    .option('--max-delete <n>', 'delete at most this many faxes in this run')
    .option('--since <date>', 'only faxes created after this date (UTC)')
    .option('--until <date>', 'only faxes created on or before this date (UTC)')
    .addOption(new Option('--verify <method>', 'verification: the strongest the store supports, or a full re-read').choices(['strongest', 'full']).default('strongest'))
    .option('--csv <path>', 'CSV listing of the archive (default: beside the catalog)')
    .option('--workers <n>', 'faxes archived at once', '16')
    .option('--upload-concurrency <n>', 'uploads to the store at once', '8')
    .option('--max-attempts <n>', 'give up retrying a failing fax after this many runs', '10')
    .option('--now <date>', 'the time to measure Twilio\'s 180-day retention from (default: now; for emulators)');
  addSharedOptions(command, ['catalog', 'store', 'twilioUrl', 'credentials', 'concurrency', 'rps', 'dryRun', 'json', 'quiet']);
  addStoreOptions(command);
}

export async function archiveAction(
  flags: ArchiveFlags & Record<string, string | boolean | undefined>,
  kind: 'archive' | 'sync',
): Promise<number> {
  const output = createRunOutput(chooseOutputMode(flags));
  const options: ArchiveOptions = {
    subaccounts: Boolean(flags.subaccounts),
    ...(flags.shard !== undefined ? { shard: parseShard(String(flags.shard)) } : {}),
    delete: Boolean(flags.delete),
    dryRun: Boolean(flags.dryRun),
    forceFullVerify: flags.verify === 'full',
    workers: parsePositiveInt(flags.workers, '--workers'),
    uploadConcurrency: parsePositiveInt(flags.uploadConcurrency, '--upload-concurrency'),
    maxAttempts: parsePositiveInt(flags.maxAttempts, '--max-attempts'),
    spoolDir: join(dirname(String(flags.catalog)), '.spool'),
    ...(flags.maxDelete !== undefined ? { maxDelete: parsePositiveInt(flags.maxDelete, '--max-delete', { allowZero: true }) } : {}),
    ...(flags.since !== undefined ? { since: parseDateFlag(String(flags.since), '--since')! } : {}),
    ...(flags.until !== undefined ? { until: parseDateFlag(String(flags.until), '--until')! } : {}),
    ...(kind === 'sync'
      ? {
          incrementalLookbackMs: parsePositiveInt(flags.lookback, '--lookback', { allowZero: true }) * 3_600_000,
          atRiskDays: parsePositiveInt(flags.atRiskDays, '--at-risk-days', { allowZero: true }),
        }
      : { atRiskDays: 14 }),
  };
  const nowFlag = parseDateFlag(flags.now === undefined ? undefined : String(flags.now), '--now');
  const now = nowFlag ? () => nowFlag : () => new Date();
  if (options.maxDelete !== undefined && !options.delete) throw new UsageError('--max-delete only makes sense with --delete');
  if (options.shard && !options.subaccounts) throw new UsageError('--shard splits the subaccounts: it needs --subaccounts');

  // Which accounts, with which credentials, is settled before the catalog is opened: a subaccount
  // without a credential is one exit-2 line that leaves nothing behind.
  let accounts: RunAccounts | undefined;
  const resources = await openArchiveResources(flags, kind, async (directory) => {
    const main = directory.mainAccountSid;
    accounts = await directory.accountsForRun({
      subaccounts: options.subaccounts,
      include: (sid) => !options.shard || inShard(sid, main, options.shard),
    });
  });
  const stopOnSignal = stopOnFirstSignal(output);
  try {
    const runId = options.dryRun ? null : resources.catalog.startRun(kind, { ...options, store: resources.store.displayUrl });
    const result = await runArchive(
      {
        catalog: resources.catalog, store: resources.store, gateway: resources.gateway, directory: resources.directory, accounts, observer: output,
        knownSecrets: resources.secrets, runId, now, stopSignal: stopOnSignal.signal,
      },
      options,
    );
    const s = result.summary;
    const changed = s.newFaxes + s.updatedFaxes + s.archived + s.metadataOnly + s.deleted + s.failed + s.lost > 0;
    let csvPath: string | null = null;
    // A sync that found nothing leaves the CSV as it was: no writes beyond its run record.
    if (!options.dryRun && (kind === 'archive' || changed)) {
      csvPath = String(flags.csv ?? join(dirname(resources.catalog.path), 'faxes.csv'));
      output.phase('csv', {});
      await writeCatalogCsv(resources.catalog, csvPath);
    }
    const summary = {
      ...result.summary,
      bytesStored: formatBytes(result.summary.bytesStored),
      catalog: resources.catalog.path,
      csv: csvPath,
      store: resources.store.displayUrl,
      exitCode: result.exitCode,
    };
    if (runId !== null) resources.catalog.finishRun(runId, result.exitCode, { ...result.summary, failures: result.failures.length });
    output.summary(options.dryRun ? `${kind} (dry run: nothing was written)` : kind, summary,
      result.failures.slice(0, 20).map((f) => `  ${'outcome' in f ? f.outcome : ''} ${f.sid}: ${f.error ?? ''}`));
    return result.exitCode;
  } finally {
    stopOnSignal.dispose();
    output.stop();
    await resources.close();
  }
}

/**
 * A scheduler stops a job with SIGTERM (Kubernetes, systemd) and a person with Ctrl-C. The first
 * signal lets the faxes in flight finish and then ends the run normally: its run record finished,
 * the lock released, the rest left unfinished for the next run (exit 1). A second signal exits at
 * once; that too is safe (every step is idempotent) and the lock is still released on exit.
 */
function stopOnFirstSignal(output: { warning(message: string): void }): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      output.warning(`${signal} again: stopping now; the next run finishes what was in flight`);
      process.exit(ExitCode.itemsLeft);
    }
    output.warning(`${signal}: finishing the faxes in flight, then stopping (send it again to stop at once)`);
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    },
  };
}
