/**
 * The one-shot archive use case: list every fax of the account (and subaccounts), archive each
 * unfinished one oldest first (Twilio prunes at 180 days), then, only when asked, delete from
 * Twilio what is proven archived. Returns a result per failed item and a summary; the exit code
 * follows from the summary (`exitCodeForSummary`), never from an exception thrown half-way.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { Catalog, FaxRow } from '../catalog/catalog.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import { archiveFax, type ArchiveFaxContext, type FaxResult } from './archive-fax.js';
import { silentObserver, type ArchiveObserver, type DeletionResult } from './archive-observer.js';
import { deleteArchivedFaxes, reconcileOpenDeletions, type DeletionContext } from './delete-archived.js';
import { runDeletionBlocker } from './deletion-policy.js';
import { listIntoCatalog } from './list-into-catalog.js';
import { inShard, type AccountShard } from './account-shard.js';

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
}

export interface ArchiveDependencies {
  catalog: Catalog;
  store: MediaStore;
  gateway: TwilioGateway;
  observer?: ArchiveObserver;
  now?: () => Date;
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
  return ExitCode.ok;
}

const UNFINISHED_BATCH = 256;
/** How many at-risk faxes are named one by one before the rest are counted. */
const AT_RISK_NAMED = 10;
/** Lost faxes named in the summary (each is also reported as it is found). */
const LOST_NAMED = 50;
export async function runArchive(deps: ArchiveDependencies, options: ArchiveOptions): Promise<ArchiveResult> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const observer = deps.observer ?? silentObserver;
  const knownSecrets = deps.knownSecrets ?? [];
  const { catalog } = deps;

  const mainSid = deps.gateway.accountSid;
  const mine = (accountSid: string): boolean => !options.shard || inShard(accountSid, mainSid, options.shard);
  const gateways = new Map<string, TwilioGateway>(mine(mainSid) ? [[mainSid, deps.gateway]] : []);
  if (options.subaccounts) {
    for (const sub of await deps.gateway.listSubaccounts()) {
      if (!mine(sub.sid)) continue;
      if (sub.status === 'closed') {
        observer.warning(`subaccount ${sub.sid} is closed; its faxes cannot be listed`);
        continue;
      }
      gateways.set(sub.sid, deps.gateway.forSubaccount(sub));
    }
  }

  const summary: ArchiveSummary = {
    accounts: gateways.size, listed: 0, newFaxes: 0, updatedFaxes: 0, archived: 0, metadataOnly: 0, lost: 0,
    failed: 0, bytesStored: 0, deleted: 0, deleteFailed: 0, wouldDelete: 0, deletionBlockedReason: null,
    unfinished: 0, atRisk: 0, atRiskSids: [], lostSids: [], needsReview: 0, needsReviewSids: [], durationMs: 0, dryRun: options.dryRun, stopped: false,
  };
  const stopRequested = (): boolean => deps.stopSignal?.aborted === true;
  const failures: Array<FaxResult | DeletionResult> = [];
  const deletionCtx: DeletionContext = {
    catalog, gatewayFor: (sid) => gateways.get(sid), observer, now, knownSecrets, runId: deps.runId, stopRequested,
  };

  if (!options.dryRun) {
    await prepareSpool(options.spoolDir);
    observer.phase('reconcile', {});
    for (const accountSid of gateways.keys()) await reconcileOpenDeletions(deletionCtx, accountSid);
  }

  // 1. List every account, recording each page as it arrives (one transaction per page).
  const freshMediaUrls = new Map<string, string>();
  const listing = await listIntoCatalog({ catalog, observer, runId: deps.runId, freshMediaUrls }, gateways, options);
  summary.listed = listing.listed;
  summary.newFaxes = listing.newFaxes;
  summary.updatedFaxes = listing.updatedFaxes;

  // Name the faxes closest to Twilio's pruning: they are archived first (oldest first) and must be seen.
  let atRisk: AtRiskFax[] = [];
  if (options.atRiskDays !== undefined) {
    atRisk = findAtRisk(catalog, gateways.keys(), now(), options.atRiskDays);
    summary.atRisk = atRisk.length;
    summary.atRiskSids = atRisk.slice(0, AT_RISK_NAMED).map((row) => row.sid);
    for (const row of atRisk.slice(0, AT_RISK_NAMED)) {
      observer.warning(`at risk: ${row.sid} (${row.accountSid}) created ${row.dateCreated}, not yet archived, close to Twilio's 180-day pruning`);
    }
    if (atRisk.length > AT_RISK_NAMED) observer.warning(`... and ${atRisk.length - AT_RISK_NAMED} more faxes at risk (archived first, oldest first)`);
  }

  // 2. Archive every unfinished fax: the at-risk ones of every account first, then each account's
  //    rest, oldest first.
  let checksumMismatches = 0;
  if (!options.dryRun) {
    observer.phase('archive', { total: countUnfinished(catalog, gateways.keys()) });
    const pass = await archiveUnfinishedFaxes(
      { deps, options, gateways, freshMediaUrls, now, knownSecrets, stopRequested },
      atRisk,
      (result) => {
        observer.fax(result);
        if (result.outcome === 'archived') summary.archived++;
        else if (result.outcome === 'metadata-only') summary.metadataOnly++;
        else if (result.outcome === 'needs-review') failures.push(result);
        else if (result.outcome === 'lost') {
          summary.lost++;
          if (summary.lostSids.length < LOST_NAMED) summary.lostSids.push(result.sid);
          failures.push(result);
        } else {
          summary.failed++;
          failures.push(result);
        }
        summary.bytesStored += result.bytes;
      },
    );
    checksumMismatches = pass.checksumMismatches;
  } else {
    summary.unfinished = countUnfinished(catalog, gateways.keys()) + summary.newFaxes;
  }

  // 3. Delete what is proven archived, only when asked, and never after a checksum mismatch.
  if (options.delete && !stopRequested()) {
    summary.deletionBlockedReason = runDeletionBlocker({ checksumMismatches });
    if (summary.deletionBlockedReason) {
      observer.warning(summary.deletionBlockedReason);
    } else {
      observer.phase('delete', {});
      let budget = options.maxDelete ?? Number.POSITIVE_INFINITY;
      for (const accountSid of gateways.keys()) {
        const pass = await deleteArchivedFaxes(deletionCtx, { accountSid, budget, dryRun: options.dryRun, concurrency: options.workers });
        summary.deleted += pass.deleted;
        summary.deleteFailed += pass.failed;
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
    await rm(options.spoolDir, { recursive: true, force: true }).catch(() => undefined);
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

interface ArchivePassContext {
  deps: ArchiveDependencies;
  options: ArchiveOptions;
  gateways: ReadonlyMap<string, TwilioGateway>;
  freshMediaUrls: Map<string, string>;
  now: () => Date;
  knownSecrets: readonly string[];
  stopRequested: () => boolean;
}

/**
 * Archives every unfinished fax with one pool of workers: the at-risk ones (already ordered oldest
 * first across accounts) first, then each account's rest, oldest first, walked with a keyset
 * cursor so a fax that fails is not taken again in this run. Stops starting new faxes once a stop
 * is requested. Reports each result as it is known.
 */
async function archiveUnfinishedFaxes(
  pass: ArchivePassContext,
  atRisk: readonly AtRiskFax[],
  onResult: (result: FaxResult) => void,
): Promise<{ checksumMismatches: number }> {
  const { deps, options, gateways } = pass;
  const { catalog } = deps;
  const uploadLimit = pLimit(options.uploadConcurrency);
  const contexts = new Map<string, ArchiveFaxContext>();
  const contextFor = (accountSid: string): ArchiveFaxContext | undefined => {
    const gateway = gateways.get(accountSid);
    if (!gateway) return undefined;
    let ctx = contexts.get(accountSid);
    if (!ctx) {
      ctx = {
        catalog, store: deps.store, gateway, spoolDir: options.spoolDir, forceFullVerify: options.forceFullVerify,
        freshMediaUrls: pass.freshMediaUrls, uploadCap: (task) => uploadLimit(task), now: pass.now, knownSecrets: pass.knownSecrets,
      };
      contexts.set(accountSid, ctx);
    }
    return ctx;
  };
  const workers = pLimit(options.workers);
  let checksumMismatches = 0;
  const archiveRows = async (rows: readonly FaxRow[]): Promise<void> => {
    const results = await Promise.all(
      rows.map((row) => workers(() => {
        const ctx = contextFor(row.accountSid);
        return ctx && !pass.stopRequested() ? archiveFax(row, ctx) : Promise.resolve(null);
      })),
    );
    for (const result of results) {
      if (result === null) continue;
      if (result.outcome === 'failed' && result.checksumMismatch) checksumMismatches++;
      onResult(result);
    }
  };

  // The at-risk faxes must not be taken again by the pass in date order below.
  const archivedFirst = new Set<string>();
  for (let i = 0; i < atRisk.length && !pass.stopRequested(); i += UNFINISHED_BATCH) {
    const rows = atRisk.slice(i, i + UNFINISHED_BATCH).map((fax) => catalog.getFax(fax.sid)).filter((row): row is FaxRow => row !== null);
    for (const row of rows) archivedFirst.add(row.sid);
    await archiveRows(rows);
  }
  for (const accountSid of gateways.keys()) {
    let after: { dateCreated: string | null; sid: string } | undefined;
    while (!pass.stopRequested()) {
      const page = catalog.listUnfinished({ accountSid, maxAttempts: options.maxAttempts, limit: UNFINISHED_BATCH, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      const last = page[page.length - 1]!;
      after = { dateCreated: last.dateCreated, sid: last.sid };
      await archiveRows(archivedFirst.size > 0 ? page.filter((row) => !archivedFirst.has(row.sid)) : page);
    }
  }
  return { checksumMismatches };
}

export const TWILIO_RETENTION_DAYS = 180;

/** Unfinished faxes created more than (180 - atRiskDays) days before `now`. */
interface AtRiskFax {
  sid: string;
  accountSid: string;
  dateCreated: string | null;
}

function findAtRisk(catalog: Catalog, accounts: Iterable<string>, now: Date, atRiskDays: number): AtRiskFax[] {
  const cutoff = now.getTime() - (TWILIO_RETENTION_DAYS - atRiskDays) * 86_400_000;
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
  return out.sort((a, b) => (a.dateCreated ?? '').localeCompare(b.dateCreated ?? '') || a.sid.localeCompare(b.sid));
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

/** Leftover spool files are from a killed run: never trusted, removed. */
async function prepareSpool(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of await readdir(dir)) if (name.endsWith('.part')) await rm(`${dir}/${name}`, { force: true });
}
