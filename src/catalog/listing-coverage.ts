/**
 * What the listing ledger proves (pure; no I/O). A sweep is one listing of one account over a range
 * of `date_created`: `(rangeAfter, rangeOnOrBefore]`, as sent to Twilio. A completed sweep proves
 * that every fax of that range that existed when the sweep started was listed; it proves nothing
 * about faxes created after its start, so what it covers ends at `startedAt` (Twilio's clock) even
 * when a fax is dated later: one fax dated 30 days ahead no longer moves a sync's start 30 days
 * ahead (issue 11 §3).
 *
 * "Listed completely up to T" is the end of the contiguous run of completed sweeps from the
 * beginning (or from a floor, a sync's `--since`): the sync's watermark.
 */

/** One listing sweep as the catalog's ledger holds it. */
export interface ListingSweep {
  id: number;
  accountSid: string;
  runId: number | null;
  /** Twilio's clock when the sweep began (ISO 8601). */
  startedAt: string;
  /** `DateCreatedAfter` sent (exclusive); null: from the beginning. */
  rangeAfter: string | null;
  /** `DateCreatedOnOrBefore` sent (inclusive); null: no upper bound. */
  rangeOnOrBefore: string | null;
  /**
   * How far down (newest first) the sweep has listed: what is left is `(rangeAfter, coveredDownTo]`.
   * Null: nothing is known listed yet (or the listing was not newest first): a resume lists the whole range.
   */
  coveredDownTo: string | null;
  pages: number;
  faxes: number;
  completedAt: string | null;
  /** Completed because a later sweep (this id) listed a range holding this one's. */
  absorbedBy: number | null;
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The instant up to which a completed sweep proves its range listed. */
export function sweepCoversUpTo(sweep: Pick<ListingSweep, 'startedAt' | 'rangeOnOrBefore'>): number {
  const started = Date.parse(sweep.startedAt);
  const until = ms(sweep.rangeOnOrBefore);
  return until === null ? started : Math.min(until, started);
}

/**
 * The end of the contiguous coverage by completed sweeps from `floor` (exclusive; null: from the
 * beginning), as ISO 8601; null when no completed sweep starts at or before the floor.
 */
export function listedCompletelyUpTo(sweeps: readonly ListingSweep[], floor: string | null = null): string | null {
  const floorMs = ms(floor);
  const completed = sweeps
    .filter((s) => s.completedAt !== null)
    .map((s) => ({ after: ms(s.rangeAfter), upTo: sweepCoversUpTo(s) }))
    .sort((a, b) => (a.after ?? Number.NEGATIVE_INFINITY) - (b.after ?? Number.NEGATIVE_INFINITY));
  let cursor: number | null = null;
  for (const sweep of completed) {
    const reach = cursor ?? floorMs;
    const joins = sweep.after === null || (reach !== null && sweep.after <= reach);
    if (!joins) continue;
    if (cursor === null || sweep.upTo > cursor) cursor = sweep.upTo;
  }
  if (cursor === null || (floorMs !== null && cursor <= floorMs)) return null;
  return new Date(cursor).toISOString();
}

/** Whether a sweep's range holds another's whole range (so completing the first completes the second). */
export function rangeHolds(outer: Pick<ListingSweep, 'rangeAfter' | 'rangeOnOrBefore'>, inner: Pick<ListingSweep, 'rangeAfter' | 'rangeOnOrBefore'>): boolean {
  const oa = ms(outer.rangeAfter);
  const ia = ms(inner.rangeAfter);
  const ob = ms(outer.rangeOnOrBefore);
  const ib = ms(inner.rangeOnOrBefore);
  const lowOk = oa === null || (ia !== null && oa <= ia);
  const highOk = ob === null || (ib !== null && ob >= ib);
  return lowOk && highOk;
}
