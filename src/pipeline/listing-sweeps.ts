/**
 * Which range a listing sweeps (pure decisions over the ledger; no I/O). A sync lists after its
 * watermark minus the lookback; the watermark comes only from completed sweeps (listing-coverage.ts),
 * so a listing killed half-way, or one fax dated in the future, can no longer make a sync skip faxes
 * (issue 11 §3). A full re-listing on a schedule catches what a date-filtered listing cannot: a fax
 * whose `date_created` lies before the watermark but that Twilio listed only later.
 */
import { listedCompletelyUpTo, type ListingSweep } from '../catalog/listing-coverage.js';

/** The sweep's recorded start is this much before Twilio's clock said: the Date header has 1 s resolution and a listing index may lag. */
export const SWEEP_START_MARGIN_MS = 60_000;

/** The default of `--full-listing-every`: a week. */
export const DEFAULT_FULL_LISTING_EVERY_MS = 7 * 86_400_000;

/** `(rangeAfter, rangeOnOrBefore]` as sent to Twilio (ISO 8601; null: unbounded). */
export interface SweepRange {
  rangeAfter: string | null;
  rangeOnOrBefore: string | null;
}

export interface SweepPlan {
  range: SweepRange;
  /** No date filter beyond the operator's own --since/--until. */
  full: boolean;
  /** Not derived from the watermark (an archive's listing, a due full re-listing): the same after any resume. */
  fixed: boolean;
}

export interface PlanBounds {
  since?: Date;
  until?: Date;
  incrementalLookbackMs?: number;
  fullListingEveryMs?: number;
}

/** `DateCreatedAfter` is exclusive and Twilio's dates are whole seconds: one second before `since` lists `since` itself. */
export function rangeAfterFor(since: Date | undefined): string | null {
  return since ? new Date(since.getTime() - 1000).toISOString() : null;
}

/** Whether a sweep listed (or is listing) everything from the floor on, with no upper bound. */
function isFull(sweep: ListingSweep, floor: string | null): boolean {
  if (sweep.rangeOnOrBefore !== null) return false;
  if (sweep.rangeAfter === null) return true;
  return floor !== null && Date.parse(sweep.rangeAfter) <= Date.parse(floor);
}

/** True when no full listing started within `everyMs` before `now` (Twilio's clock). */
export function fullListingDue(sweeps: readonly ListingSweep[], floor: string | null, now: Date, everyMs: number): boolean {
  const since = now.getTime() - everyMs;
  return !sweeps.some((sweep) => isFull(sweep, floor) && sweep.absorbedBy === null && Date.parse(sweep.startedAt) > since);
}

/** This run's own sweep: --since/--until; for a sync, after the watermark minus the lookback, or full when due. */
export function planOwnSweep(sweeps: readonly ListingSweep[], bounds: PlanBounds, now: Date): SweepPlan {
  const floor = rangeAfterFor(bounds.since);
  const rangeOnOrBefore = bounds.until ? bounds.until.toISOString() : null;
  const whole: SweepRange = { rangeAfter: floor, rangeOnOrBefore };
  if (bounds.incrementalLookbackMs === undefined) return { range: whole, full: rangeOnOrBefore === null, fixed: true };
  if (bounds.fullListingEveryMs !== undefined && fullListingDue(sweeps, floor, now, bounds.fullListingEveryMs)) {
    // Never listed fully yet counts as due only once no sweep is unfinished: a killed first archive is resumed, not started over.
    const anyUnfinishedFull = sweeps.some((sweep) => sweep.completedAt === null && isFull(sweep, floor));
    if (!anyUnfinishedFull) return { range: whole, full: rangeOnOrBefore === null, fixed: true };
  }
  const watermark = listedCompletelyUpTo(sweeps, floor);
  if (watermark === null) return { range: whole, full: rangeOnOrBefore === null, fixed: false };
  const fromWatermark = Date.parse(watermark) - bounds.incrementalLookbackMs;
  const after = floor !== null && Date.parse(floor) > fromWatermark ? floor : new Date(fromWatermark).toISOString();
  return { range: { rangeAfter: after, rangeOnOrBefore }, full: false, fixed: false };
}

/** One account's listing coverage, as the summary, summary.json and the report say it. */
export interface AccountCoverage {
  account: string;
  /** "listed completely up to T" (Twilio's clock), from the beginning or from --since; null: never. */
  listedCompletelyUpTo: string | null;
  /** From the --since floor, when one bounds the coverage. */
  from: string | null;
  /** Sweeps left unfinished (resumed by the next run). */
  unfinishedSweeps: number;
  /** Covered from the floor, and nothing left unfinished. */
  complete: boolean;
  /** When the last full listing completed (Twilio's clock at its start), or null. */
  lastFullListing: string | null;
}

export function accountCoverage(account: string, sweeps: readonly ListingSweep[], floor: string | null): AccountCoverage {
  const upTo = listedCompletelyUpTo(sweeps, floor);
  const unfinishedSweeps = sweeps.filter((sweep) => sweep.completedAt === null).length;
  let lastFull: string | null = null;
  for (const sweep of sweeps) {
    if (sweep.completedAt === null || !isFull(sweep, floor)) continue;
    if (lastFull === null || sweep.startedAt > lastFull) lastFull = sweep.startedAt;
  }
  return {
    account,
    listedCompletelyUpTo: upTo,
    from: floor === null ? null : new Date(Date.parse(floor) + 1000).toISOString(),
    unfinishedSweeps,
    complete: upTo !== null && unfinishedSweeps === 0,
    lastFullListing: lastFull,
  };
}

/** `listed completely up to T` for a summary line. */
export function describeCoverage(coverage: AccountCoverage): string {
  const scope = coverage.from ? ` (from ${coverage.from})` : '';
  if (coverage.listedCompletelyUpTo === null) return `${coverage.account}: never listed completely${scope}${coverage.unfinishedSweeps ? `; ${coverage.unfinishedSweeps} listing(s) unfinished` : ''}`;
  const left = coverage.unfinishedSweeps ? `; ${coverage.unfinishedSweeps} listing(s) unfinished, resumed next run` : '';
  return `${coverage.account}: listed completely up to ${coverage.listedCompletelyUpTo}${scope}${left}`;
}
