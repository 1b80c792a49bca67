/**
 * The archive's memory: the only code that speaks SQL (better-sqlite3, WAL). Implemented by
 * `SqliteCatalog` (sqlite-catalog.ts); opened by `openCatalog(path)`, which creates the file with
 * mode 0600 (phone numbers are personal data) and runs the versioned migrations.
 *
 * Every state change goes through FAX_TRANSITIONS (fax-states.ts); any other move throws
 * InvariantError. The database refuses, by trigger, a deletion intent or a `deleted` state on a
 * fax that is not verified / metadata-only, so no bug above can break the one invariant.
 * Calls are synchronous (better-sqlite3): each method is one transaction.
 */
import type { FaxState } from './fax-states.js';
import type { ChainedEventContent } from './event-chain.js';
import type { ListingSweep } from './listing-coverage.js';
import type { VerificationMethod } from '../store/verify-object.js';

export type { ListingSweep } from './listing-coverage.js';

export type ObjectKind = 'media' | 'sidecar';
/** How an object was proven: the store's vocabulary (store/verify-object.ts), recorded here. */
export type { VerificationMethod };
export type RunKind = 'archive' | 'sync' | 'verify' | 'report' | 'numbers-apply' | 'numbers-rollback' | 'serve' | 'demo';

/** One stored object of a fax (its media, or its `<FaxSid>.json` sidecar). */
export interface ObjectRecord {
  kind: ObjectKind;
  key: string;
  size: number;
  sha256Hex: string;
  md5Hex: string;
  contentType: string;
  etag: string | null;
  versionId: string | null;
  storedAt: string; // ISO 8601
  verifiedAt: string | null;
  verificationMethod: VerificationMethod | null;
}

/** A fax as the catalog holds it. `raw` is Twilio's JSON with the media URL's signature removed. */
export interface FaxRow {
  sid: string;
  accountSid: string;
  state: FaxState;
  status: string | null;
  direction: string | null;
  from: string | null;
  to: string | null;
  numPages: number | null;
  mediaSid: string | null;
  dateCreated: string | null; // ISO 8601 UTC as Twilio gave it
  dateUpdated: string | null;
  raw: Record<string, unknown>;
  attempts: number;
  lastError: string | null;
  firstSeenAt: string;
  updatedAt: string;
  /**
   * Set when the media was downloaded (state fetched and later). `contentType` is the kind decided
   * from the bytes; `servedContentType` what the media host's Content-Type said (S3 objects stored
   * without one are served as application/octet-stream or binary/octet-stream).
   */
  media: { size: number; sha256Hex: string; md5Hex: string; contentType: string; pages: number | null; servedContentType?: string | null } | null;
  objects: ObjectRecord[];
  /** Verified objects a newer version superseded (new media under a new key): still in the store, oldest first. */
  previousObjects?: ObjectVersionRecord[];
  deletion: DeletionRecord | null;
  /** Why a person must decide (state needs-review; kept afterwards as history). */
  reviewReason?: string | null;
  /** When an operator accepted the fax without its media (`resolve --accept-missing-media`). */
  missingMediaAcceptedAt?: string | null;
}

/** A verified object superseded by a newer version of the fax (issue 11 §6): its bytes stay in the store. */
export interface ObjectVersionRecord extends ObjectRecord {
  verifiedAt: string;
  verificationMethod: VerificationMethod;
  supersededAt: string;
}

/**
 * What the store answered about one object immediately before a DELETE (issue 11 §1). Only a
 * proof whose every object matched is recorded with an intent.
 */
export interface DeletionProof {
  /** When the proof was taken (ISO 8601); the catalog refuses one older than the run. */
  at: string;
  /** The weakest method used over the fax's objects. */
  method: VerificationMethod;
  objects: Array<{ kind: ObjectKind; key: string; method: VerificationMethod; sha256: string }>;
}

export interface DeletionRecord {
  faxSid: string;
  intentAt: string;
  runId: number | null;
  receiptAt: string | null;
  httpStatus: number | null;
  requestId: string | null;
  /** The pre-delete proof (null on intents recorded before schema version 3). */
  proofAt?: string | null;
  proofMethod?: VerificationMethod | null;
  proofRunId?: number | null;
}

export type ListedChange = 'new' | 'updated' | 'unchanged' | 'stale';

/** One archive step of one fax, for `recordSteps` (the same facts markFetched/markStored/markVerified take). */
export type ArchiveStep =
  | { step: 'fetched'; sid: string; media: NonNullable<FaxRow['media']> }
  | { step: 'stored'; sid: string; objects: readonly Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>[] }
  | { step: 'verified'; sid: string; verifications: readonly { kind: ObjectKind; method: VerificationMethod; at: string }[] };

/** An older version of a fax, kept when Twilio's `date_updated` advanced. */
export interface FaxHistoryEntry {
  faxSid: string;
  dateUpdated: string | null;
  raw: Record<string, unknown>;
  supersededAt: string;
  runId: number | null;
}

export type FindingOutcome = 'match' | 'mismatch' | 'missing' | 'unverifiable';
/** How a re-audit looked at an object: a verification method, or only whether it exists (`presence`). */
export type FindingMethod = VerificationMethod | 'presence';

/** One result of `verify`'s re-audit of one stored object. */
export interface VerificationFinding {
  id: number;
  faxSid: string;
  key: string;
  at: string;
  method: FindingMethod;
  outcome: FindingOutcome;
  detail: string | null;
  runId: number | null;
}

export interface RunRecord {
  id: number;
  kind: RunKind;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
  options: Record<string, unknown>;
  summary: Record<string, unknown> | null;
}

/** An event as the catalog returns it: the content its hash covers (event-chain.ts), and the links. */
export interface CatalogEvent extends ChainedEventContent {
  /** SHA-256 of the previous event's hash and this event's content: the chain auditors check. */
  hash: string;
  prevHash: string;
}

/** The store and main account a catalog belongs to (issue 17 §1), recorded at its first run. */
export interface CatalogIdentity {
  store: string;
  storeEndpoint: string | null;
  accountSid: string;
  recordedAt: string;
}

export interface Catalog {
  readonly path: string;

  /** The recorded store and main account; null before the first archive/sync/serve run. */
  identity(): CatalogIdentity | null;
  /**
   * Records the store and main account (first run: event `catalog-identity`). With `moved`, replaces
   * a recorded one and logs `catalog-moved` with both (the operator said the catalog moved).
   */
  recordIdentity(identity: Omit<CatalogIdentity, 'recordedAt'>, options?: { moved?: boolean }): void;

  /** Records the start of a run; returns its id. */
  startRun(kind: RunKind, options: Record<string, unknown>): number;
  /** Records the end of a run with its exit code and summary (secrets redacted). Unknown run: InvariantError. */
  finishRun(runId: number, exitCode: number, summary: Record<string, unknown>): void;
  /** Newest first (default 50). */
  listRuns(limit?: number): RunRecord[];

  /**
   * Upserts faxes seen in a listing (one transaction for the whole page). New faxes start `listed`.
   * Same `date_updated`: unchanged. Newer: the old version goes to history, columns update, and if the
   * media changed (media_sid / num_pages) a not-yet-deleted fax goes back to `listed`. Older: `stale`, ignored.
   * A `lost` fax that is listed again goes back to `listed`. The whole page is validated first (sids):
   * a malformed fax throws InvariantError and nothing of the page is written. The media URL's query
   * string is stripped before storing. Returns one change per input fax, in order.
   */
  recordListed(faxes: readonly Record<string, unknown>[], runId: number | null): ListedChange[];

  /** The fax with its objects and current (non-cancelled) deletion record; null when unknown. */
  getFax(sid: string): FaxRow | null;

  /**
   * Faxes a run must (re)do: states listed/fetched/stored/failed (failed only below `maxAttempts`),
   * oldest `date_created` first (Twilio prunes at 180 days), paged by keyset after `after`.
   */
  listUnfinished(options: {
    accountSid?: string;
    maxAttempts?: number;
    limit: number;
    after?: { dateCreated: string | null; sid: string };
  }): FaxRow[];

  /*
   * The step methods below throw InvariantError for an unknown sid or for any move FAX_TRANSITIONS
   * (with the fax's media known) does not allow; a refused call changes nothing.
   */

  /** listed -> fetched: the downloaded media's size, hashes, type and pages. */
  markFetched(sid: string, media: NonNullable<FaxRow['media']>): void;
  /**
   * Records the stored objects (media and/or sidecar) and moves to `stored` (from fetched; or from
   * listed for a fax without media). Replaces existing objects of the same kind (unverified again);
   * an unverified object of a kind not given is dropped. A fax with media needs its media object.
   */
  markStored(sid: string, objects: readonly Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>[]): void;
  /**
   * Records how each object was verified and moves stored -> `verified` (or `metadata-only` when
   * there is no media). Refused (database trigger) while any object of the fax is still unverified.
   */
  markVerified(sid: string, verifications: readonly { kind: ObjectKind; method: VerificationMethod; at: string }[]): void;
  /**
   * Many steps (of many faxes) in ONE transaction, applied in order, each exactly as its single-step
   * method would (same checks, triggers and events); not fsynced (no step needs it: only deletion
   * intents and receipts are). A refused step (InvariantError) is undone alone and the rest commit;
   * any other failure (busy, disk full) commits nothing and throws. Returns one outcome per step:
   * null when recorded, the refusal otherwise.
   */
  recordSteps(steps: readonly ArchiveStep[]): (Error | null)[];
  /** Increments attempts, keeps the reason (no secrets), moves to `failed`. */
  markFailed(sid: string, reason: string): void;
  /** Gone from Twilio before it was archived. */
  markLost(sid: string, reason: string): void;
  /**
   * The record says media, but none can be had (listed/fetched/stored/failed -> needs-review). Not
   * retried, never deleted; the reason (no secrets) is kept. Idempotent.
   */
  markNeedsReview(sid: string, reason: string): void;
  /**
   * An operator's decision, written to the event log with the reason: a needs-review fax goes back to
   * `listed` accepted without its media, so the next run archives its metadata alone (-> metadata-only).
   * Refused (InvariantError) for a fax in any other state.
   */
  acceptMissingMedia(sid: string, reason: string, by: string | null): void;
  /** Faxes in needs-review, oldest first, at most `limit`. */
  listNeedsReview(options: { accountSid?: string; limit: number }): FaxRow[];
  /** Back to `listed` so it is archived again (media changed, or a re-audit found the object bad). No-op when listed. */
  resetToListed(sid: string, reason: string): void;

  /** Verified / metadata-only faxes with no open deletion intent, oldest first (keyset after `after`). */
  listDeletable(options: { accountSid?: string; limit: number; after?: { dateCreated: string | null; sid: string } }): FaxRow[];
  /**
   * Phase 1 of a deletion, fsynced before it returns. The database refuses it unless the fax is
   * verified / metadata-only with every object verified, and `proof` was taken in this very run
   * (`runId` recorded and unfinished, the proof no older than its start). Idempotent while an intent is open.
   */
  recordDeletionIntent(sid: string, runId: number, proof: DeletionProof): void;
  /**
   * Phase 2, fsynced: the receipt (2xx, or 404 = already gone; anything else throws); the fax becomes
   * `deleted`. Needs an open intent. Idempotent once deleted. Refused if the fax left verified /
   * metadata-only after the intent (it changed on Twilio): cancel the intent instead.
   */
  recordDeletionReceipt(sid: string, receipt: { httpStatus: number; requestId: string | null; at: string }): void;
  /** Intents without a receipt (a crash or an unknown outcome): reconciled with a fetch on the next run. */
  listOpenDeletionIntents(accountSid?: string): DeletionRecord[];
  /**
   * Settles an open intent whose fax Twilio no longer has (a fetch answered 404): the receipt is
   * recorded on the intent; a fax still verified / metadata-only becomes `deleted`, any other (a
   * re-audit sent it back meanwhile, issue 11 §5) becomes `lost` with the reason, never an error.
   * No-op without an open intent. Returns what the fax became, or null when there was nothing to settle.
   */
  settleGoneDeletion(sid: string, receipt: { httpStatus: 404; requestId: string | null; at: string }): 'deleted' | 'lost' | null;
  /** Withdraws an intent whose DELETE certainly did not happen (the fetch still finds the fax). Kept as evidence; no-op without one. */
  cancelDeletionIntent(sid: string): void;

  /** Older versions of a fax (oldest first); empty when it never changed. */
  getHistory(sid: string): FaxHistoryEntry[];

  /**
   * Records one re-audit result (append-only; secrets redacted from `detail`). A non-match also goes
   * to the event log. It does not change the fax's state: `verify` decides (e.g. `resetToListed`).
   */
  recordFinding(finding: Omit<VerificationFinding, 'id' | 'detail' | 'runId'> & { detail?: string | null; runId?: number | null }): void;
  /** Findings oldest first, optionally of one run / one outcome, keyset paged by id. */
  listFindings(options?: { runId?: number; outcome?: FindingOutcome; afterId?: number; limit?: number }): VerificationFinding[];

  /**
   * Appends to the hash-chained event log. Never secrets in `data` (string values are redacted anyway).
   * The catalog already logs its own state changes (stored, verified, failed, lost, reset, deletion
   * intent/receipt/cancel, fax updated, listing pages with new/updated faxes, runs, non-match findings).
   */
  appendEvent(type: string, data: Record<string, unknown>, faxSid?: string | null): void;
  /** Events oldest first after `afterId` (default 0), at most `limit` (default 1000). */
  listEvents(options?: { afterId?: number; limit?: number }): CatalogEvent[];
  /**
   * Recomputes the chain (see event-chain.ts for the formula); returns the first broken event id or
   * null when intact. Removing the newest events is not detectable from the chain alone: that is
   * what `headHash` (the newest event's hash, when intact) is for, once anchored elsewhere.
   */
  checkEventChain(): { intact: boolean; brokenAtId: number | null; events: number; headHash?: string | null };

  /** Counts by state (every state present, 0 when none), optionally per account. */
  countByState(accountSid?: string): Record<FaxState, number>;

  /** Faxes not yet archived (listed, fetched, stored, failed), per account that has any. */
  unfinishedByAccount(): Map<string, number>;
  /**
   * The sync watermark: the instant up to which the account is listed completely, from its completed
   * listing sweeps alone (contiguous from `floor`, exclusive, or from the beginning; never later than
   * a sweep's own start). Null when no completed sweep covers it. Never the newest fax seen.
   */
  watermark(accountSid: string, floor?: string | null): string | null;

  /*
   * The listing ledger (issue 11 §3): one row per sweep of one account over a `date_created` range.
   * A sweep left unfinished (a killed or failed listing) is resumed by the next run from where it stopped.
   */

  /** Records the start of a sweep (Twilio's clock) over `(rangeAfter, rangeOnOrBefore]` (null: unbounded). */
  startListingSweep(accountSid: string, range: { startedAt: string; rangeAfter: string | null; rangeOnOrBefore: string | null }, runId: number | null): ListingSweep;
  /**
   * Records a page listed (after the page's faxes were recorded): counts, the new low-water mark
   * (null when the listing was found not newest first), and the start once Twilio's clock is known.
   * A completed sweep is not changed (returns false).
   */
  recordListingProgress(sweepId: number, progress: { startedAt?: string; coveredDownTo?: string | null; pages?: number; faxes?: number }): boolean;
  /** Marks the sweep completed; `absorbs`: unfinished sweeps whose whole range this one listed, completed with it. */
  completeListingSweep(sweepId: number, options?: { startedAt?: string; absorbs?: readonly number[] }): void;
  /** Every sweep (of one account), oldest first. */
  listListingSweeps(accountSid?: string): ListingSweep[];
  /**
   * Every fax, oldest first, in keyset pages (default 500) without holding all in memory. No statement
   * stays open between items, so the caller may write to the catalog while iterating.
   */
  iterateFaxes(batchSize?: number): IterableIterator<FaxRow>;

  close(): void;
}
