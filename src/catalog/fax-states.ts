/**
 * The per-fax archive state machine: the one transition table. The catalog refuses every move
 * that is not listed here (in code, and the deletion rule again in the database itself).
 *
 *   listed ──> fetched ──> stored ──> verified ──> deleted
 *     │           │           │          │
 *     ├─> metadata-only ──────────────────────────> deleted      (no media: sidecar stored + verified)
 *     ├─> failed (reason, attempts) ──> listed      (retried on the next pass)
 *     └─> lost    (gone from Twilio before it was archived: reported loudly, never silently dropped)
 *
 * A fax seen again with a newer `date_updated` whose media changed goes back to `listed`
 * (the old version is kept in the history table). Verification that later fails (a re-audit
 * finds the object changed) moves a not-yet-deleted fax back to `listed` so it is archived again.
 */
export const FAX_STATES = [
  'listed',
  'fetched',
  'stored',
  'verified',
  'metadata-only',
  'deleted',
  'failed',
  'lost',
] as const;
export type FaxState = (typeof FAX_STATES)[number];

/** from -> the states it may move to. */
export const FAX_TRANSITIONS: Readonly<Record<FaxState, readonly FaxState[]>> = {
  listed: ['listed', 'fetched', 'metadata-only', 'failed', 'lost'],
  fetched: ['listed', 'stored', 'failed', 'lost'],
  stored: ['listed', 'verified', 'failed', 'lost'],
  verified: ['listed', 'deleted', 'failed'],
  'metadata-only': ['listed', 'deleted', 'failed'],
  failed: ['listed', 'failed', 'lost'],
  lost: ['listed'],
  deleted: [],
};

export function canTransition(from: FaxState, to: FaxState): boolean {
  return FAX_TRANSITIONS[from].includes(to);
}

/** States in which every byte Twilio had is proven to be in the store: the only deletable ones. */
export const DELETABLE_STATES: readonly FaxState[] = ['verified', 'metadata-only'];

/** States in which the archive of a fax is complete (nothing left to do unless --delete). */
export const ARCHIVED_STATES: readonly FaxState[] = ['verified', 'metadata-only', 'deleted'];

/** States a run must pick up again (an earlier run left them unfinished). */
export const UNFINISHED_STATES: readonly FaxState[] = ['listed', 'fetched', 'stored', 'failed'];

export function isDeletable(state: FaxState): boolean {
  return DELETABLE_STATES.includes(state);
}
