/**
 * The per-fax archive state machine: the one transition table. The catalog refuses every move
 * that is not listed here (in code, and the deletion rule again in the database itself).
 *
 *   listed ──> fetched ──> stored ──> verified ──> deleted
 *     │           │           │          │
 *     ├─> stored (no media: the sidecar is the whole archive) ──> metadata-only ──> deleted
 *     ├─> failed (reason, attempts) ──> listed      (retried on the next pass)
 *     ├─> lost    (gone from Twilio before it was archived: reported loudly, never silently dropped)
 *     └─> needs-review (the record says media, but none can be had: a person decides) ──> listed
 *
 * `needs-review` (issue 11 §2) is reached from listed/fetched/stored/failed when Twilio's record says
 * the fax has media (media_url, media_sid, or pages on a received/delivered fax) yet neither a fresh
 * fetch nor the FaxMedia subresource gives bytes. It is never deletable, never retried by a run (so
 * it never makes a nightly run exit 1 forever), and is named in the summary, the report and verify.
 * The ways out: Twilio's record changes (a newer date_updated sends it back to `listed`), or
 * `fax-sunset resolve FX... --accept-missing-media --reason "..."`, which records the decision in the
 * event log and sends it to `listed` marked as accepted without media: the next run archives its
 * metadata alone and it ends `metadata-only` (then deletable like any metadata-only fax).
 *
 * A fax seen again with a newer `date_updated` goes back to `listed` unless deleted (the old
 * version is kept in the history table): new media is fetched again, unchanged media keeps its
 * object and only the sidecar is rewritten, so the store always says what Twilio last said. Verification that later fails (a re-audit
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
  'needs-review',
] as const;
export type FaxState = (typeof FAX_STATES)[number];

/** from -> the states it may move to. */
export const FAX_TRANSITIONS: Readonly<Record<FaxState, readonly FaxState[]>> = {
  listed: ['listed', 'fetched', 'stored', 'failed', 'lost', 'needs-review'],
  fetched: ['listed', 'stored', 'failed', 'lost', 'needs-review'],
  stored: ['listed', 'verified', 'metadata-only', 'failed', 'lost', 'needs-review'],
  verified: ['listed', 'deleted', 'failed'],
  'metadata-only': ['listed', 'deleted', 'failed'],
  failed: ['listed', 'failed', 'lost', 'needs-review'],
  lost: ['listed'],
  'needs-review': ['listed', 'needs-review'],
  deleted: [],
};

/**
 * Whether a fax may move from one state to another. Pass `hasMedia` when known: the shortcut
 * listed -> stored and the end state metadata-only are only for faxes without media, and a fax
 * with media must end `verified`.
 */
export function canTransition(from: FaxState, to: FaxState, fax?: { hasMedia: boolean }): boolean {
  if (!FAX_TRANSITIONS[from].includes(to)) return false;
  if (fax === undefined) return true;
  if (fax.hasMedia && from === 'listed' && to === 'stored') return false;
  if (fax.hasMedia && to === 'metadata-only') return false;
  if (!fax.hasMedia && to === 'verified') return false;
  return true;
}

/** States in which every byte Twilio had is proven to be in the store: the only deletable ones. */
export const DELETABLE_STATES: readonly FaxState[] = ['verified', 'metadata-only'];

/** States in which the archive of a fax is complete (nothing left to do unless --delete). */
export const ARCHIVED_STATES: readonly FaxState[] = ['verified', 'metadata-only', 'deleted'];

/** States a run must pick up again (an earlier run left them unfinished). */
export const UNFINISHED_STATES: readonly FaxState[] = ['listed', 'fetched', 'stored', 'failed'];

/** States only a person can move on (`fax-sunset resolve`), or a change at Twilio: never retried, never deleted. */
export const REVIEW_STATES: readonly FaxState[] = ['needs-review'];

export function isDeletable(state: FaxState): boolean {
  return DELETABLE_STATES.includes(state);
}
