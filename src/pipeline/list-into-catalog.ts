/**
 * The listing half of an archive run: every account's faxes, page by page, into the catalog. New
 * faxes become `listed` (the queue of work), changed ones keep their old version in the history.
 * Shared by `archive`/`sync` and by `serve --sync-every`, whose worker archives what it records.
 */
import type { Catalog } from '../catalog/catalog.js';
import { AuthError, describeError, InvariantError } from '../errors.js';
import type { TwilioFax, TwilioGateway } from '../twilio/twilio-gateway.js';
import type { ArchiveObserver } from './archive-observer.js';
import { sanitizeFaxJson } from '../archive/fax-metadata.js';
import { accountCoverage, planOwnSweep, rangeAfterFor, SWEEP_START_MARGIN_MS, type AccountCoverage, type SweepRange } from './listing-sweeps.js';
import { rangeHolds, type ListingSweep } from '../catalog/listing-coverage.js';
import { atRiskCutoffMs } from '../retention.js';

export interface ListingContext {
  catalog: Catalog;
  observer: ArchiveObserver;
  runId: number | null;
  /**
   * A dry run records nothing, so the catalog cannot say which new faxes are close to the 180-day
   * pruning: the listing collects them here (by Twilio's clock), and the dry run counts them as a real run would.
   */
  dryRunAtRisk?: { days: number; now: () => Date; found: Array<{ sid: string; accountSid: string; dateCreated: string | null }> };
  /**
   * When given, one account's trouble stays its own (issue 11 §4): an account that fails to list
   * is added here and the others are listed; only the main account's refused credentials throw.
   */
  accountsFailed?: Array<{ sid: string; reason: string }>;
  mainAccountSid?: string;
  knownSecrets?: readonly string[];
  /** Filled with the accounts whose credentials Twilio refused (suspended since, revoked): not archived this run. */
  refusedAccounts?: Set<string>;
}

export interface ListingCounts {
  listed: number;
  newFaxes: number;
  updatedFaxes: number;
  /** Per account, after the listing: how far its listing is proven complete (the listing ledger). */
  coverage: AccountCoverage[];
  /** Records kept out of the catalog: malformed, or of another account than the one listed. */
  quarantined: number;
}

/**
 * Lists every account's faxes and records each page in the catalog as it arrives: new faxes become
 * `listed`, the queue of work; changed ones keep their old version in the history. Every listing is a
 * sweep in the catalog's ledger (issue 11 §3): first each unfinished sweep of the account is resumed
 * from where it stopped, then this run's own sweep lists `--since`/`--until`, or for a sync the range
 * after the watermark (from completed sweeps only) minus the lookback, or everything when the
 * scheduled full re-listing is due. A dry run lists the same ranges and records nothing.
 * Also used by `serve --sync-every`, whose worker then archives what was recorded.
 */
export async function listIntoCatalog(
  ctx: ListingContext,
  gateways: ReadonlyMap<string, TwilioGateway>,
  options: ListingBounds,
): Promise<ListingCounts> {
  const { catalog, observer } = ctx;
  const counts: ListingCounts = { listed: 0, newFaxes: 0, updatedFaxes: 0, coverage: [], quarantined: 0 };
  for (const [accountSid, gateway] of gateways) {
    observer.phase('list', { account: accountSid });
    const floor = rangeAfterFor(options.since);
    const guard: AccountGuard = { quarantined: 0, quarantine: () => {} };
    guard.quarantine = (problem, record) => {
      guard.quarantined++;
      counts.quarantined++;
      observer.warning(`quarantined a record listed for account ${accountSid}: ${problem}`);
      if (options.dryRun) return;
      ctx.catalog.appendEvent('record-quarantined', {
        listedFor: accountSid,
        problem,
        faxSid: typeof record.sid === 'string' ? record.sid.slice(0, 40) : null,
        accountSid: typeof record.account_sid === 'string' ? record.account_sid.slice(0, 40) : null,
      });
    };
    try {
      const twilioNow = (): Date => gateway.clock?.now() ?? new Date();
      if (options.incrementalLookbackMs !== undefined && options.fullListingEveryMs !== undefined) await learnTwilioClock(gateway);
      const before = catalog.listListingSweeps(accountSid);
      const unfinished = before.filter((sweep) => sweep.completedAt === null);
      // A dry run records nothing, so a resume would not move its watermark: it lists the whole range
      // once instead (each fax counted once).
      const dryRunWhole = options.dryRun === true && unfinished.length > 0;
      const first = planOwnSweep(before, dryRunWhole ? { since: options.since, until: options.until } : options, twilioNow());
      // A sweep this run lists anyway (an archive's full listing, a due full re-listing) completes the
      // unfinished ones its range holds; every other unfinished sweep is resumed from where it stopped.
      const absorbed = first.fixed ? unfinished.filter((sweep) => rangeHolds(first.range, sweep)) : [];
      for (const sweep of unfinished) {
        if (absorbed.includes(sweep) || dryRunWhole) continue;
        await runSweep(ctx, counts, accountSid, gateway, guard, { resume: sweep, range: sweep }, options);
      }
      // A range from the watermark is planned again: the resumed sweeps may have moved it.
      const own = first.fixed ? first : planOwnSweep(catalog.listListingSweeps(accountSid), options, twilioNow());
      await runSweep(ctx, counts, accountSid, gateway, guard, { range: own.range, full: own.full, absorbs: absorbed.map((s) => s.id) }, options);
      if (guard.quarantined > 0) ctx.accountsFailed?.push({ sid: accountSid, reason: `${guard.quarantined} record(s) quarantined from its listing` });
    } catch (error) {
      // A refused invariant (credentials about to leave for a foreign host) is never one account's trouble.
      if (!ctx.accountsFailed || error instanceof InvariantError || (accountSid === ctx.mainAccountSid && error instanceof AuthError)) throw error;
      if (error instanceof AuthError) ctx.refusedAccounts?.add(accountSid);
      const reason = `listing failed: ${describeError(error, ctx.knownSecrets)}`;
      ctx.accountsFailed.push({ sid: accountSid, reason });
      observer.warning(`account ${accountSid}: ${reason}; the other accounts go on`);
    }
    // Also after a failure: its unfinished sweep says how far the account is listed completely.
    counts.coverage.push(accountCoverage(accountSid, catalog.listListingSweeps(accountSid), floor));
  }
  return counts;
}

/**
 * Whether the full re-listing is due is judged by Twilio's clock: before the first answer of a run
 * it is unknown, so one page of one fax is asked for first (once per run: the clock is shared).
 */
async function learnTwilioClock(gateway: TwilioGateway): Promise<void> {
  if (!gateway.clock || gateway.clock.skewMs() !== null) return;
  for await (const page of gateway.listFaxPages({ pageSize: 1 })) {
    void page;
    break;
  }
}

/** One account's quarantine of records that do not belong in its listing (issue 11 §4). */
interface AccountGuard {
  quarantined: number;
  quarantine: (problem: string, record: { sid?: unknown; account_sid?: unknown }) => void;
}

interface SweepRun {
  range: SweepRange;
  /** An unfinished sweep of an earlier run, continued from its low-water mark. */
  resume?: ListingSweep;
  full?: boolean;
  absorbs?: readonly number[];
}

/** Lists one range of one account page by page, recording each page and then the sweep's progress. */
async function runSweep(
  ctx: ListingContext,
  counts: ListingCounts,
  accountSid: string,
  gateway: TwilioGateway,
  guard: AccountGuard,
  run: SweepRun,
  options: ListingBounds,
): Promise<void> {
  const { catalog, observer } = ctx;
  const localStart = Date.now();
  // Twilio's clock at the start, once a Date header told it (before, the local clock stands in).
  const startOnTwilio = (): string | undefined => {
    const skew = gateway.clock?.skewMs();
    return skew === null || skew === undefined ? undefined : new Date(localStart + skew - SWEEP_START_MARGIN_MS).toISOString();
  };
  const knownStart = startOnTwilio();
  const sweep = options.dryRun
    ? null
    : run.resume ?? catalog.startListingSweep(accountSid, {
      startedAt: knownStart ?? new Date(localStart - SWEEP_START_MARGIN_MS).toISOString(),
      rangeAfter: run.range.rangeAfter,
      rangeOnOrBefore: run.range.rangeOnOrBefore,
    }, ctx.runId);
  let startSettled = run.resume !== undefined || knownStart !== undefined;
  if (run.resume) {
    observer.warning(`the listing of ${accountSid} started ${run.resume.startedAt} did not finish; resuming it ${run.resume.coveredDownTo ? `below ${run.resume.coveredDownTo}` : 'from the start'}`);
  }

  const upper = run.resume?.coveredDownTo ?? run.range.rangeOnOrBefore;
  const query = {
    pageSize: options.pageSize ?? 1000,
    ...(run.range.rangeAfter ? { createdAfter: new Date(run.range.rangeAfter) } : {}),
    ...(upper ? { createdOnOrBefore: new Date(upper) } : {}),
    onMalformedRecord: (problem: string, record: unknown) => guard.quarantine(problem, (record ?? {}) as Record<string, unknown>),
  };
  let low = run.resume?.coveredDownTo ? Date.parse(run.resume.coveredDownTo) : null;
  let newestFirst = true;
  for await (const listedPage of gateway.listFaxPages(query)) {
    // A record of another account is never stored under this one's prefix, nor deleted with its credentials.
    const page: TwilioFax[] = [];
    for (const fax of listedPage) {
      if (fax.account_sid === accountSid) page.push(fax);
      else guard.quarantine(`fax ${fax.sid} belongs to account ${fax.account_sid}`, fax);
    }
    counts.listed += page.length;
    observer.listed(page.length);
    for (const fax of page) {
      const created = typeof fax.date_created === 'string' ? Date.parse(fax.date_created) : Number.NaN;
      if (!Number.isFinite(created)) continue;
      // A fax newer than one already listed: the order is not newest first, so the low-water mark
      // proves nothing and a resume must list the whole range again.
      if (low !== null && created > low) newestFirst = false;
      if (low === null || created < low) low = created;
    }
    if (options.dryRun) {
      const atRisk = ctx.dryRunAtRisk;
      const cutoff = atRisk ? atRiskCutoffMs(atRisk.now(), atRisk.days) : Number.NEGATIVE_INFINITY;
      for (const fax of page) {
        if (catalog.getFax(fax.sid)) continue;
        counts.newFaxes++;
        const created = typeof fax.date_created === 'string' ? Date.parse(fax.date_created) : Number.NaN;
        if (atRisk && created < cutoff) atRisk.found.push({ sid: fax.sid, accountSid, dateCreated: fax.date_created });
      }
      continue;
    }
    const changes = catalog.recordListed(page.map((fax) => sanitizeFaxJson(fax)), ctx.runId);
    for (const change of changes) {
      if (change === 'new') counts.newFaxes++;
      else if (change === 'updated') counts.updatedFaxes++;
    }
    // After the page is in the catalog: a kill between the two lists this page again, harmlessly.
    const start = startSettled ? undefined : startOnTwilio();
    if (start) startSettled = true;
    catalog.recordListingProgress(sweep!.id, {
      ...(start ? { startedAt: start } : {}),
      coveredDownTo: newestFirst && low !== null ? new Date(low).toISOString() : null,
      pages: 1,
      faxes: page.length,
    });
  }
  if (sweep) {
    const start = startSettled ? undefined : startOnTwilio();
    catalog.completeListingSweep(sweep.id, { ...(start ? { startedAt: start } : {}), absorbs: run.absorbs ?? [] });
  }
}

/** What bounds a listing: --since/--until, or for a sync the watermark minus the lookback. */
export interface ListingBounds {
  /** Faxes created at or after this instant (a date-only flag: the start of that UTC day). */
  since?: Date;
  /** Faxes created at or before this instant (a date-only flag: the end of that UTC day). */
  until?: Date;
  incrementalLookbackMs?: number;
  /**
   * With `incrementalLookbackMs` (sync, serve --sync-every): list everything again when no full
   * listing started within this long (Twilio's clock); a date-filtered listing misses a fax whose
   * `date_created` lies before the watermark yet appeared late. Undefined: never scheduled.
   */
  fullListingEveryMs?: number;
  /** Faxes per page (1..1000); default 1000, the fewest requests. */
  pageSize?: number;
  /** Count what is new without recording anything. */
  dryRun?: boolean;
}
