/**
 * `fax-sunset verify`: re-audit the store against the catalog.
 */
import { Command } from 'commander';
import { runVerify } from '../pipeline/verify-archive.js';
import { UsageError } from '../errors.js';
import { addStoreOptions, openCatalogAndStore, type ArchiveFlags } from './archive-resources.js';
import { chooseOutputMode, createRunOutput } from './run-output.js';
import { addSharedOptions, parsePositiveInt } from './shared-options.js';

/** Findings named in the summary line; every one is also printed as it is found and kept in the catalog. */
const PROBLEMS_NAMED = 50;

export function parseSamplePercent(value: string | undefined): number {
  if (value === undefined) return 100;
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim());
  const n = match ? Number(match[1]) : Number.NaN;
  if (!(n > 0 && n <= 100)) throw new UsageError(`--sample must be a share like 5% (more than 0, at most 100), got ${JSON.stringify(value)}`);
  return n;
}

export function verifyCommand(): Command {
  const command = new Command('verify')
    .description('Re-audit every stored object against the catalog: present, same size and SHA-256, sidecars included')
    .option('--full', 're-read and re-hash every byte instead of trusting the store\'s checksum')
    .option('--sample <percent>', 'audit a random share of faxes, e.g. 5%')
    .option('--workers <n>', 'faxes audited at once', '16');
  addSharedOptions(command, ['catalog', 'store', 'json', 'quiet']);
  // The writers' store flags too, so one $STORE_FLAGS serves every command of a runbook.
  addStoreOptions(command);
  command.action(async (flags: ArchiveFlags & { full?: boolean; sample?: string; workers: string }) => {
    const output = createRunOutput(chooseOutputMode(flags));
    const samplePercent = parseSamplePercent(flags.sample);
    const concurrency = parsePositiveInt(flags.workers, '--workers');
    const { catalog, store, close } = await openCatalogAndStore(flags, 'verify');
    try {
      const runId = catalog.startRun('verify', { full: Boolean(flags.full), samplePercent });
      const result = await runVerify(
        {
          catalog, store, runId,
          observer: {
            started: (total) => output.phase('archive', { total }),
            finding: (f) => {
              if (f.outcome !== 'match') {
                output.warning(`${f.outcome.toUpperCase()} ${f.kind} ${f.key} (fax ${f.faxSid}, ${f.method})${f.detail ? `: ${f.detail}` : ''}` +
                  (f.consequence === 'deleted-from-twilio' ? ' — ALREADY DELETED FROM TWILIO: restore from a backup or replica' :
                    f.consequence === 'will-rearchive' ? ' — the next archive/sync run archives it again' : ''));
              }
            },
          },
        },
        { full: Boolean(flags.full), samplePercent, concurrency },
      );
      catalog.finishRun(runId, result.exitCode, { ...result.summary });
      // The findings by name too (the first ones), so a scheduler that keeps only the summary line knows what is wrong.
      const problems = result.problems.slice(0, PROBLEMS_NAMED).map((f) => ({ faxSid: f.faxSid, kind: f.kind, outcome: f.outcome, key: f.key }));
      // Faxes waiting for a person have nothing in the store to audit, but verify names them (issue 11 §2).
      const needsReview = catalog.countByState()['needs-review'] ?? 0;
      const needsReviewSids = catalog.listNeedsReview({ limit: PROBLEMS_NAMED }).map((f) => f.sid);
      output.summary('verify', { ...result.summary, problems, needsReview, needsReviewSids, store: store.displayUrl, exitCode: result.exitCode });
      process.exitCode = result.exitCode;
    } finally {
      output.stop();
      await close();
    }
  });
  return command;
}
