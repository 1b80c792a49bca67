/**
 * The one-shot archive use case: list every fax of the account (and subaccounts), archive each
 * unfinished one oldest first (Twilio prunes at 180 days), then, only when asked, delete from
 * Twilio what is proven archived. Returns a result per failed item and a summary; the exit code
 * follows from the summary (`exitCodeForSummary`), never from an exception thrown half-way.
 */
import type { Catalog } from '../catalog/catalog.js';
import { AuthError, describeError, ExitCode, InvariantError, type ExitCodeValue } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import { createAccountDirectory, type AccountDirectory, type AccountProblem, type RunAccounts } from '../twilio/account-directory.js';
import { ArchiveEngine, type DrainResult, type DrainSummary } from '../archive/archive-engine.js';
import type { FaxResult } from '../archive/archive-fax.js';
import { silentObserver, type ArchiveObserver, type DeletionResult } from './archive-observer.js';
import { deleteArchivedFaxes, reconcileOpenDeletions, type DeletionContext } from './delete-archived.js';
import { runDeletionBlocker } from './deletion-policy.js';
import { listIntoCatalog } from './list-into-catalog.js';
import { describeCoverage, type AccountCoverage } from './listing-sweeps.js';
import { describeSkew, NOTABLE_SKEW_MS } from '../twilio/twilio-clock.js';
import { inShard, type AccountShard } from './account-shard.js';
import { atRiskCutoffMs, daysUntilPrunedMs, TWILIO_RETENTION_DAYS } from '../retention.js';

export interface ArchiveOptions {
  subaccounts: boolean;
  /** `--shard i/n`: only the accounts of this shard (needs `subaccounts`). */
  shard?: AccountShard;
  since?: Date;
  until?: Date;
  delete: boolean;
  maxDelete?: number;
  dryRun: boolean;
  forceFullVerify: boolean;
  /** Faxes archived at once (each holds one download or upload at a time). */
  workers: number;
  /** Uploads to the store at once. */
  uploadConcurrency: number;
  /** Failed items are retried by later runs until this many attempts. */
  maxAttempts: number;
  spoolDir: string;
  /**
   * Nightly sync: list only faxes created after each account's watermark minus this lookback
   * (faxes whose status changed late), plus every unfinished item already in the catalog.
   */
  incrementalLookbackMs?: number;
  /** Faxes this close to Twilio's 180-day pruning and not archived are named as at risk. */
  atRiskDays?: number;
  /** With `incrementalLookbackMs`: list everything again when no full listing started within this long. */
  fullListingEveryMs?: number;
  /** Faxes per listing page (1..1000; default 1000). */
  pageSize?: number;
}

export interface ArchiveDependencies {
  catalog: Catalog;
  store: MediaStore;
  gateway: TwilioGateway;
  /** Which accounts to act for, with which credentials; default: the gateway's, subaccounts by its Accounts list. */
  directory?: AccountDirectory;
  /** The directory's answer for this run, when the caller already asked it (before opening the catalog). */
  accounts?: RunAccounts;
  observer?: ArchiveObserver;
  now?: () => Date;
  /**
   * "Now" for Twilio's 180-day retention (`--now`). Default: Twilio's own clock from its responses'
   * Date headers (issue 17 §5: rehearsals against the emulator and real runs must agree), the local
   * clock when no header was seen.
   */
  retentionNow?: () => Date;
  knownSecrets?: readonly string[];
  runId: number | null;
  /**
   * Aborted when the operator asks the run to stop (SIGTERM from a scheduler, Ctrl-C): no new fax
   * is started and no new deletion is sent; work in flight finishes, so the catalog and the lock
   * are left clean and the unstarted faxes stay unfinished for the next run.
   */
  stopSignal?: AbortSignal;
}

export interface ArchiveSummary {
  accounts: number;
  listed: number;
  newFaxes: number;
  updatedFaxes: number;
  archived: number;
  metadataOnly: number;
  lost: number;
  failed: number;
  bytesStored: number;
  deleted: number;
  deleteFailed: number;
  wouldDelete: number;
  deletionBlockedReason: string | null;
  /** Faxes not deleted because the pre-delete proof found an object missing or different (archived again). */
  deleteProofFailed: number;
  /** Faxes not deleted because the store did not answer the pre-delete proof (a later run asks again). */
  deleteStoreUnavailable: number;
  /** Open deletion intents Twilio did not answer for this run (a later run fetches them again). */
  deletionsUnsettled: number;
  /** Faxes not archived at the end of the run (failed ones included; lost ones are counted as lost). */
  unfinished: number;
  /** Unarchived faxes within `atRiskDays` of Twilio's 180-day pruning when the run started. */
  atRisk: number;
  /** The first of them by name (oldest first), so a scheduler's one summary line names them too. */
  atRiskSids: string[];
  /** Faxes found gone from Twilio before they were archived, by name (the first ones). */
  lostSids: string[];
  /**
   * Faxes waiting for a person (state needs-review: the record says media, none can be had), in the
   * catalog for these accounts at the end of the run, and the first of them by name. They do not make
   * the run exit 1 (nothing a rerun can do); `fax-sunset resolve` is the way out (MIGRATION.md).
   */
  needsReview: number;
  needsReviewSids: string[];
  durationMs: number;
  dryRun: boolean;
  /** True when the run was asked to stop before it was done (what is left stays unfinished). */
  stopped: boolean;
  /** Per account: "listed completely up to T", from the listing ledger (issue 11 §3). */
  listing: AccountCoverage[];
  /** Accounts whose listing is not complete (a sweep unfinished, or never listed completely): exit 1. */
  listingIncomplete: number;
  /** The instant Twilio's 180-day retention was measured from (Twilio's clock unless --now). */
  retentionNow: string;
  /** Twilio's clock (its Date header) minus the local clock, ms; null when no header was seen. */
  twilioClockSkewMs: number | null;
  /**
   * Accounts whose trouble stayed their own (issue 11 §4): suspended, refused, failing to list, or
   * with quarantined records. The run finished every other account and exits 1.
   */
  accountsFailed: AccountProblem[];
  /** Records quarantined from a listing (a malformed record, or one of another account). */
  quarantined: number;
  /** Accounts with unfinished faxes in the catalog that this run did not reach (counted in `unfinished`). */
  accountsNotReached: Array<AccountProblem & { unfinished: number }>;
}

export interface ArchiveResult {
  summary: ArchiveSummary;
  /** Every item that did not succeed, with its reason. */
  failures: Array<FaxResult | DeletionResult>;
  exitCode: ExitCodeValue;
}

/** 0 when everything asked for is done; 1 when anything is left to retry or was lost. */
export function exitCodeForSummary(summary: ArchiveSummary): ExitCodeValue {
  if (summary.failed > 0 || summary.lost > 0 || summary.deleteFailed > 0 || summary.unfinished > 0 || summary.stopped) return ExitCode.itemsLeft;
  // A listing that did not complete may hide faxes the run never saw (issue 11 §3).
  if (summary.listingIncomplete > 0) return ExitCode.itemsLeft;
  // Not deleted for want of a proof, or an earlier deletion still unsettled: asked for, not done.
  if (summary.deleteProofFailed > 0 || summary.deleteStoreUnavailable > 0 || summary.deletionsUnsettled > 0) return ExitCode.itemsLeft;
  if (summary.accountsFailed.length > 0 || summary.quarantined > 0) return ExitCode.itemsLeft;
  return ExitCode.ok;
}

/** How many at-risk faxes are named one by one before the rest are counted. */
const AT_RISK_NAMED = 10;
/** Lost faxes named in the summary (each is also reported as it is found). */
const LOST_NAMED = 50;
export async function runArchive(deps: ArchiveDependencies, options: ArchiveOptions): Promise<ArchiveResult> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const observer = deps.observer ?? silentObserver;
  const { catalog } = deps;

  const mainSid = deps.gateway.accountSid;
  const mine = (accountSid: string): boolean => !options.shard || inShard(accountSid, mainSid, options.shard);
  // One directory decides which accounts are reached and with which credentials (issue 12 §1).
  const directory = deps.directory ?? createAccountDirectory({ gateway: deps.gateway, mainAuthToken: null });
  const run = deps.accounts ?? (await directory.accountsForRun({ subaccounts: options.subaccounts, include: mine }));
  const gateways = run.gateways;
  const knownSecrets = [...(deps.knownSecrets ?? []), ...directory.knownSecrets()];
  for (const warning of run.warnings) observer.warning(warning);
  for (const closed of run.skipped) observer.warning(`subaccount ${closed.sid} is closed; its faxes cannot be listed`);
  for (const failed of run.failed) observer.warning(`subaccount ${failed.sid} is not archived: ${failed.reason}`);
  const notReached = new Map<string, string>(run.skipped.map((p) => [p.sid, p.reason]));
  for (const failed of run.failed) notReached.set(failed.sid, failed.reason);

  const summary: ArchiveSummary = {
    accounts: gateways.size, listed: 0, newFaxes: 0, updatedFaxes: 0, archived: 0, metadataOnly: 0, lost: 0,
    failed: 0, bytesStored: 0, deleted: 0, deleteFailed: 0, wouldDelete: 0, deletionBlockedReason: null,
    deleteProofFailed: 0, deleteStoreUnavailable: 0, deletionsUnsettled: 0,
    unfinished: 0, atRisk: 0, atRiskSids: [], lostSids: [], needsReview: 0, needsReviewSids: [], durationMs: 0, dryRun: options.dryRun, stopped: false,
    listing: [], listingIncomplete: 0, retentionNow: '', twilioClockSkewMs: null,
    accountsFailed: [...run.failed], quarantined: 0, accountsNotReached: [],
  };
  const stopRequested = (): boolean => deps.stopSignal?.aborted === true;
  const failures: Array<FaxResult | DeletionResult> = [];
  const deletionCtx: DeletionContext = {
    catalog, gatewayFor: (sid) => gateways.get(sid), observer, now, knownSecrets, runId: deps.runId, stopRequested,
    store: deps.store, forceFullVerify: options.forceFullVerify,
  };

  // One engine archives every fax of the run: the accounts this run acts for, its limits.
  const engine = new ArchiveEngine({
    catalog, store: deps.store,
    accounts: { gatewayFor: (sid) => gateways.get(sid) ?? null, knownSecrets: () => knownSecrets },
    limits: { workers: options.workers, uploadConcurrency: options.uploadConcurrency, maxAttempts: options.maxAttempts },
    spoolDir: options.spoolDir, forceFullVerify: options.forceFullVerify, now,
  });
  const refused = new Set<string>();
  if (!options.dryRun) {
    await engine.prepare();
    observer.phase('reconcile', {});
    for (const accountSid of gateways.keys()) {
      try {
        const settled = await reconcileOpenDeletions(deletionCtx, accountSid);
        summary.deletionsUnsettled += settled.unsettledSids.length;
        summary.lost += settled.lostSids.length;
        for (const sid of settled.lostSids) if (summary.lostSids.length < LOST_NAMED) summary.lostSids.push(sid);
      } catch (error) {
        // One account's trouble stays its own; only the main account's refused credentials end the run.
        if (error instanceof InvariantError || (accountSid === mainSid && error instanceof AuthError)) throw error;
        summary.accountsFailed.push({ sid: accountSid, reason: `settling open deletions failed: ${describeError(error, knownSecrets)}` });
        if (error instanceof AuthError) {
          refused.add(accountSid);
          gateways.delete(accountSid);
        }
      }
    }
  }

  // 1. List every account, recording each page as it arrives (one transaction per page).
  const dryRunAtRisk = options.dryRun && options.atRiskDays !== undefined
    ? { days: options.atRiskDays, now: () => deps.retentionNow?.() ?? deps.gateway.clock?.now() ?? now(), found: [] as AtRiskFax[] }
    : undefined;
  const listing = await listIntoCatalog(
    {
      catalog, observer, runId: deps.runId, mainAccountSid: mainSid, accountsFailed: summary.accountsFailed, knownSecrets,
      refusedAccounts: refused, ...(dryRunAtRisk ? { dryRunAtRisk } : {}),
    },
    gateways,
    options,
  );
  // An account whose credentials were refused (suspended since the list was read) is not worked on.
  for (const sid of refused) {
    gateways.delete(sid);
    notReached.set(sid, 'Twilio refused its credentials (20003)');
  }
  summary.quarantined = listing.quarantined;
  summary.listed = listing.listed;
  summary.newFaxes = listing.newFaxes;
  summary.updatedFaxes = listing.updatedFaxes;
  summary.listing = listing.coverage;
  summary.listingIncomplete = listing.coverage.filter((c) => !c.complete).length;
  for (const coverage of listing.coverage) if (!coverage.complete) observer.warning(`listing incomplete: ${describeCoverage(coverage)}`);

  // Twilio prunes by its own clock: retention is measured by it (the local clock when it is unknown).
  const skew = deps.gateway.clock?.skewMs() ?? null;
  summary.twilioClockSkewMs = skew;
  if (skew !== null && Math.abs(skew) > NOTABLE_SKEW_MS && !deps.retentionNow) observer.warning(describeSkew(skew));
  const retentionNow = deps.retentionNow?.() ?? (skew !== null ? deps.gateway.clock!.now() : now());
  summary.retentionNow = retentionNow.toISOString();

  // Name the faxes closest to Twilio's pruning: they are archived first (oldest first) and must be seen.
  let atRisk: AtRiskFax[] = [];
  if (options.atRiskDays !== undefined) {
    atRisk = findAtRisk(catalog, gateways.keys(), retentionNow, options.atRiskDays);
    // A dry run: also the new faxes its listing found (a real run would have recorded them first).
    if (dryRunAtRisk) atRisk = [...atRisk, ...dryRunAtRisk.found].sort(oldestFirst);
    summary.atRisk = atRisk.length;
    summary.atRiskSids = atRisk.slice(0, AT_RISK_NAMED).map((row) => row.sid);
    if (atRisk.length > 0) observer.warning(atRiskLine(atRisk, retentionNow, options.atRiskDays));
  }

  // 2. Archive every unfinished fax: the at-risk ones of every account first, then each account's
  //    rest, oldest first.
  let checksumMismatches = 0;
  // The engine counts the outcomes; the run names the failures and the lost faxes.
  const noteFaxResult = (result: DrainResult): void => {
    if (result.outcome === 'not-run') return; // stopped before it, or its account refused meanwhile: still unfinished
    observer.fax(result);
    if (result.outcome === 'archived' || result.outcome === 'metadata-only') return;
    if (result.outcome === 'lost' && summary.lostSids.length < LOST_NAMED) summary.lostSids.push(result.sid);
    failures.push(result);
  };
  const addDrained = (drained: DrainSummary): void => {
    summary.archived += drained.archived;
    summary.metadataOnly += drained.metadataOnly;
    summary.lost += drained.lost;
    summary.failed += drained.failed;
    summary.bytesStored += drained.bytesStored;
  };
  if (!options.dryRun) {
    observer.phase('archive', { total: countUnfinished(catalog, gateways.keys()) });
    const drained = await engine.drain({ accounts: gateways.keys(), first: atRisk, stop: stopRequested, onResult: noteFaxResult });
    addDrained(drained);
    checksumMismatches = drained.checksumMismatches;
  } else {
    summary.unfinished = countUnfinished(catalog, gateways.keys()) + summary.newFaxes;
  }

  // 3. Delete what is proven archived, only when asked, and never after a checksum mismatch.
  if (options.delete && !stopRequested()) {
    summary.deletionBlockedReason = runDeletionBlocker({ checksumMismatches });
    if (summary.deletionBlockedReason) {
      observer.warning(summary.deletionBlockedReason);
    } else {
      let budget = options.maxDelete ?? Number.POSITIVE_INFINITY;
      observer.phase('delete', { total: Math.min(budget, countVerified(catalog, gateways.keys())) });
      // An account in trouble this run (a failed listing, a quarantined record) deletes nothing until a clean run.
      const troubled = new Set(summary.accountsFailed.map((a) => a.sid));
      for (const accountSid of gateways.keys()) {
        if (troubled.has(accountSid)) continue;
        const pass = await deleteArchivedFaxes(deletionCtx, { accountSid, budget, dryRun: options.dryRun, concurrency: options.workers });
        summary.deleted += pass.deleted;
        summary.deleteFailed += pass.failed;
        summary.deleteProofFailed += pass.proofFailedSids.length;
        summary.deleteStoreUnavailable += pass.storeUnavailable;
        // Twilio still has them: archived again in this run (deleted by a later one, once proven).
        if (pass.proofFailedSids.length > 0 && !stopRequested()) {
          const sentBack = pass.proofFailedSids.map((sid) => ({ sid, accountSid, dateCreated: null }));
          addDrained(await engine.drain({ accounts: [], first: sentBack, only: true, stop: stopRequested, onResult: noteFaxResult }));
        }
        summary.wouldDelete += pass.wouldDelete;
        failures.push(...pass.results);
        budget -= pass.deleted + pass.wouldDelete + pass.failed;
        if (budget <= 0) break;
      }
    }
  }

  if (!options.dryRun) {
    summary.unfinished = countUnfinished(catalog, gateways.keys());
    summary.stopped = stopRequested();
    // Work nothing in this run will do is still work: counted and named, so the run never exits 0
    // over it (issue 11 §4: closed since, outside --shard, suspended, without credentials).
    for (const [accountSid, unfinished] of catalog.unfinishedByAccount()) {
      if (gateways.has(accountSid)) continue;
      const reason = notReached.get(accountSid)
        ?? (options.shard && !mine(accountSid) ? `outside --shard ${options.shard.index}/${options.shard.count}`
          : options.subaccounts || accountSid === mainSid ? 'not reached by this run' : 'a subaccount: run with --subaccounts');
      summary.accountsNotReached.push({ sid: accountSid, reason, unfinished });
      summary.unfinished += unfinished;
      observer.warning(`${unfinished} unfinished fax(es) of account ${accountSid} not reached by this run: ${reason}`);
    }
    await engine.cleanUp();
  }
  for (const accountSid of gateways.keys()) {
    summary.needsReview += catalog.countByState(accountSid)['needs-review'] ?? 0;
    if (summary.needsReviewSids.length < LOST_NAMED) {
      summary.needsReviewSids.push(...catalog.listNeedsReview({ accountSid, limit: LOST_NAMED - summary.needsReviewSids.length }).map((f) => f.sid));
    }
  }
  if (summary.needsReview > 0) {
    observer.warning(`${summary.needsReview} fax(es) need review (Twilio's record says media, none can be had): never deleted; see 'fax-sunset resolve --help'`);
  }
  summary.durationMs = Date.now() - started;
  return { summary, failures, exitCode: exitCodeForSummary(summary) };
}


/** One line for every at-risk fax: the count and the oldest (the summary names the first ones). */
export function atRiskLine(atRisk: readonly AtRiskFax[], now: Date, atRiskDays: number): string {
  const oldest = atRisk[0]!;
  const created = oldest.dateCreated ? Date.parse(oldest.dateCreated) : Number.NaN;
  const left = Number.isFinite(created) ? daysUntilPrunedMs(created, now) : null;
  const when = left === null ? '' : left >= 0 ? `, ${left} days before Twilio prunes it` : `, ${-left} days past Twilio's pruning date`;
  const count = atRisk.length === 1 ? '1 fax not yet archived is' : `${atRisk.length} faxes not yet archived are`;
  return `at risk: ${count} within ${atRiskDays} days of Twilio's ${TWILIO_RETENTION_DAYS}-day pruning (as of ${now.toISOString().slice(0, 10)}, Twilio's clock unless --now); oldest ${oldest.sid} created ${oldest.dateCreated}${when}; archived first`;
}

/** Unfinished faxes created more than (180 - atRiskDays) days before `now`. */
export interface AtRiskFax {
  sid: string;
  accountSid: string;
  dateCreated: string | null;
}

function findAtRisk(catalog: Catalog, accounts: Iterable<string>, now: Date, atRiskDays: number): AtRiskFax[] {
  const cutoff = atRiskCutoffMs(now, atRiskDays);
  const out: AtRiskFax[] = [];
  for (const accountSid of accounts) {
    let after: { dateCreated: string | null; sid: string } | undefined;
    for (;;) {
      const rows = catalog.listUnfinished({ accountSid, limit: 500, ...(after ? { after } : {}) });
      if (rows.length === 0) break;
      let done = false;
      for (const row of rows) {
        const created = row.dateCreated ? Date.parse(row.dateCreated) : Number.NaN;
        if (!(created < cutoff)) {
          done = true; // oldest first: everything after this is newer
          break;
        }
        out.push({ sid: row.sid, accountSid: row.accountSid, dateCreated: row.dateCreated });
      }
      if (done) break;
      const last = rows[rows.length - 1]!;
      after = { dateCreated: last.dateCreated, sid: last.sid };
    }
  }
  // Oldest first across accounts: the first to be pruned is the first archived.
  return out.sort(oldestFirst);
}

function oldestFirst(a: AtRiskFax, b: AtRiskFax): number {
  return (a.dateCreated ?? '').localeCompare(b.dateCreated ?? '') || a.sid.localeCompare(b.sid);
}

/** Faxes not yet archived (including failed ones waiting for a retry) over the given accounts. */
function countUnfinished(catalog: Catalog, accounts: Iterable<string>): number {
  let total = 0;
  for (const accountSid of accounts) {
    const counts = catalog.countByState(accountSid);
    total += counts.listed + counts.fetched + counts.stored + counts.failed;
  }
  return total;
}

/** Faxes proven archived and not yet deleted: what a deletion pass may take (at most). */
function countVerified(catalog: Catalog, accounts: Iterable<string>): number {
  let total = 0;
  for (const accountSid of accounts) {
    const counts = catalog.countByState(accountSid);
    total += counts.verified + counts['metadata-only'];
  }
  return total;
}
