/**
 * `fax-sunset verify`: re-audit the store against the catalog. Given several catalogs (shards, issue
 * 15 §1) it checks the set as a whole (shard-set.ts), then audits each catalog on its own.
 */
import { Command } from 'commander';
import { runVerify } from '../verify/verify-archive.js';
import { describeError, ExitCode, UsageError } from '../errors.js';
import { anchorProblems, checkAnchors, type AnchorCheck } from '../records/chain-anchors.js';
import { assertStoreHoldsArchive } from '../verify/store-probe.js';
import { addStoreOptions, markGivenOptions, openCatalogAndStore, type ArchiveFlags } from './archive-resources.js';
import { chooseOutputMode, createRunOutput, type RunOutput } from './run-output.js';
import { withRun } from './run-lifecycle.js';
import { addSharedOptions, parsePositiveInt } from './shared-options.js';
import { catalogSetOption, catalogValues } from './catalog-set-option.js';
import { catalogPathsFrom, checkShardSet, readShardCatalog } from '../verify/shard-set.js';

interface VerifyOnlyFlags { full?: boolean; verify?: string; sample?: string; workers: string }
type VerifySummary = Record<string, unknown> & { exitCode: number; faxesChecked: number; mismatch: number; missing: number; unverifiable: number };
type VerifyFlags = Omit<ArchiveFlags, 'catalog'> & VerifyOnlyFlags & { catalog?: string | string[] };

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
    .description('Re-audit every stored object against the catalog: present, same size and SHA-256, sidecars included');
  addSharedOptions(command, ['verifyMethod', 'full', 'sample', 'verifyWorkers', 'store', 'json', 'quiet']);
  command.addOption(catalogSetOption());
  // Only the store flags a reader needs: the writers' ones (--sse, --retain-until, ...) come from
  // their FAX_SUNSET_* variables for the writers and are refused here as the no-ops they would be.
  addStoreOptions(command, { readOnly: true });
  command.action(async (rawFlags: VerifyFlags, self: Command) => {
    const catalogs = rawFlags.catalog;
    const flags = markGivenOptions({ ...rawFlags, catalog: undefined } as ArchiveFlags & VerifyOnlyFlags, self);
    flags.full = Boolean(flags.full) || flags.verify === 'full';
    const output = createRunOutput(chooseOutputMode(flags));
    const settings = { samplePercent: parseSamplePercent(flags.sample), concurrency: parsePositiveInt(flags.workers, '--workers') };
    const paths = catalogPathsFrom(catalogValues(catalogs));
    try {
      if (paths.length === 1) {
        const one = await verifyCatalog({ ...flags, catalog: paths[0]! }, settings, output);
        output.summary('verify', one);
        process.exitCode = one.exitCode;
        return;
      }
      // Several catalogs (shards): the set is checked as a whole, then each catalog on its own (its chain, its anchors).
      const shards = paths.map(readShardCatalog);
      const set = checkShardSet(shards);
      for (const problem of set.problems) output.warning(`SHARD SET ${problem.kind}: ${problem.message}`);
      const results = [];
      for (const shard of shards) {
        const result = await verifyCatalog({ ...flags, catalog: shard.path }, settings, output);
        results.push({ catalog: shard.path, shard: shard.shard, runs: shard.runs.map((r) => r.id), ...result });
      }
      // A set that is not whole (a shard missing, a fax or an account twice) is a wrong set of catalogs: fix and rerun.
      const exitCode = Math.max(set.problems.length > 0 ? ExitCode.usage : ExitCode.ok, ...results.map((r) => r.exitCode));
      output.summary('verify', {
        catalogs: paths.length,
        shardCount: set.count,
        shardProblems: set.problems,
        duplicateFaxes: set.duplicateFaxes,
        faxesChecked: results.reduce((a, r) => a + r.faxesChecked, 0),
        mismatch: results.reduce((a, r) => a + r.mismatch, 0),
        missing: results.reduce((a, r) => a + r.missing, 0),
        unverifiable: results.reduce((a, r) => a + r.unverifiable, 0),
        shards: results,
        exitCode,
      });
      process.exitCode = exitCode;
    } finally {
      output.stop();
    }
  });
  return command;
}

/** One catalog audited against the store: recorded as a verify run in it; its summary (exitCode included). */
async function verifyCatalog(
  flags: ArchiveFlags & { full?: boolean },
  settings: { samplePercent: number; concurrency: number },
  output: RunOutput,
): Promise<VerifySummary> {
  const { samplePercent, concurrency } = settings;
  let summary: VerifySummary | null = null;
  // verify never creates a catalog: a typo in --catalog is refused, not audited as empty (issue 17 §1).
  await withRun(() => openCatalogAndStore(flags, 'verify', { accountSid: null, mustExist: true }), async ({ catalog, store, recordMove }, run) => {
    // A store holding none of the catalog's objects is the wrong store: refused before anything is recorded.
    await assertStoreHoldsArchive(catalog, store);
    recordMove();
    const runId = run.start('verify', { full: Boolean(flags.full), samplePercent, store: store.displayUrl });
    const result = await runVerify(
      {
        catalog, store, runId,
        observer: {
          started: (total) => output.phase('verify', { total }),
          faxChecked: () => output.advance(),
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
    // The catalog against every anchor in the store (issue 18 §6): edited after the fact, it no longer matches.
    let anchors: AnchorCheck;
    try {
      anchors = await checkAnchors(catalog.path, store, catalog.identity()?.accountSid ?? null);
    } catch (error) {
      output.warning(`the chain anchors in the store could not be checked: ${describeError(error)}`);
      anchors = { anchors: 0, matched: 0, mismatched: [], foreign: 0, latest: null, unreadable: [] };
    }
    for (const line of anchorProblems(anchors)) output.warning(line);
    if (anchors.mismatched.length > 0) result.exitCode = Math.max(result.exitCode, ExitCode.itemsLeft) as typeof result.exitCode;
    run.finish(result.exitCode, { ...result.summary, anchorsMatched: anchors.matched, anchorsMismatched: anchors.mismatched.length });
    // The findings by name too (the first ones), so a scheduler that keeps only the summary line knows what is wrong.
    const problems = result.problems.slice(0, PROBLEMS_NAMED).map((f) => ({ faxSid: f.faxSid, kind: f.kind, outcome: f.outcome, key: f.key }));
    // Faxes waiting for a person have nothing in the store to audit, but verify names them (issue 11 §2).
    const needsReview = catalog.countByState()['needs-review'] ?? 0;
    const needsReviewSids = catalog.listNeedsReview({ limit: PROBLEMS_NAMED }).map((f) => f.sid);
    summary = { ...result.summary, problems, anchors: { checked: anchors.anchors, matched: anchors.matched, mismatched: anchors.mismatched, latest: anchors.latest }, needsReview, needsReviewSids, store: store.displayUrl, exitCode: result.exitCode };
    return result.exitCode;
  });
  return summary!;
}
