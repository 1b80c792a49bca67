/**
 * `Catalog` on a SQLite file (better-sqlite3, WAL). Every public method is one IMMEDIATE transaction
 * (the write lock is taken up front, so a read-then-write never fails half-way on a busy upgrade).
 *
 * Durability: `synchronous=NORMAL` in WAL mode survives a process crash at any instant and only
 * risks the last commits on a power loss; measured on the dev machine, FULL costs ~10x per commit
 * (6.5k vs 75k small commits/s), which the several commits per fax would feel. Deletion intents,
 * receipts and cancellations are committed with FULL: the intent must be on disk before the DELETE
 * goes out, and a WAL fsync also makes every earlier commit (the verification) durable.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigurationError, InvariantError, LockError, redactSecrets } from '../errors.js';
import type {
  ArchiveStep,
  Catalog,
  CatalogEvent,
  DeletionProof,
  CatalogIdentity,
  DeletionRecord,
  FaxHistoryEntry,
  FaxRow,
  FindingOutcome,
  ListedChange,
  ObjectKind,
  ObjectRecord,
  ObjectVersionRecord,
  RunKind,
  RunRecord,
  VerificationFinding,
  VerificationMethod,
} from './catalog.js';
import { canonicalJson, eventHash, eventHashOfJson, GENESIS_HASH } from './event-chain.js';
import { createdKeyFor, faxColumnsFrom, redactDeep, type FaxColumns } from './fax-columns.js';
import { canTransition, DELETABLE_STATES, FAX_STATES, UNFINISHED_STATES, type FaxState } from './fax-states.js';
import { compareFaxVersions, mediaChanged } from './fax-version.js';
import { archiveNeedsMedia } from './media-evidence.js';
import { fsProblem } from './fs-problem.js';
import { assertSchemaCurrent, migrate } from './migrations.js';
import { runIdentity } from '../run-identity.js';
import { listedCompletelyUpTo, type ListingSweep } from './listing-coverage.js';
import { SqliteListingLedger } from './sqlite-listing-ledger.js';

export interface OpenCatalogOptions {
  /** Open an existing catalog without writing (report, verify --dry-run); no migrations run. */
  readonly?: boolean;
  /** An empty catalog in memory, nothing on disk (a dry run before the first archive); `path` only names it. */
  memory?: boolean;
  /** The clock for the catalog's own timestamps (tests). */
  now?: () => Date;
}

const BUSY_TIMEOUT_MS = 5_000;
const MAX_ERROR_LENGTH = 1_000;
const SQL_UNFINISHED = `(${UNFINISHED_STATES.map((s) => `'${s}'`).join(',')})`;
const SQL_DELETABLE = `(${DELETABLE_STATES.map((s) => `'${s}'`).join(',')})`;
const VERIFICATION_METHODS: readonly VerificationMethod[] = ['checksum', 'etag-md5', 'full'];
const FINDING_OUTCOMES: readonly FindingOutcome[] = ['match', 'mismatch', 'missing', 'unverifiable'];

interface FaxDbRow {
  sid: string;
  account_sid: string;
  state: FaxState;
  status: string | null;
  direction: string | null;
  from_number: string | null;
  to_number: string | null;
  num_pages: number | null;
  media_sid: string | null;
  date_created: string | null;
  date_updated: string | null;
  raw: string;
  attempts: number;
  last_error: string | null;
  first_seen_at: string;
  updated_at: string;
  media_size: number | null;
  media_sha256: string | null;
  media_md5: string | null;
  media_content_type: string | null;
  media_pages: number | null;
  review_reason: string | null;
  missing_media_accepted_at: string | null;
  media_served_content_type: string | null;
}

interface StateRow {
  sid: string;
  state: FaxState;
  attempts: number;
  media_sid: string | null;
  media_url: string | null;
  num_pages: number | null;
  status: string | null;
  missing_media_accepted_at: string | null;
}

/** Whether the archive of this fax must hold media (media-evidence.ts: never one field alone). */
function needsMedia(fax: StateRow): boolean {
  return archiveNeedsMedia(fax, fax.missing_media_accepted_at !== null);
}

interface ObjectDbRow {
  kind: ObjectKind;
  key: string;
  size: number;
  sha256: string;
  md5: string;
  content_type: string;
  etag: string | null;
  version_id: string | null;
  stored_at: string;
  verified_at: string | null;
  verification_method: VerificationMethod | null;
}

interface DeletionDbRow {
  fax_sid: string;
  intent_at: string;
  run_id: number | null;
  receipt_at: string | null;
  http_status: number | null;
  request_id: string | null;
  proof_at?: string | null;
  proof_method?: VerificationMethod | null;
  proof_run_id?: number | null;
}

interface ObjectVersionDbRow extends ObjectDbRow {
  verified_at: string;
  verification_method: VerificationMethod;
  superseded_at: string;
}

interface EventDbRow {
  id: number;
  at: string;
  type: string;
  fax_sid: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

/** Opens (creating when needed, mode 0600) and migrates a catalog file. */
export function openCatalog(path: string, options: OpenCatalogOptions = {}): SqliteCatalog {
  return new SqliteCatalog(path, options);
}

export class SqliteCatalog implements Catalog {
  readonly path: string;
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly ledger: SqliteListingLedger;
  /** One transaction function for every write (better-sqlite3 nests a call inside it as a SAVEPOINT). */
  private readonly transaction: Database.Transaction<<T>(fn: () => T) => T>;

  constructor(path: string, options: OpenCatalogOptions = {}) {
    this.path = resolve(path);
    this.readonly = options.readonly ?? false;
    this.now = options.now ?? (() => new Date());
    this.db = options.memory ? new Database(':memory:') : this.readonly ? openReadonly(this.path) : openWritable(this.path);
    try {
      if (this.readonly) assertSchemaCurrent(this.db, this.path);
      else migrate(this.db, this.path);
      this.stmt = prepareStatements(this.db);
      this.ledger = new SqliteListingLedger(this.db);
      this.transaction = this.db.transaction(<T>(fn: () => T): T => fn());
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  // ---- identity (migration 5) ------------------------------------------------------------------

  identity(): CatalogIdentity | null {
    const row = this.db.prepare('SELECT store, store_endpoint, account_sid, recorded_at FROM catalog_identity WHERE id = 1').get() as
      | { store: string; store_endpoint: string | null; account_sid: string; recorded_at: string }
      | undefined;
    return row ? { store: row.store, storeEndpoint: row.store_endpoint, accountSid: row.account_sid, recordedAt: row.recorded_at } : null;
  }

  recordIdentity(identity: Omit<CatalogIdentity, 'recordedAt'>, options: { moved?: boolean } = {}): void {
    this.write(() => {
      const at = this.iso();
      const previous = this.identity();
      if (previous && !options.moved) throw new InvariantError(`the catalog ${this.path} already belongs to ${previous.store} and ${previous.accountSid}`);
      const endpoint = identity.storeEndpoint === null ? null : redactSecrets(identity.storeEndpoint);
      this.db.prepare(`INSERT INTO catalog_identity (id, store, store_endpoint, account_sid, recorded_at, updated_at) VALUES (1, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET store = excluded.store, store_endpoint = excluded.store_endpoint, account_sid = excluded.account_sid,
        updated_at = excluded.updated_at`).run(identity.store, endpoint, identity.accountSid, at, at);
      const now = { store: identity.store, storeEndpoint: endpoint, accountSid: identity.accountSid };
      if (previous) {
        this.appendEventInTransaction('catalog-moved', {
          from: { store: previous.store, storeEndpoint: previous.storeEndpoint, accountSid: previous.accountSid }, to: now,
        }, null, at);
      } else {
        this.appendEventInTransaction('catalog-identity', now, null, at);
      }
    });
  }

  // ---- runs ---------------------------------------------------------------------------------

  startRun(kind: RunKind, options: Record<string, unknown>): number {
    // Every run records who started it and on which host (the report's history shows them).
    const recorded = { ...options, ranBy: options.ranBy ?? runIdentity() };
    return this.write(() => {
      const at = this.iso();
      const id = Number(this.stmt.insertRun.run(kind, at, JSON.stringify(redactDeep(recorded))).lastInsertRowid);
      this.appendEventInTransaction('run-started', { runId: id, kind }, null, at);
      return id;
    });
  }

  finishRun(runId: number, exitCode: number, summary: Record<string, unknown>): void {
    this.write(() => {
      const at = this.iso();
      const clean = redactDeep(summary) as Record<string, unknown>;
      const changed = this.stmt.finishRun.run(at, exitCode, JSON.stringify(clean), runId).changes;
      if (changed === 0) throw new InvariantError(`no run ${runId} in the catalog ${this.path}`);
      this.appendEventInTransaction('run-finished', { runId, exitCode, summary: clean }, null, at);
    });
  }

  listRuns(limit = 50): RunRecord[] {
    return (this.stmt.listRuns.all(limit) as Record<string, unknown>[]).map((r) => ({
      id: Number(r.id),
      kind: r.kind as RunKind,
      startedAt: String(r.started_at),
      finishedAt: (r.finished_at as string | null) ?? null,
      exitCode: r.exit_code === null ? null : Number(r.exit_code),
      options: JSON.parse(String(r.options)) as Record<string, unknown>,
      summary: r.summary === null ? null : (JSON.parse(String(r.summary)) as Record<string, unknown>),
    }));
  }

  // ---- listing --------------------------------------------------------------------------------

  recordListed(faxes: readonly Record<string, unknown>[], runId: number | null): ListedChange[] {
    // Validate the whole page before writing anything: a malformed page changes nothing.
    const columns = faxes.map((fax) => faxColumnsFrom(fax));
    return this.write(() => {
      const at = this.iso();
      const changes: ListedChange[] = [];
      let added = 0;
      let updated = 0;
      for (const c of columns) {
        // Insert first: most faxes of a first listing are new, and one statement beats a lookup plus an insert.
        const inserted = this.stmt.insertFax.run(
          c.sid, c.accountSid, c.status, c.direction, c.from, c.to, c.quality, c.mediaSid, c.mediaUrl, c.numPages, c.duration,
          c.price, c.priceUnit, c.apiVersion, c.url, c.links, c.dateCreated, c.dateUpdated, c.createdKey, c.rawJson, at, at, at, runId,
        ).changes;
        if (inserted === 1) {
          changes.push('new');
          added++;
          continue;
        }
        const stored = this.stmt.selectForListing.get(c.sid) as {
          state: FaxState;
          date_updated: string | null;
          media_sid: string | null;
          num_pages: number | null;
          raw: string;
        };
        const change = compareFaxVersions(stored.date_updated, c.dateUpdated);
        changes.push(change);
        if (change !== 'updated') {
          if (change === 'unchanged' && stored.state === 'lost') {
            // Twilio lists it, so it is not gone: archive it after all.
            this.setState(c.sid, 'lost', 'listed', at, { clearMedia: true });
            this.appendEventInTransaction('reappeared', { runId }, c.sid, at);
          }
          continue;
        }
        updated++;
        this.stmt.insertHistory.run(c.sid, stored.date_updated, stored.raw, at, runId);
        this.stmt.updateFaxColumns.run(faxParams(c, at, runId));
        const newMedia = mediaChanged(
          { mediaSid: stored.media_sid, numPages: stored.num_pages },
          { mediaSid: c.mediaSid, numPages: c.numPages },
        );
        // Any change sends an archived fax back through the pipeline: its sidecar in the store must
        // say what Twilio says now (a fax archived while `sending` is deleted only once final, and its
        // copy must show the final status). Unchanged media keeps its facts, so only the sidecar is
        // written again; new media is fetched again.
        const backToListed = stored.state !== 'deleted' && stored.state !== 'listed';
        if (backToListed) this.setState(c.sid, stored.state, 'listed', at, { clearMedia: newMedia });
        // An operator accepted this fax without media; Twilio now says other media: archive that.
        if (newMedia) this.stmt.clearMissingMediaAccepted.run(c.sid);
        this.appendEventInTransaction(
          'fax-updated',
          { runId, previousDateUpdated: stored.date_updated, dateUpdated: c.dateUpdated, mediaChanged: newMedia, previousState: stored.state, state: backToListed ? 'listed' : stored.state },
          c.sid,
          at,
        );
      }
      if (added > 0) this.appendEventInTransaction('listed', { runId, new: added, updated }, null, at);
      return changes;
    });
  }

  getFax(sid: string): FaxRow | null {
    const row = this.stmt.getFax.get(sid) as FaxDbRow | undefined;
    return row ? this.toFaxRow(row) : null;
  }

  listUnfinished(options: {
    accountSid?: string;
    maxAttempts?: number;
    limit: number;
    after?: { dateCreated: string | null; sid: string };
  }): FaxRow[] {
    const afterKey = options.after ? createdKeyFor(options.after.dateCreated) : '';
    const afterSid = options.after?.sid ?? '';
    const maxAttempts = options.maxAttempts ?? Number.MAX_SAFE_INTEGER;
    const rows = (
      options.accountSid === undefined
        ? this.stmt.listUnfinished.all(maxAttempts, afterKey, afterSid, options.limit)
        : this.stmt.listUnfinishedForAccount.all(options.accountSid, maxAttempts, afterKey, afterSid, options.limit)
    ) as FaxDbRow[];
    return rows.map((r) => this.toFaxRow(r));
  }

  // ---- the archive steps ----------------------------------------------------------------------

  markFetched(sid: string, media: NonNullable<FaxRow['media']>): void {
    assertMedia(sid, media);
    this.write(() => this.fetchedInTransaction(sid, media, this.iso()));
  }

  markStored(sid: string, objects: readonly Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>[]): void {
    assertObjects(sid, objects);
    this.write(() => this.storedInTransaction(sid, objects, this.iso()));
  }

  markVerified(sid: string, verifications: readonly { kind: ObjectKind; method: VerificationMethod; at: string }[]): void {
    assertVerifications(sid, verifications);
    this.write(() => this.verifiedInTransaction(sid, verifications, this.iso()));
  }

  recordSteps(steps: readonly ArchiveStep[]): (InvariantError | null)[] {
    // Checked before the transaction, as the single-step methods do; a bad step is refused alone.
    const outcomes: (InvariantError | null)[] = steps.map((step) => {
      try {
        if (step.step === 'fetched') assertMedia(step.sid, step.media);
        else if (step.step === 'stored') assertObjects(step.sid, step.objects);
        else if (step.step === 'verified') assertVerifications(step.sid, step.verifications);
        else throw new InvariantError(`unknown archive step ${JSON.stringify((step as { step: unknown }).step)}`);
        return null;
      } catch (error) {
        if (error instanceof InvariantError) return error;
        throw error;
      }
    });
    if (steps.length === 0) return outcomes;
    const apply = (step: ArchiveStep, at: string): void => {
      if (step.step === 'fetched') this.fetchedInTransaction(step.sid, step.media, at);
      else if (step.step === 'stored') this.storedInTransaction(step.sid, step.objects, at);
      else this.verifiedInTransaction(step.sid, step.verifications, at);
    };
    // Fast path: every step in one transaction without a savepoint each (they cost a third of the
    // batch, measured). A refusal rolls the whole batch back, and the slow path below sorts it out.
    try {
      this.write(() => {
        const at = this.iso();
        steps.forEach((step, i) => {
          if (outcomes[i] === null) apply(step, at);
        });
      });
      return outcomes;
    } catch (error) {
      if (!(error instanceof InvariantError)) throw error; // busy, full disk, I/O: nothing committed
    }
    this.write(() => {
      const at = this.iso();
      steps.forEach((step, i) => {
        if (outcomes[i] !== null) return;
        try {
          // A SAVEPOINT per step: a refused step leaves no trace and the batch goes on.
          this.transaction(() => apply(step, at));
        } catch (error) {
          const refusal = this.translate(error);
          if (!(refusal instanceof InvariantError)) throw refusal;
          outcomes[i] = refusal;
        }
      });
    });
    return outcomes;
  }

  private fetchedInTransaction(sid: string, media: NonNullable<FaxRow['media']>, at: string): void {
    const fax = this.requireFax(sid);
    this.assertTransition(fax, 'fetched');
    this.stmt.setMedia.run(media.size, media.sha256Hex, media.md5Hex, media.contentType, media.pages, media.servedContentType ?? null, at, sid);
    this.setState(sid, fax.state, 'fetched', at);
  }

  private storedInTransaction(sid: string, objects: readonly Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>[], at: string): void {
    const kinds = objects.map((o) => o.kind);
    const fax = this.requireFax(sid);
    this.assertTransition(fax, 'stored');
    if (needsMedia(fax) && !kinds.includes('media')) {
      throw new InvariantError(`fax ${sid} has media on Twilio: it is stored only together with its media object`);
    }
    for (const o of objects) {
      const previous = this.stmt.getObject.get(sid, o.kind) as ObjectDbRow | undefined;
      // A verified object under another key stays in the store (issue 11 §6): its row and proof
      // are kept as a version. One rewritten in place (a sidecar) keeps only the event below.
      if (previous && previous.key !== o.key && previous.verified_at !== null && previous.verification_method !== null) {
        this.stmt.insertObjectVersion.run(
          sid, previous.kind, previous.key, previous.size, previous.sha256, previous.md5, previous.content_type, previous.etag,
          previous.version_id, previous.stored_at, previous.verified_at, previous.verification_method, at,
        );
      }
      this.stmt.upsertObject.run(sid, o.kind, o.key, o.size, o.sha256Hex, o.md5Hex, o.contentType, o.etag, o.versionId, o.storedAt);
      if (previous && (previous.key !== o.key || previous.sha256 !== o.sha256Hex)) {
        this.appendEventInTransaction('object-replaced', { kind: o.kind, previousKey: previous.key, previousSha256: previous.sha256, key: o.key, sha256: o.sha256Hex }, sid, at);
      }
    }
    // An unproven object of a kind this version no longer has (the media vanished before it was
    // verified) proves nothing and would block verification forever: it goes.
    for (const stale of this.stmt.objectsFor.all(sid) as ObjectDbRow[]) {
      if (!kinds.includes(stale.kind) && stale.verified_at === null) {
        this.stmt.deleteObject.run(sid, stale.kind);
        this.appendEventInTransaction('object-dropped', { kind: stale.kind, key: stale.key, reason: 'never verified and not part of this version' }, sid, at);
      }
    }
    this.setState(sid, fax.state, 'stored', at);
    this.appendEventInTransaction('stored', { objects: objects.map((o) => ({ kind: o.kind, key: o.key, size: o.size, sha256: o.sha256Hex })) }, sid, at);
  }

  private verifiedInTransaction(sid: string, verifications: readonly { kind: ObjectKind; method: VerificationMethod; at: string }[], at: string): void {
    const fax = this.requireFax(sid);
    const target: FaxState = needsMedia(fax) ? 'verified' : 'metadata-only';
    this.assertTransition(fax, target);
    for (const v of verifications) {
      if (this.stmt.verifyObject.run(v.at, v.method, sid, v.kind).changes === 0) {
        throw new InvariantError(`fax ${sid}: no stored ${v.kind} object to mark verified`);
      }
    }
    // The trigger refuses this if any object is still unproven.
    this.setState(sid, fax.state, target, at);
    const objects = (this.stmt.objectsFor.all(sid) as ObjectDbRow[]).map((o) => ({ kind: o.kind, key: o.key, sha256: o.sha256, method: o.verification_method, verifiedAt: o.verified_at }));
    this.appendEventInTransaction(target, { objects }, sid, at);
  }

  markFailed(sid: string, reason: string): void {
    const clean = cleanReason(reason);
    this.write(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      this.assertTransition(fax, 'failed');
      this.stmt.fail.run(clean, at, at, sid);
      this.appendEventInTransaction('failed', { from: fax.state, reason: clean, attempts: fax.attempts + 1 }, sid, at);
    });
  }

  markLost(sid: string, reason: string): void {
    const clean = cleanReason(reason);
    this.write(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      this.assertTransition(fax, 'lost');
      this.stmt.setLastError.run(clean, sid);
      this.setState(sid, fax.state, 'lost', at);
      this.appendEventInTransaction('lost', { from: fax.state, reason: clean }, sid, at);
    });
  }

  markNeedsReview(sid: string, reason: string): void {
    const clean = cleanReason(reason);
    this.write(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      this.assertTransition(fax, 'needs-review');
      if (fax.state === 'needs-review') return;
      this.stmt.setReviewReason.run(clean, sid);
      this.setState(sid, fax.state, 'needs-review', at, { clearMedia: true });
      this.appendEventInTransaction('needs-review', { from: fax.state, reason: clean }, sid, at);
    });
  }

  acceptMissingMedia(sid: string, reason: string, by: string | null): void {
    const clean = cleanReason(reason);
    if (clean === '') throw new InvariantError(`fax ${sid}: accepting missing media needs a reason`);
    this.durable(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      if (fax.state !== 'needs-review') {
        throw new InvariantError(`refused: fax ${sid} is ${fax.state}, not needs-review; only a fax waiting for review can be accepted without media`);
      }
      this.stmt.acceptMissingMedia.run(at, sid);
      this.setState(sid, fax.state, 'listed', at, { clearMedia: true });
      this.appendEventInTransaction('missing-media-accepted', { reason: clean, by, from: fax.state }, sid, at);
    });
  }

  listNeedsReview(options: { accountSid?: string; limit: number }): FaxRow[] {
    const rows = (this.stmt.listNeedsReview.all({ account: options.accountSid ?? null, limit: options.limit }) as FaxDbRow[]);
    return rows.map((r) => this.toFaxRow(r));
  }

  resetToListed(sid: string, reason: string): void {
    const clean = cleanReason(reason);
    this.write(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      this.assertTransition(fax, 'listed');
      if (fax.state === 'listed') return;
      this.setState(sid, fax.state, 'listed', at, { clearMedia: true });
      this.appendEventInTransaction('reset', { from: fax.state, reason: clean }, sid, at);
    });
  }

  // ---- deletion (two-phase) -------------------------------------------------------------------

  listDeletable(options: { accountSid?: string; limit: number; after?: { dateCreated: string | null; sid: string } }): FaxRow[] {
    const afterKey = options.after ? createdKeyFor(options.after.dateCreated) : '';
    const afterSid = options.after?.sid ?? '';
    const rows = (
      options.accountSid === undefined
        ? this.stmt.listDeletable.all(afterKey, afterSid, options.limit)
        : this.stmt.listDeletableForAccount.all(options.accountSid, afterKey, afterSid, options.limit)
    ) as FaxDbRow[];
    return rows.map((r) => this.toFaxRow(r));
  }

  recordDeletionIntent(sid: string, runId: number, proof: DeletionProof): void {
    if (!VERIFICATION_METHODS.includes(proof.method) || proof.objects.length === 0) {
      throw new InvariantError(`fax ${sid}: a deletion intent needs a pre-delete proof of every object`);
    }
    this.durable(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      if (!canTransition(fax.state, 'deleted')) {
        throw new InvariantError(`refused: fax ${sid} is ${fax.state}, not verified or metadata-only; it must not be deleted from Twilio`);
      }
      if (this.stmt.openIntent.get(sid)) return; // idempotent: the intent is already on disk
      // The proof must cover exactly the objects the catalog holds, with their recorded SHA-256.
      const objects = this.stmt.objectsFor.all(sid) as ObjectDbRow[];
      const proven = new Map(proof.objects.map((o) => [`${o.kind} ${o.key}`, o.sha256]));
      if (objects.some((o) => proven.get(`${o.kind} ${o.key}`) !== o.sha256) || proven.size !== objects.length) {
        throw new InvariantError(`refused: fax ${sid}: the pre-delete proof does not cover its stored objects as recorded`);
      }
      this.stmt.insertIntent.run(sid, at, runId, proof.at, proof.method, runId, canonicalJson(proof.objects));
      this.appendEventInTransaction('deletion-intent', { runId, proofAt: proof.at, proofMethod: proof.method }, sid, at);
    });
  }

  settleGoneDeletion(sid: string, receipt: { httpStatus: 404; requestId: string | null; at: string }): 'deleted' | 'lost' | null {
    return this.durable(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      const intent = this.stmt.openIntent.get(sid) as { id: number } | undefined;
      if (!intent) return null;
      const requestId = receipt.requestId === null ? null : redactSecrets(receipt.requestId);
      this.stmt.recordReceipt.run(receipt.at, receipt.httpStatus, requestId, intent.id);
      this.appendEventInTransaction('deletion-receipt', { httpStatus: receipt.httpStatus, requestId, receiptAt: receipt.at }, sid, at);
      if (canTransition(fax.state, 'deleted')) {
        this.setState(sid, fax.state, 'deleted', at);
        return 'deleted';
      }
      // The DELETE went through, but the fax had left verified meanwhile (a re-audit found its copy
      // bad): Twilio's copy is gone and ours is not proven. Said loudly, never a run-stopping error.
      const reason = `deleted from Twilio by an earlier run's DELETE while it was ${fax.state} (its stored copy was no longer proven)`;
      if (fax.state !== 'lost') {
        this.stmt.setLastError.run(cleanReason(reason), sid);
        this.setState(sid, fax.state, 'lost', at);
        this.appendEventInTransaction('lost', { from: fax.state, reason }, sid, at);
      }
      return 'lost';
    });
  }

  recordDeletionReceipt(sid: string, receipt: { httpStatus: number; requestId: string | null; at: string }): void {
    const okStatus = receipt.httpStatus === 404 || (receipt.httpStatus >= 200 && receipt.httpStatus <= 299);
    if (!okStatus) throw new InvariantError(`fax ${sid}: HTTP ${receipt.httpStatus} is not a deletion receipt (only 2xx, or 404 = already gone)`);
    this.durable(() => {
      const at = this.iso();
      const fax = this.requireFax(sid);
      if (fax.state === 'deleted') return; // idempotent: the receipt is already recorded
      const intent = this.stmt.openIntent.get(sid) as { id: number } | undefined;
      if (!intent) throw new InvariantError(`fax ${sid}: no open deletion intent; the intent is committed before DELETE is called`);
      if (!canTransition(fax.state, 'deleted')) {
        throw new InvariantError(`fax ${sid} is ${fax.state} (it changed after the deletion intent); its deletion cannot be recorded as safe`);
      }
      const requestId = receipt.requestId === null ? null : redactSecrets(receipt.requestId);
      this.stmt.recordReceipt.run(receipt.at, receipt.httpStatus, requestId, intent.id);
      this.setState(sid, fax.state, 'deleted', at);
      this.appendEventInTransaction('deletion-receipt', { httpStatus: receipt.httpStatus, requestId, receiptAt: receipt.at }, sid, at);
    });
  }

  listOpenDeletionIntents(accountSid?: string): DeletionRecord[] {
    const rows = (accountSid === undefined ? this.stmt.openIntents.all() : this.stmt.openIntentsForAccount.all(accountSid)) as DeletionDbRow[];
    return rows.map(toDeletionRecord);
  }

  cancelDeletionIntent(sid: string): void {
    this.durable(() => {
      const at = this.iso();
      const intent = this.stmt.openIntent.get(sid) as { id: number } | undefined;
      if (!intent) return;
      this.stmt.cancelIntent.run(at, intent.id);
      this.appendEventInTransaction('deletion-cancelled', {}, sid, at);
    });
  }

  // ---- history, findings, events --------------------------------------------------------------

  getHistory(sid: string): FaxHistoryEntry[] {
    return (this.stmt.history.all(sid) as Record<string, unknown>[]).map((r) => ({
      faxSid: String(r.fax_sid),
      dateUpdated: (r.date_updated as string | null) ?? null,
      raw: JSON.parse(String(r.raw)) as Record<string, unknown>,
      supersededAt: String(r.superseded_at),
      runId: r.run_id === null ? null : Number(r.run_id),
    }));
  }

  recordFinding(finding: Omit<VerificationFinding, 'id' | 'detail' | 'runId'> & { detail?: string | null; runId?: number | null }): void {
    if (!FINDING_OUTCOMES.includes(finding.outcome)) throw new InvariantError(`unknown finding outcome ${JSON.stringify(finding.outcome)}`);
    const detail = finding.detail ? cleanReason(finding.detail) : null;
    this.write(() => {
      const at = this.iso();
      this.stmt.insertFinding.run(finding.faxSid, finding.key, finding.at, finding.method, finding.outcome, detail, finding.runId ?? null);
      if (finding.outcome !== 'match') {
        this.appendEventInTransaction('finding', { key: finding.key, method: finding.method, outcome: finding.outcome, detail, runId: finding.runId ?? null }, finding.faxSid, at);
      }
    });
  }

  listFindings(options: { runId?: number; outcome?: FindingOutcome; afterId?: number; limit?: number } = {}): VerificationFinding[] {
    const rows = this.stmt.listFindings.all({ afterId: options.afterId ?? 0, runId: options.runId ?? null, outcome: options.outcome ?? null, limit: options.limit ?? 1000 }) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: Number(r.id),
      faxSid: String(r.fax_sid),
      key: String(r.key),
      at: String(r.at),
      method: r.method as VerificationFinding['method'],
      outcome: r.outcome as FindingOutcome,
      detail: (r.detail as string | null) ?? null,
      runId: r.run_id === null ? null : Number(r.run_id),
    }));
  }

  appendEvent(type: string, data: Record<string, unknown>, faxSid: string | null = null): void {
    this.write(() => this.appendEventInTransaction(type, data, faxSid, this.iso()));
  }

  listEvents(options: { afterId?: number; limit?: number } = {}): CatalogEvent[] {
    return (this.stmt.listEvents.all(options.afterId ?? 0, options.limit ?? 1000) as EventDbRow[]).map((r) => ({
      id: r.id,
      at: r.at,
      type: r.type,
      faxSid: r.fax_sid,
      data: JSON.parse(r.data) as Record<string, unknown>,
      hash: r.hash,
      prevHash: r.prev_hash,
    }));
  }

  checkEventChain(): { intact: boolean; brokenAtId: number | null; events: number; headHash?: string | null } {
    let prev = GENESIS_HASH;
    let afterId = 0;
    let count = 0;
    for (;;) {
      const batch = this.stmt.listEvents.all(afterId, 2_000) as EventDbRow[];
      if (batch.length === 0) return { intact: true, brokenAtId: null, events: count, headHash: count > 0 ? prev : null };
      for (const e of batch) {
        count++;
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(e.data) as Record<string, unknown>;
        } catch {
          return { intact: false, brokenAtId: e.id, events: count };
        }
        const expected = eventHash(prev, { id: e.id, at: e.at, type: e.type, faxSid: e.fax_sid, data });
        if (e.prev_hash !== prev || e.hash !== expected) return { intact: false, brokenAtId: e.id, events: count };
        prev = e.hash;
        afterId = e.id;
      }
    }
  }

  // ---- reads for reports ----------------------------------------------------------------------

  countByState(accountSid?: string): Record<FaxState, number> {
    const counts = Object.fromEntries(FAX_STATES.map((s) => [s, 0])) as Record<FaxState, number>;
    const rows = (accountSid === undefined ? this.stmt.countByState.all() : this.stmt.countByStateForAccount.all(accountSid)) as { state: FaxState; n: number }[];
    for (const r of rows) counts[r.state] = r.n;
    return counts;
  }

  unfinishedByAccount(): Map<string, number> {
    const rows = this.stmt.unfinishedByAccount.all() as { account_sid: string; n: number }[];
    return new Map(rows.map((r) => [r.account_sid, r.n]));
  }

  watermark(accountSid: string, floor: string | null = null): string | null {
    return listedCompletelyUpTo(this.ledger.list(accountSid), floor);
  }

  // ---- the listing ledger (sqlite-listing-ledger.ts) ----------------------------------------------

  startListingSweep(accountSid: string, range: { startedAt: string; rangeAfter: string | null; rangeOnOrBefore: string | null }, runId: number | null): ListingSweep {
    return this.write(() => this.ledger.start(accountSid, range, runId));
  }

  recordListingProgress(sweepId: number, progress: { startedAt?: string; coveredDownTo?: string | null; pages?: number; faxes?: number }): boolean {
    return this.write(() => this.ledger.progress(sweepId, progress));
  }

  completeListingSweep(sweepId: number, options: { startedAt?: string; absorbs?: readonly number[] } = {}): void {
    this.write(() => this.ledger.complete(sweepId, this.iso(), options));
  }

  listListingSweeps(accountSid?: string): ListingSweep[] {
    return this.ledger.list(accountSid);
  }

  *iterateFaxes(batchSize = 500): IterableIterator<FaxRow> {
    let afterKey = '';
    let afterSid = '';
    for (;;) {
      // `.all()` finishes the statement before anything is yielded: no iterator stays open while
      // the caller uses the catalog (better-sqlite3 forbids that), and memory stays one batch.
      const rows = this.stmt.iterateFaxes.all(afterKey, afterSid, batchSize) as (FaxDbRow & { created_key: string })[];
      if (rows.length === 0) return;
      for (const r of rows) yield this.toFaxRow(r);
      const last = rows[rows.length - 1]!;
      afterKey = last.created_key;
      afterSid = last.sid;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  private iso(): string {
    return this.now().toISOString();
  }

  /** Runs `fn` in an IMMEDIATE transaction; constraint and trigger refusals become InvariantError. */
  private write<T>(fn: () => T): T {
    try {
      return this.transaction.immediate(fn) as T;
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** `write` with the commit fsynced (synchronous=FULL) before it returns. */
  private durable<T>(fn: () => T): T {
    if (this.readonly) return this.write(fn);
    this.db.pragma('synchronous = FULL');
    try {
      return this.write(fn);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  private translate(error: unknown): unknown {
    if (!(error instanceof Database.SqliteError)) return error;
    if (error.code.startsWith('SQLITE_CONSTRAINT')) return new InvariantError(error.message, { cause: error });
    if (error.code.startsWith('SQLITE_BUSY')) {
      return new LockError(`the catalog ${this.path} is busy: another process holds its write lock`, { cause: error });
    }
    if (error.code.startsWith('SQLITE_READONLY')) {
      return new ConfigurationError(`the catalog ${this.path} cannot be written (${this.readonly ? 'opened read-only' : error.code})`, { cause: error });
    }
    if (error.code === 'SQLITE_FULL') return new ConfigurationError(`the disk holding the catalog ${this.path} is full`, { cause: error });
    return error;
  }

  private requireFax(sid: string): StateRow {
    const row = this.stmt.getState.get(sid) as StateRow | undefined;
    if (!row) throw new InvariantError(`fax ${sid} is not in the catalog`);
    return row;
  }

  /** FAX_TRANSITIONS, in code: any other move is a bug above the catalog. */
  private assertTransition(fax: StateRow, to: FaxState): void {
    const hasMedia = needsMedia(fax);
    if (!canTransition(fax.state, to, { hasMedia })) {
      throw new InvariantError(`refused: fax ${fax.sid} cannot move from ${fax.state} to ${to} (${hasMedia ? 'it has' : 'it has no'} media)`);
    }
  }

  private setState(sid: string, from: FaxState, to: FaxState, at: string, options: { clearMedia?: boolean } = {}): void {
    if (!canTransition(from, to)) throw new InvariantError(`refused: fax ${sid} cannot move from ${from} to ${to}`);
    if (options.clearMedia) this.stmt.clearMedia.run(sid);
    this.stmt.setState.run(to, at, at, sid);
  }

  private appendEventInTransaction(type: string, data: Record<string, unknown>, faxSid: string | null, at: string): void {
    const last = this.stmt.lastEvent.get() as { id: number; hash: string } | undefined;
    const id = (last?.id ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    // The hash covers exactly the stored text (canonical JSON re-renders to itself: no parse back).
    const dataJson = canonicalJson(redactDeep(data));
    const hash = eventHashOfJson(prevHash, { id, at, type, faxSid, dataJson });
    this.stmt.insertEvent.run(id, at, type, faxSid, dataJson, prevHash, hash);
  }

  private toFaxRow(r: FaxDbRow): FaxRow {
    const objects = (this.stmt.objectsFor.all(r.sid) as ObjectDbRow[]).map(toObjectRecord);
    const deletion = this.stmt.currentDeletion.get(r.sid) as DeletionDbRow | undefined;
    const previousObjects = (this.stmt.objectVersionsFor.all(r.sid) as ObjectVersionDbRow[]).map(
      (o): ObjectVersionRecord => ({ ...toObjectRecord(o), verifiedAt: o.verified_at, verificationMethod: o.verification_method, supersededAt: o.superseded_at }),
    );
    return {
      sid: r.sid,
      accountSid: r.account_sid,
      state: r.state,
      status: r.status,
      direction: r.direction,
      from: r.from_number,
      to: r.to_number,
      numPages: r.num_pages,
      mediaSid: r.media_sid,
      dateCreated: r.date_created,
      dateUpdated: r.date_updated,
      raw: JSON.parse(r.raw) as Record<string, unknown>,
      attempts: r.attempts,
      lastError: r.last_error,
      firstSeenAt: r.first_seen_at,
      updatedAt: r.updated_at,
      media:
        r.media_sha256 !== null && r.media_md5 !== null && r.media_size !== null
          ? { size: r.media_size, sha256Hex: r.media_sha256, md5Hex: r.media_md5, contentType: r.media_content_type ?? '', pages: r.media_pages, ...(r.media_served_content_type === null ? {} : { servedContentType: r.media_served_content_type }) }
          : null,
      objects,
      previousObjects,
      deletion: deletion ? toDeletionRecord(deletion) : null,
      reviewReason: r.review_reason,
      missingMediaAcceptedAt: r.missing_media_accepted_at,
    };
  }
}

// ---- opening ------------------------------------------------------------------------------------

function openWritable(path: string): Database.Database {
  const created = !existsSync(path);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600)); // 'a': create when missing, never truncate
    if (created) chmodSync(path, 0o600);
  } catch (error) {
    throw new ConfigurationError(`cannot create or write the catalog ${path}: ${fsProblem(error)}; pass --catalog with a writable folder`, { cause: error });
  }
  // SQLite creates -wal and -shm with the database file's mode, but a restrictive umask while it
  // opens them costs nothing and covers SQLite builds that do not copy the mode.
  const previousUmask = setUmask(0o077);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Statement journals in memory: every statement a trigger may abort keeps one, and on a temp
    // file it cost 3/4 of the listing's insert time in system calls (measured, issue 16).
    db.pragma('temp_store = MEMORY');
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // touches -wal / -shm now, under the umask
  } catch (error) {
    db?.close();
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigurationError(`cannot open the catalog ${path}: ${detail}`, { cause: error });
  } finally {
    if (previousUmask !== null) setUmask(previousUmask);
  }
  for (const suffix of ['-wal', '-shm']) {
    try {
      chmodSync(path + suffix, 0o600);
    } catch {
      // absent until SQLite needs it; then it is created with the database file's mode
    }
  }
  return db;
}

function openReadonly(path: string): Database.Database {
  if (!existsSync(path)) throw new ConfigurationError(`no catalog at ${path}; run archive first or pass --catalog`);
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return db;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigurationError(`cannot open the catalog ${path} read-only: ${detail}`, { cause: error });
  }
}

/** process.umask(mask) is refused in worker threads; there the umask is left alone. */
function setUmask(mask: number): number | null {
  try {
    return process.umask(mask);
  } catch {
    return null;
  }
}

// ---- statements ---------------------------------------------------------------------------------

const FAX_COLUMNS = `sid, account_sid, state, status, direction, from_number, to_number, num_pages, media_sid, date_created,
  date_updated, raw, attempts, last_error, first_seen_at, updated_at, media_size, media_sha256, media_md5, media_content_type,
  media_pages, created_key, review_reason, missing_media_accepted_at, media_served_content_type`;

function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertRun: p(`INSERT INTO runs (kind, started_at, options) VALUES (?, ?, ?)`),
    finishRun: p(`UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE id = ?`),
    listRuns: p(`SELECT * FROM runs ORDER BY id DESC LIMIT ?`),

    selectForListing: p(`SELECT state, date_updated, media_sid, num_pages, raw FROM faxes WHERE sid = ?`),
    // Positional parameters: binding an object by name cost ~20% of insert throughput (measured).
    insertFax: p(`INSERT INTO faxes (sid, account_sid, state, status, direction, from_number, to_number, quality, media_sid, media_url,
        num_pages, duration, price, price_unit, api_version, url, links, date_created, date_updated, created_key, raw,
        first_seen_at, updated_at, state_changed_at, last_run_id)
      VALUES (?, ?, 'listed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (sid) DO NOTHING`),
    updateFaxColumns: p(`UPDATE faxes SET account_sid = @accountSid, status = @status, direction = @direction, from_number = @from,
        to_number = @to, quality = @quality, media_sid = @mediaSid, media_url = @mediaUrl, num_pages = @numPages,
        duration = @duration, price = @price, price_unit = @priceUnit, api_version = @apiVersion, url = @url, links = @links,
        date_created = @dateCreated, date_updated = @dateUpdated, created_key = @createdKey, raw = @rawJson,
        updated_at = @at, last_run_id = @runId
      WHERE sid = @sid`),
    insertHistory: p(`INSERT INTO fax_history (fax_sid, date_updated, raw, superseded_at, run_id) VALUES (?, ?, ?, ?, ?)`),
    history: p(`SELECT * FROM fax_history WHERE fax_sid = ? ORDER BY id`),

    getFax: p(`SELECT ${FAX_COLUMNS} FROM faxes WHERE sid = ?`),
    getState: p(`SELECT sid, state, attempts, media_sid, media_url, num_pages, status, missing_media_accepted_at FROM faxes WHERE sid = ?`),
    setReviewReason: p(`UPDATE faxes SET review_reason = ? WHERE sid = ?`),
    acceptMissingMedia: p(`UPDATE faxes SET missing_media_accepted_at = ? WHERE sid = ?`),
    clearMissingMediaAccepted: p(`UPDATE faxes SET missing_media_accepted_at = NULL WHERE sid = ?`),
    listNeedsReview: p(`SELECT ${FAX_COLUMNS} FROM faxes WHERE state = 'needs-review' AND (@account IS NULL OR account_sid = @account)
      ORDER BY created_key, sid LIMIT @limit`),
    setState: p(`UPDATE faxes SET state = ?, state_changed_at = ?, updated_at = ? WHERE sid = ?`),
    setMedia: p(`UPDATE faxes SET media_size = ?, media_sha256 = ?, media_md5 = ?, media_content_type = ?, media_pages = ?, media_served_content_type = ?, updated_at = ? WHERE sid = ?`),
    clearMedia: p(`UPDATE faxes SET media_size = NULL, media_sha256 = NULL, media_md5 = NULL, media_content_type = NULL, media_pages = NULL, media_served_content_type = NULL WHERE sid = ?`),
    fail: p(`UPDATE faxes SET state = 'failed', attempts = attempts + 1, last_error = ?, state_changed_at = ?, updated_at = ? WHERE sid = ?`),
    setLastError: p(`UPDATE faxes SET last_error = ? WHERE sid = ?`),

    listUnfinished: p(`SELECT ${FAX_COLUMNS} FROM faxes
      WHERE state IN ${SQL_UNFINISHED} AND (state <> 'failed' OR attempts < ?) AND (created_key, sid) > (?, ?)
      ORDER BY created_key, sid LIMIT ?`),
    listUnfinishedForAccount: p(`SELECT ${FAX_COLUMNS} FROM faxes
      WHERE account_sid = ? AND state IN ${SQL_UNFINISHED} AND (state <> 'failed' OR attempts < ?) AND (created_key, sid) > (?, ?)
      ORDER BY created_key, sid LIMIT ?`),
    listDeletable: p(`SELECT ${FAX_COLUMNS} FROM faxes f
      WHERE state IN ${SQL_DELETABLE} AND (created_key, sid) > (?, ?)
        AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.fax_sid = f.sid AND d.receipt_at IS NULL AND d.cancelled_at IS NULL)
      ORDER BY created_key, sid LIMIT ?`),
    listDeletableForAccount: p(`SELECT ${FAX_COLUMNS} FROM faxes f
      WHERE account_sid = ? AND state IN ${SQL_DELETABLE} AND (created_key, sid) > (?, ?)
        AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.fax_sid = f.sid AND d.receipt_at IS NULL AND d.cancelled_at IS NULL)
      ORDER BY created_key, sid LIMIT ?`),
    iterateFaxes: p(`SELECT ${FAX_COLUMNS} FROM faxes WHERE (created_key, sid) > (?, ?) ORDER BY created_key, sid LIMIT ?`),

    objectsFor: p(`SELECT * FROM objects WHERE fax_sid = ? ORDER BY kind`),
    getObject: p(`SELECT * FROM objects WHERE fax_sid = ? AND kind = ?`),
    upsertObject: p(`INSERT INTO objects (fax_sid, kind, key, size, sha256, md5, content_type, etag, version_id, stored_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (fax_sid, kind) DO UPDATE SET key = excluded.key, size = excluded.size, sha256 = excluded.sha256,
        md5 = excluded.md5, content_type = excluded.content_type, etag = excluded.etag, version_id = excluded.version_id,
        stored_at = excluded.stored_at, verified_at = NULL, verification_method = NULL`),
    deleteObject: p(`DELETE FROM objects WHERE fax_sid = ? AND kind = ?`),
    verifyObject: p(`UPDATE objects SET verified_at = ?, verification_method = ? WHERE fax_sid = ? AND kind = ?`),

    openIntent: p(`SELECT id FROM deletions WHERE fax_sid = ? AND receipt_at IS NULL AND cancelled_at IS NULL`),
    insertIntent: p(`INSERT INTO deletions (fax_sid, intent_at, run_id, proof_at, proof_method, proof_run_id, proof) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertObjectVersion: p(`INSERT INTO object_versions (fax_sid, kind, key, size, sha256, md5, content_type, etag, version_id, stored_at,
        verified_at, verification_method, superseded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    objectVersionsFor: p(`SELECT * FROM object_versions WHERE fax_sid = ? ORDER BY id`),
    recordReceipt: p(`UPDATE deletions SET receipt_at = ?, http_status = ?, request_id = ? WHERE id = ?`),
    cancelIntent: p(`UPDATE deletions SET cancelled_at = ? WHERE id = ?`),
    currentDeletion: p(`SELECT * FROM deletions WHERE fax_sid = ? AND cancelled_at IS NULL ORDER BY id DESC LIMIT 1`),
    openIntents: p(`SELECT * FROM deletions WHERE receipt_at IS NULL AND cancelled_at IS NULL ORDER BY id`),
    openIntentsForAccount: p(`SELECT d.* FROM deletions d JOIN faxes f ON f.sid = d.fax_sid
      WHERE f.account_sid = ? AND d.receipt_at IS NULL AND d.cancelled_at IS NULL ORDER BY d.id`),

    insertFinding: p(`INSERT INTO findings (fax_sid, key, at, method, outcome, detail, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    listFindings: p(`SELECT * FROM findings WHERE id > @afterId AND (@runId IS NULL OR run_id = @runId)
      AND (@outcome IS NULL OR outcome = @outcome) ORDER BY id LIMIT @limit`),

    lastEvent: p(`SELECT id, hash FROM events ORDER BY id DESC LIMIT 1`),
    insertEvent: p(`INSERT INTO events (id, at, type, fax_sid, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    listEvents: p(`SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?`),

    countByState: p(`SELECT state, count(*) AS n FROM faxes GROUP BY state`),
    countByStateForAccount: p(`SELECT state, count(*) AS n FROM faxes WHERE account_sid = ? GROUP BY state`),
    unfinishedByAccount: p(`SELECT account_sid, count(*) AS n FROM faxes WHERE state IN ('listed', 'fetched', 'stored', 'failed') GROUP BY account_sid`),
  };
}

// ---- plain mapping and checks -------------------------------------------------------------------

function faxParams(c: FaxColumns, at: string, runId: number | null): Record<string, unknown> {
  return { ...c, at, runId };
}

function toObjectRecord(o: ObjectDbRow): ObjectRecord {
  return {
    kind: o.kind,
    key: o.key,
    size: o.size,
    sha256Hex: o.sha256,
    md5Hex: o.md5,
    contentType: o.content_type,
    etag: o.etag,
    versionId: o.version_id,
    storedAt: o.stored_at,
    verifiedAt: o.verified_at,
    verificationMethod: o.verification_method,
  };
}

function toDeletionRecord(d: DeletionDbRow): DeletionRecord {
  return {
    faxSid: d.fax_sid, intentAt: d.intent_at, runId: d.run_id, receiptAt: d.receipt_at, httpStatus: d.http_status, requestId: d.request_id,
    proofAt: d.proof_at ?? null, proofMethod: d.proof_method ?? null, proofRunId: d.proof_run_id ?? null,
  };
}

/** A reason kept in the catalog: one line, secrets redacted, bounded. */
function cleanReason(reason: string): string {
  const line = redactSecrets(reason).replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 1)}…` : line;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;

function assertMedia(sid: string, media: { size: number; sha256Hex: string; md5Hex: string }): void {
  if (!Number.isSafeInteger(media.size) || media.size < 0 || !HEX64.test(media.sha256Hex) || !HEX32.test(media.md5Hex)) {
    throw new InvariantError(`fax ${sid}: media needs a size and lowercase hex SHA-256 and MD5`);
  }
}

function assertObjects(sid: string, objects: readonly Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>[]): void {
  const kinds = objects.map((o) => o.kind);
  if (objects.length === 0 || new Set(kinds).size !== kinds.length) {
    throw new InvariantError(`fax ${sid}: markStored needs at least one object and at most one per kind (got ${kinds.join(', ') || 'none'})`);
  }
  for (const object of objects) assertObject(sid, object);
}

function assertVerifications(sid: string, verifications: readonly { method: VerificationMethod }[]): void {
  if (verifications.length === 0) throw new InvariantError(`fax ${sid}: markVerified needs at least one verification`);
  for (const v of verifications) {
    if (!VERIFICATION_METHODS.includes(v.method)) throw new InvariantError(`fax ${sid}: unknown verification method ${JSON.stringify(v.method)}`);
  }
}

function assertObject(sid: string, o: Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>): void {
  assertMedia(sid, o);
  if (!o.key || o.kind !== 'media' && o.kind !== 'sidecar') throw new InvariantError(`fax ${sid}: an object needs a key and a kind (media or sidecar)`);
}
