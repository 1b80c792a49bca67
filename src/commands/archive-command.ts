/**
 * `fax-sunset archive`: parse flags, wire the edges, run the archive use case, print, exit.
 */
import { Command } from 'commander';
import { runArchive, type ArchiveOptions } from '../pipeline/archive-run.js';
import { anchorRun } from '../records/chain-anchors.js';
import { defaultCsvPathFor, writeCatalogCsv } from '../catalog/csv-export.js';
import { inShard, parseShard } from '../pipeline/account-shard.js';
import { spoolDirFor } from '../archive/run-spool.js';
import type { RunAccounts } from '../twilio/account-directory.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { addSharedOptions, parsePositiveInt } from './shared-options.js';
import { chooseOutputMode, createRunOutput, formatBytes } from './run-output.js';
import { addStoreOptions, markGivenOptions, openArchiveResources, type ArchiveFlags } from './archive-resources.js';
import { confirmDeletion } from './delete-confirmation.js';
import { withRun } from './run-lifecycle.js';
import { parseFullListingEvery } from './full-listing-option.js';
import { describeCoverage } from '../pipeline/listing-sweeps.js';
import { AT_RISK_MARGIN_DAYS } from '../retention.js';

function withFullListingEvery(ms: number | undefined): { fullListingEveryMs?: number } {
  return ms === undefined ? {} : { fullListingEveryMs: ms };
}

/**
 * A date flag. A date-only value is a whole UTC day, inclusive (issue 17 §6): as a lower bound
 * (`--since`) the day's first second, as an upper bound (`--until`) its last, so
 * `--since 2021-11-29 --until 2021-11-29` lists every fax of that day.
 */
export function parseDateFlag(value: string | undefined, flag: string, bound: 'start' | 'end' = 'start'): Date | undefined {
  if (value === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const date = new Date(dateOnly ? `${value}T${bound === 'end' ? '23:59:59' : '00:00:00'}Z` : value);
  if (Number.isNaN(date.getTime()) || (dateOnly && date.toISOString().slice(0, 10) !== value)) {
    throw new UsageError(`${flag} must be a date like 2021-06-30 or 2021-06-30T20:00:00Z, got ${JSON.stringify(value)}`);
  }
  return date;
}

export function archiveCommand(): Command {
  const command = new Command('archive')
    .description('List every fax, fetch its media, store it, verify it, write the catalog and CSV; --delete removes verified faxes from Twilio');
  addArchiveOptions(command);
  command.action(async (flags: ArchiveFlags & Record<string, string | boolean | undefined>, self: Command) => {
    process.exitCode = await archiveAction(markGivenOptions(flags, self), 'archive');
  });
  return command;
}

export function syncCommand(): Command {
  const command = new Command('sync')
    .description('Nightly incremental archive: faxes created since the last watermark minus --lookback, plus everything unfinished');
  addSharedOptions(command, ['lookback', 'atRiskDays', 'fullListingEvery']);
  addArchiveOptions(command);
  command.addHelpText('after', `
Listing: every listing is recorded in the catalog's ledger. The watermark is where the account is
listed completely (completed listings only, never past a listing's own start); an unfinished listing
(a killed or failed run) is resumed first. A sync exits 1 while any account's listing is incomplete.`);
  command.action(async (flags: ArchiveFlags & Record<string, string | boolean | undefined>, self: Command) => {
    process.exitCode = await archiveAction(markGivenOptions(flags, self), 'sync');
  });
  return command;
}

function addArchiveOptions(command: Command): void {
  addSharedOptions(command, [
    'subaccounts', 'shard', 'delete', 'yes', 'maxDelete', 'since', 'until', 'verify', 'csv', 'workers', 'uploadConcurrency', 'maxAttempts', 'now',
    'catalog', 'store', 'twilioUrl', 'credentials', 'concurrency', 'rps', 'dryRun', 'json', 'quiet',
  ]);
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
    spoolDir: spoolDirFor(String(flags.catalog)),
    ...(flags.maxDelete !== undefined ? { maxDelete: parsePositiveInt(flags.maxDelete, '--max-delete', { allowZero: true }) } : {}),
    ...(flags.since !== undefined ? { since: parseDateFlag(String(flags.since), '--since')! } : {}),
    ...(flags.until !== undefined ? { until: parseDateFlag(String(flags.until), '--until', 'end')! } : {}),
    ...(kind === 'sync'
      ? {
          incrementalLookbackMs: parseDuration(String(flags.lookback), '--lookback'),
          atRiskDays: parsePositiveInt(flags.atRiskDays, '--at-risk-days', { allowZero: true }),
          ...withFullListingEvery(parseFullListingEvery(flags.fullListingEvery === undefined ? undefined : String(flags.fullListingEvery))),
        }
      : { atRiskDays: AT_RISK_MARGIN_DAYS }),
  };
  const nowFlag = parseDateFlag(flags.now === undefined ? undefined : String(flags.now), '--now');
  const now = nowFlag ? () => nowFlag : () => new Date();
  if (options.since && options.until && options.since > options.until) throw new UsageError('--since lies after --until: no fax can match');
  if (options.maxDelete !== undefined && !options.delete) throw new UsageError('--max-delete only makes sense with --delete');
  if (options.shard && !options.subaccounts) throw new UsageError('--shard splits the subaccounts: it needs --subaccounts');

  // Which accounts, with which credentials, is settled before the catalog is opened: a subaccount
  // without a credential is one exit-2 line that leaves nothing behind.
  let accounts: RunAccounts | undefined;
  const open = () => openArchiveResources(flags, kind, async (directory) => {
    const main = directory.mainAccountSid;
    accounts = await directory.accountsForRun({
      subaccounts: options.subaccounts,
      include: (sid) => !options.shard || inShard(sid, main, options.shard),
    });
  });
  return withRun(open, async (resources, run) => {
    const stopOnSignal = stopOnFirstSignal(output, () => {
      try {
        run.finish(ExitCode.itemsLeft, { stopped: true, error: 'stopped at once by a second signal' });
      } catch {
        // exiting anyway
      }
    });
    try {
      if (options.delete && !options.dryRun) await confirmDeletion(flags, options.maxDelete);
      const runId = options.dryRun ? null : run.start(kind, { ...options, store: resources.store.displayUrl });
      const result = await runArchive(
        {
          catalog: resources.catalog, store: resources.store, gateway: resources.gateway, directory: resources.directory, accounts, observer: output,
          knownSecrets: resources.secrets, runId, now, stopSignal: stopOnSignal.signal, ...(nowFlag ? { retentionNow: now } : {}),
        },
        options,
      );
      const s = result.summary;
      const changed = s.newFaxes + s.updatedFaxes + s.archived + s.metadataOnly + s.deleted + s.failed + s.lost > 0;
      let csvPath: string | null = null;
      // A sync that found nothing leaves the CSV as it was: no writes beyond its run record.
      if (!options.dryRun && (kind === 'archive' || changed)) {
        csvPath = String(flags.csv ?? defaultCsvPathFor(resources.catalog.path));
        output.phase('csv', {});
        await writeCatalogCsv(resources.catalog, csvPath);
      }
      const summary = {
        ...result.summary,
        // Exact bytes (an integer, what MIGRATION calls exact); the human form beside it.
        bytesStoredHuman: formatBytes(result.summary.bytesStored),
        catalog: resources.catalog.path,
        csv: csvPath,
        store: resources.store.displayUrl,
        exitCode: result.exitCode,
      };
      if (runId !== null) {
        run.finish(result.exitCode, { ...result.summary, failures: result.failures.length });
        // The chain's head where the catalog cannot reach (issue 18 §6): verify and report check against it.
        await anchorRun(resources.catalog, resources.store, { id: runId, kind, exitCode: result.exitCode, summary: result.summary as unknown as Record<string, unknown> }, (line) => output.warning(line));
      }
      output.summary(options.dryRun ? `${kind} (dry run: nothing was written)` : kind, summary,
        [...s.listing.map((c) => `  ${describeCoverage(c)}`),
          ...result.failures.slice(0, 20).map((f) => `  ${'outcome' in f ? f.outcome : ''} ${f.sid}: ${f.error ?? ('reason' in f ? f.reason ?? '' : '')}`)]);
      return result.exitCode;
    } finally {
      stopOnSignal.dispose();
      output.stop();
    }
  }, { secrets: (resources) => resources.secrets });
}

/**
 * A scheduler stops a job with SIGTERM (Kubernetes, systemd) and a person with Ctrl-C. The first
 * signal lets the faxes in flight finish and then ends the run normally: its run record finished,
 * the lock released, the rest left unfinished for the next run (exit 1). A second signal exits at
 * once; that too is safe (every step is idempotent) and the lock is still released on exit.
 */
function stopOnFirstSignal(output: { warning(message: string): void }, beforeExit: () => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      output.warning(`${signal} again: stopping now; the next run finishes what was in flight`);
      beforeExit();
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
