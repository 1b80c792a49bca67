/**
 * The one archive engine (issue 14 §1): `archive`/`sync` drain it, `serve` runs it in the
 * background, and both go through the same code: one cap on faxes at once, one cap on uploads, one
 * spool, one way to count outcomes. Each fax goes through `archiveFax` (fetch, spool, check, store,
 * verify); the media URL is the gateway's business (`openFaxMedia`).
 *
 * THE QUEUE IS THE CATALOG. `drain` walks the unfinished rows of the accounts it is given (the
 * at-risk ones first) until none is left or a stop is asked for. `start` works through the catalog
 * in the background: `kick(sid)` hands over a fax just recorded (archived without a rescan of the
 * backlog), `kick()` says rows were queued by someone else (a full pass); failed faxes are retried
 * with a growing delay (kept in memory: a restart retries at once) until `maxAttempts`, after which
 * the catalog no longer lists them as unfinished and a person must look. `stop(grace)` stops taking
 * work; what is still in flight after the grace stays unfinished for the next start (every step is
 * idempotent), so a crash or restart loses nothing.
 */
import { rm } from 'node:fs/promises';
import type { Catalog, FaxRow } from '../catalog/catalog.js';
import { UNFINISHED_STATES } from '../catalog/fax-states.js';
import { describeError } from '../errors.js';
import { createConcurrencyCap, type ConcurrencyCap } from '../limits/concurrency-cap.js';
import type { MediaStore } from '../store/media-store.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import { archiveFax, type ArchiveFaxContext, type FaxOutcome, type FaxResult } from './archive-fax.js';
import { prepareSpool } from './run-spool.js';

/** Who acts for an account, and which secrets to scrub (the account directory, or a run's subset of it). */
export interface EngineAccounts {
  gatewayFor(accountSid: string): Promise<TwilioGateway | null> | TwilioGateway | null;
  knownSecrets(): readonly string[];
}

export interface ArchiveLimits {
  /** Faxes archived at once (each holds one download or upload at a time). */
  workers: number;
  /** Uploads to the store at once. */
  uploadConcurrency: number;
  /** A fax that failed this many times is left for a person. */
  maxAttempts: number;
}

/** Where the engine writes what happens in the background (serve's log); structurally a WebhookLog. */
export interface EngineLog {
  write(level: 'info' | 'warn' | 'error', event: string, fields?: Record<string, string | number | boolean | null | undefined>): void;
}

export interface ArchiveEngineOptions {
  catalog: Catalog;
  store: MediaStore;
  accounts: EngineAccounts;
  limits: ArchiveLimits;
  /** Where media is spooled while it is hashed; `.part` files left by a killed process are removed at start. */
  spoolDir: string;
  forceFullVerify: boolean;
  now?: () => Date;
  /**
   * `serve --store-media false`: a received fax whose record has pages but neither media_sid nor
   * media_url is accepted without media (recorded in the event log as the operator's standing
   * decision) instead of waiting in needs-review.
   */
  storeMediaFalse?: boolean;
  /** Background work only: delay before a failed fax is tried again, from its attempt count. */
  retryDelayMs?: (attempts: number) => number;
  /** Background work only: how often the catalog is looked at when nothing kicks the engine. */
  idlePollMs?: number;
  /** Background work only: where each outcome and trouble is written. */
  log?: EngineLog;
}

/** A fax the drain did not run (a stop was asked for, or its account is not acted for). */
export interface NotRunResult {
  sid: string;
  accountSid: string;
  outcome: 'not-run';
  bytes: 0;
}

export type DrainResult = FaxResult | NotRunResult;

/** A fax to archive first, by name (the at-risk ones, or those a failed pre-delete proof sent back). */
export interface FaxRef {
  sid: string;
  accountSid: string;
  dateCreated: string | null;
}

export interface DrainOptions {
  /** The accounts whose unfinished faxes are archived, in this order. */
  accounts: Iterable<string>;
  /** Archived before the rest, in this order (and not taken again by the date-ordered pass). */
  first?: readonly FaxRef[];
  /** Archive just `first`. */
  only?: boolean;
  /** True once the operator asked the run to stop: no new fax is started. */
  stop?: () => boolean;
  /** Told of each result the moment it is known. */
  onResult?: (result: DrainResult) => void;
}

export interface DrainSummary {
  archived: number;
  metadataOnly: number;
  failed: number;
  lost: number;
  needsReview: number;
  notRun: number;
  bytesStored: number;
  /** Failures that were a checksum mismatch at the store (they make a run refuse deletions). */
  checksumMismatches: number;
}

export interface ArchiveActivity {
  faxSid: string;
  outcome: FaxOutcome;
  at: string;
}

export interface ArchiveEngineStatus {
  running: boolean;
  /** Faxes being archived right now. */
  inFlight: number;
  archived: number;
  metadataOnly: number;
  failed: number;
  lost: number;
  /** The last fax archived (media or metadata only) since start. */
  lastArchive: ArchiveActivity | null;
  /** The last fax that failed or was lost since start. */
  lastFailure: (ArchiveActivity & { error: string | null }) | null;
}

export function defaultRetryDelayMs(attempts: number): number {
  return Math.min(300_000, 5_000 * 2 ** Math.max(0, attempts - 1));
}

const DRAIN_BATCH = 256;
const PASS_PAGE = 100;

export class ArchiveEngine {
  private readonly workerCap: ConcurrencyCap;
  private readonly uploadCap: ConcurrencyCap;
  private readonly now: () => Date;
  private readonly catalog: Catalog;
  // Background work (start/kick/stop).
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly retryAt = new Map<string, number>();
  private readonly handedOver = new Set<string>();
  private passWanted = true;
  private wakeUp: (() => void) | null = null;
  private stopping = false;
  private stopped: Promise<void>;
  private stopNow: () => void = () => undefined;
  private loop: Promise<void> | null = null;
  /** What the background work has done since start (counted as a drain counts). */
  private readonly totals: DrainSummary = emptyDrainSummary();
  private lastArchive: ArchiveActivity | null = null;
  private lastFailure: ArchiveEngineStatus['lastFailure'] = null;

  constructor(private readonly options: ArchiveEngineOptions) {
    const { workers, uploadConcurrency } = options.limits;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError('workers must be a whole number >= 1');
    this.workerCap = createConcurrencyCap(workers);
    this.uploadCap = createConcurrencyCap(uploadConcurrency);
    this.now = options.now ?? (() => new Date());
    this.catalog = options.catalog;
    this.stopped = new Promise<void>((resolve) => {
      this.stopNow = resolve;
    });
  }

  /** Empties the spool folder (the caller holds the catalog's lock, so no other run writes it). */
  prepare(): Promise<void> {
    return prepareSpool(this.options.spoolDir);
  }

  /** Removes the spool folder at the end of a run. */
  async cleanUp(): Promise<void> {
    await rm(this.options.spoolDir, { recursive: true, force: true }).catch(() => undefined);
  }

  // ---- one fax ----

  /** Archives one fax with its account's gateway; null when no gateway acts for its account. */
  private async archiveRow(row: FaxRow): Promise<FaxResult | null> {
    const gateway = await this.options.accounts.gatewayFor(row.accountSid);
    if (!gateway) return null;
    const ctx: ArchiveFaxContext = {
      catalog: this.catalog,
      store: this.options.store,
      gateway,
      spoolDir: this.options.spoolDir,
      forceFullVerify: this.options.forceFullVerify,
      uploadCap: (task) => this.uploadCap.run(task),
      now: this.now,
      knownSecrets: this.options.accounts.knownSecrets(),
    };
    const result = await archiveFax(row, ctx);
    if (result.outcome !== 'needs-review' || !this.options.storeMediaFalse) return result;
    const waiting = this.catalog.getFax(row.sid);
    if (!waiting || waiting.raw.media_sid || waiting.raw.media_url) return result;
    this.catalog.acceptMissingMedia(row.sid, 'received by serve --store-media false: Twilio was told not to keep the media', 'serve --store-media false');
    return archiveFax(this.catalog.getFax(row.sid)!, ctx);
  }

  // ---- drain (archive, sync) ----

  /**
   * Archives every unfinished fax of `accounts` with one pool of workers: `first` (already ordered),
   * then each account's rest, oldest first, walked with a keyset cursor so a fax that fails is not
   * taken again in this drain. Stops starting new faxes once `stop()` says so.
   */
  async drain(options: DrainOptions): Promise<DrainSummary> {
    const summary = emptyDrainSummary();
    const stop = options.stop ?? (() => false);
    const report = (result: DrainResult): void => {
      countInto(summary, result);
      options.onResult?.(result);
    };
    const archiveRows = async (rows: readonly FaxRow[]): Promise<void> => {
      // Each result is reported the moment it is known, not when its whole batch is: a progress
      // rate measured over batches that land at one instant lies (issue 17).
      await Promise.all(rows.map((row) => this.workerCap.run(async () => {
        const notRun: NotRunResult = { sid: row.sid, accountSid: row.accountSid, outcome: 'not-run', bytes: 0 };
        if (stop()) return report(notRun);
        report((await this.archiveRow(row)) ?? notRun);
      })));
    };

    const first = options.first ?? [];
    const takenFirst = new Set<string>();
    for (let i = 0; i < first.length && !stop(); i += DRAIN_BATCH) {
      const rows = first.slice(i, i + DRAIN_BATCH).map((fax) => this.catalog.getFax(fax.sid)).filter((row): row is FaxRow => row !== null);
      for (const row of rows) takenFirst.add(row.sid);
      await archiveRows(rows);
    }
    if (options.only) return summary;
    for (const accountSid of options.accounts) {
      let after: { dateCreated: string | null; sid: string } | undefined;
      while (!stop()) {
        const page = this.catalog.listUnfinished({ accountSid, maxAttempts: this.options.limits.maxAttempts, limit: DRAIN_BATCH, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        const last = page[page.length - 1]!;
        after = { dateCreated: last.dateCreated, sid: last.sid };
        await archiveRows(takenFirst.size > 0 ? page.filter((row) => !takenFirst.has(row.sid)) : page);
      }
    }
    return summary;
  }

  // ---- background work (serve) ----

  /** Prepares the spool folder and starts working through the catalog. Idempotent. */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.prepare();
    this.loop = this.run();
  }

  /**
   * `kick(sid)`: this fax was just recorded, archive it now (no rescan of the backlog).
   * `kick()`: rows were queued by someone else (the periodic listing): look at the whole catalog now.
   */
  kick(faxSid?: string): void {
    if (faxSid === undefined) this.passWanted = true;
    else this.handedOver.add(faxSid);
    this.wakeUp?.();
  }

  status(): ArchiveEngineStatus {
    return {
      running: this.loop !== null && !this.stopping,
      inFlight: this.inFlight.size,
      archived: this.totals.archived,
      metadataOnly: this.totals.metadataOnly,
      failed: this.totals.failed,
      lost: this.totals.lost,
      lastArchive: this.lastArchive,
      lastFailure: this.lastFailure,
    };
  }

  /**
   * Stops taking work and waits up to `graceMs` for the faxes in flight. Whatever is still running
   * then is abandoned, not lost: its row stays unfinished in the catalog and the next start redoes
   * it (every step is idempotent). Returns how many were abandoned.
   */
  async stop(graceMs: number): Promise<{ abandoned: number }> {
    this.stopping = true;
    this.stopNow();
    this.wakeUp?.();
    await this.loop;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight.values()]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    return { abandoned: this.inFlight.size };
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const fullPass = this.passWanted;
      this.passWanted = false;
      const handed = [...this.handedOver];
      this.handedOver.clear();
      try {
        for (const sid of handed) {
          if (this.stopping) break;
          const row = this.catalog.getFax(sid);
          if (row && (await this.tryDispatch(row))) continue;
        }
        if (fullPass && !this.stopping) await this.pass();
      } catch (error) {
        this.log('error', 'archive-queue-error', { error: describeError(error, this.options.accounts.knownSecrets()) });
      }
      if (this.stopping) break;
      if (!this.passWanted && this.handedOver.size === 0) {
        // Woken by the idle poll or a retry falling due: look at the whole catalog.
        if (await this.sleep(this.nextWakeDelayMs())) this.passWanted = true;
      }
    }
  }

  /** One walk over the unfinished rows (keyset paged), starting every one that is due. */
  private async pass(): Promise<void> {
    let after: { dateCreated: string | null; sid: string } | undefined;
    for (;;) {
      const rows = this.catalog.listUnfinished({ maxAttempts: this.options.limits.maxAttempts, limit: PASS_PAGE, ...(after ? { after } : {}) });
      for (const listed of rows) {
        if (this.stopping) return;
        if (this.isDue(listed)) await this.tryDispatch(listed);
      }
      const last = rows[rows.length - 1];
      if (rows.length < PASS_PAGE || !last) return;
      after = { dateCreated: last.dateCreated, sid: last.sid };
    }
  }

  /** Waits for a worker slot, then starts the fax if it is still unfinished and due. */
  private async tryDispatch(listed: FaxRow): Promise<boolean> {
    if (!this.isDue(listed)) return false;
    const acquiring = this.workerCap.acquire();
    const release = await Promise.race([acquiring, this.stopped.then(() => null)]);
    if (release === null) {
      // Stopped while waiting: the slot, when it comes, is given straight back.
      void acquiring.then((late) => late());
      return false;
    }
    // Re-read after waiting for a slot: a fax finished meanwhile must not be archived again from a
    // stale row (a verified fax would be pushed back through the pipeline).
    const row = this.catalog.getFax(listed.sid);
    if (this.stopping || !row || !UNFINISHED_STATES.includes(row.state) || !this.isDue(row)) {
      release();
      return false;
    }
    const task = this.archiveInBackground(row)
      .catch((error: unknown) => {
        this.log('error', 'archive-error', { faxSid: row.sid, error: describeError(error, this.options.accounts.knownSecrets()) });
      })
      .finally(() => {
        this.inFlight.delete(row.sid);
        release();
        // A retry may have been scheduled: the idle sleep is measured again (no rescan: the pass
        // that started this fax started every other one due).
        this.wakeUp?.();
      });
    this.inFlight.set(row.sid, task);
    return true;
  }

  private isDue(row: FaxRow): boolean {
    if (this.inFlight.has(row.sid)) return false;
    // Not only failed rows wait: a fax the store gave no verdict on keeps its state (stored) and
    // must not be verified again at once, in a loop, while the store is down.
    return (this.retryAt.get(row.sid) ?? 0) <= Date.now();
  }

  private async archiveInBackground(row: FaxRow): Promise<void> {
    const { catalog } = this;
    let result = await this.archiveRow(row);
    if (!result) {
      const reason = `no credentials for account ${row.accountSid}: neither the main account nor one of its subaccounts`;
      catalog.markFailed(row.sid, reason);
      result = { sid: row.sid, accountSid: row.accountSid, outcome: 'failed', bytes: 0, error: reason };
    }
    const at = this.now().toISOString();
    const attempts = catalog.getFax(row.sid)?.attempts ?? 0;
    const retryDelayMs = this.options.retryDelayMs ?? defaultRetryDelayMs;
    countInto(this.totals, result);
    // A failed fax is retried later; a needs-review one waits for a person (fax-sunset resolve).
    if (result.outcome === 'failed') this.retryAt.set(row.sid, Date.now() + retryDelayMs(attempts));
    if (result.outcome === 'archived' || result.outcome === 'metadata-only') {
      this.retryAt.delete(row.sid);
      this.lastArchive = { faxSid: row.sid, outcome: result.outcome, at };
      this.log('info', 'fax-archived', { faxSid: row.sid, accountSid: row.accountSid, outcome: result.outcome, bytes: result.bytes });
      return;
    }
    this.lastFailure = { faxSid: row.sid, outcome: result.outcome, at, error: result.error ?? null };
    const gaveUp = result.outcome === 'failed' && attempts >= this.options.limits.maxAttempts;
    if (gaveUp) this.retryAt.delete(row.sid);
    this.log(result.outcome === 'lost' || gaveUp ? 'error' : 'warn', result.outcome === 'lost' ? 'fax-lost' : 'fax-archive-failed', {
      faxSid: row.sid,
      accountSid: row.accountSid,
      attempts,
      willRetry: result.outcome === 'failed' && !gaveUp,
      error: result.error ?? null,
    });
  }

  private log(level: 'info' | 'warn' | 'error', event: string, fields: Record<string, string | number | boolean | null | undefined>): void {
    this.options.log?.write(level, event, fields);
  }

  private nextWakeDelayMs(): number {
    const idle = this.options.idlePollMs ?? 30_000;
    let soonest = idle;
    const now = Date.now();
    // Only future retries count: a past one was due in the pass just made (or its fax gave up).
    for (const at of this.retryAt.values()) if (at > now) soonest = Math.min(soonest, at - now);
    return Math.max(50, soonest);
  }

  /** Sleeps until woken or `ms` pass; true when the time ran out (nobody woke it). */
  private async sleep(ms: number): Promise<boolean> {
    if (this.stopping) return false;
    let timedOut = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timedOut = true;
        done();
      }, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = null;
    return timedOut;
  }
}

function emptyDrainSummary(): DrainSummary {
  return { archived: 0, metadataOnly: 0, failed: 0, lost: 0, needsReview: 0, notRun: 0, bytesStored: 0, checksumMismatches: 0 };
}

function countInto(summary: DrainSummary, result: DrainResult): void {
  switch (result.outcome) {
    case 'archived':
      summary.archived++;
      break;
    case 'metadata-only':
      summary.metadataOnly++;
      break;
    case 'failed':
      summary.failed++;
      if (result.checksumMismatch) summary.checksumMismatches++;
      break;
    case 'lost':
      summary.lost++;
      break;
    case 'needs-review':
      summary.needsReview++;
      break;
    case 'not-run':
      summary.notRun++;
      break;
  }
  summary.bytesStored += result.bytes;
}
