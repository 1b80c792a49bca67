/**
 * The background half of `serve`: archives what the catalog holds unfinished, through the same
 * pipeline as `archive` (`archiveFax`: fetch, spool, check, store, verify). THE QUEUE IS THE CATALOG:
 * the webhook records a fax (state `listed`) and kicks this worker; nothing lives only in memory, so
 * a crash or restart loses nothing: unfinished rows, including those left by an earlier `archive`
 * run, are picked up when the worker starts.
 *
 * Failed faxes are retried with a growing delay (kept in memory: a restart retries at once) until
 * `maxAttempts`, after which the catalog no longer lists them as unfinished and a person must look.
 */
import type { Catalog, FaxRow } from '../catalog/catalog.js';
import { UNFINISHED_STATES } from '../catalog/fax-states.js';
import { describeError } from '../errors.js';
import { createConcurrencyCap } from '../limits/concurrency-cap.js';
import { archiveFax, type FaxOutcome, type FaxResult } from '../pipeline/archive-fax.js';
import { prepareSpool } from '../pipeline/run-spool.js';
import type { MediaStore } from '../store/media-store.js';
import type { AccountDirectory } from './account-directory.js';
import type { WebhookLog } from './webhook-log.js';

export interface ArchiveWorkerOptions {
  catalog: Catalog;
  store: MediaStore;
  directory: Pick<AccountDirectory, 'gatewayFor' | 'knownSecrets'>;
  /** Where media is spooled while it is hashed; `.part` files left by a killed process are removed at start. */
  spoolDir: string;
  /** Faxes archived at once. */
  workers: number;
  /** A fax that failed this many times is left for a person (and `archive`/`sync` runs). */
  maxAttempts: number;
  forceFullVerify: boolean;
  log: WebhookLog;
  now?: () => Date;
  /** Delay before a failed fax is tried again, from its attempt count. */
  retryDelayMs?: (attempts: number) => number;
  /** How often the catalog is looked at when nothing kicks the worker. */
  idlePollMs?: number;
  /**
   * The server answers `<Receive storeMedia="false">`: a received fax whose record has pages but
   * neither media_sid nor media_url is accepted without media (recorded in the event log as the
   * operator's standing decision) instead of waiting in needs-review.
   */
  storeMediaFalse?: boolean;
}

export interface ArchiveActivity {
  faxSid: string;
  outcome: FaxOutcome;
  at: string;
}

export interface ArchiveWorkerStatus {
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

const PAGE_SIZE = 100;

export function defaultRetryDelayMs(attempts: number): number {
  return Math.min(300_000, 5_000 * 2 ** Math.max(0, attempts - 1));
}

export class ArchiveWorker {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly retryAt = new Map<string, number>();
  private readonly uploadCap;
  private readonly now: () => Date;
  private readonly retryDelayMs: (attempts: number) => number;
  private slotWaiters: Array<() => void> = [];
  private wakeUp: (() => void) | null = null;
  private kicked = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private readonly counts = { archived: 0, metadataOnly: 0, failed: 0, lost: 0 };
  private lastArchive: ArchiveActivity | null = null;
  private lastFailure: ArchiveWorkerStatus['lastFailure'] = null;

  constructor(private readonly options: ArchiveWorkerOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('workers must be a whole number >= 1');
    this.uploadCap = createConcurrencyCap(options.workers);
    this.now = options.now ?? (() => new Date());
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelayMs;
  }

  /** Prepares the spool folder and starts working through the catalog. Idempotent. */
  async start(): Promise<void> {
    if (this.loop) return;
    // The caller holds the catalog's lock, so no other run can be writing its spool.
    await prepareSpool(this.options.spoolDir);
    this.loop = this.run();
  }

  /** New work is in the catalog: look now rather than at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wakeUp?.();
  }

  status(): ArchiveWorkerStatus {
    return {
      running: this.loop !== null && !this.stopping,
      inFlight: this.inFlight.size,
      ...this.counts,
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
    this.wakeUp?.();
    for (const waiter of this.slotWaiters.splice(0)) waiter();
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
      this.kicked = false;
      let dispatched = 0;
      try {
        dispatched = await this.pass();
      } catch (error) {
        this.options.log.write('error', 'archive-queue-error', { error: describeError(error, this.options.directory.knownSecrets()) });
      }
      if (this.stopping) break;
      if (dispatched === 0 && !this.kicked) await this.sleep(this.nextWakeDelayMs());
    }
  }

  /** One walk over the unfinished rows (keyset paged); returns how many were started. */
  private async pass(): Promise<number> {
    const { catalog } = this.options;
    let dispatched = 0;
    let after: { dateCreated: string | null; sid: string } | undefined;
    for (;;) {
      const rows = catalog.listUnfinished({ maxAttempts: this.options.maxAttempts, limit: PAGE_SIZE, ...(after ? { after } : {}) });
      for (const listed of rows) {
        if (this.stopping) return dispatched;
        if (!this.isDue(listed)) continue;
        await this.freeSlot();
        if (this.stopping) return dispatched;
        // Re-read after waiting for a slot: a fax finished meanwhile must not be archived again
        // from a stale row (a verified fax would be pushed back through the pipeline).
        const row = catalog.getFax(listed.sid);
        if (!row || !UNFINISHED_STATES.includes(row.state) || !this.isDue(row)) continue;
        this.dispatch(row);
        dispatched++;
      }
      const last = rows[rows.length - 1];
      if (rows.length < PAGE_SIZE || !last) return dispatched;
      after = { dateCreated: last.dateCreated, sid: last.sid };
    }
  }

  private isDue(row: FaxRow): boolean {
    if (this.inFlight.has(row.sid)) return false;
    if (row.state !== 'failed') return true;
    return (this.retryAt.get(row.sid) ?? 0) <= Date.now();
  }

  private async freeSlot(): Promise<void> {
    while (this.inFlight.size >= this.options.workers && !this.stopping) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  private dispatch(row: FaxRow): void {
    const task = this.archiveOne(row)
      .catch((error: unknown) => {
        this.options.log.write('error', 'archive-error', { faxSid: row.sid, error: describeError(error, this.options.directory.knownSecrets()) });
      })
      .finally(() => {
        this.inFlight.delete(row.sid);
        this.slotWaiters.shift()?.();
        this.kick();
      });
    this.inFlight.set(row.sid, task);
  }

  private async archiveOne(row: FaxRow): Promise<void> {
    const { catalog, log } = this.options;
    const knownSecrets = this.options.directory.knownSecrets();
    const gateway = await this.options.directory.gatewayFor(row.accountSid);
    let result: FaxResult;
    if (!gateway) {
      const reason = `no credentials for account ${row.accountSid}: neither the main account nor one of its subaccounts`;
      catalog.markFailed(row.sid, reason);
      result = { sid: row.sid, accountSid: row.accountSid, outcome: 'failed', bytes: 0, error: reason };
    } else {
      const ctx = {
        catalog,
        store: this.options.store,
        gateway,
        spoolDir: this.options.spoolDir,
        forceFullVerify: this.options.forceFullVerify,
        uploadCap: <T>(work: () => Promise<T>) => this.uploadCap.run(work),
        now: this.now,
        knownSecrets,
      };
      result = await archiveFax(row, ctx);
      const waiting = result.outcome === 'needs-review' && this.options.storeMediaFalse ? catalog.getFax(row.sid) : null;
      if (waiting && !waiting.raw.media_sid && !waiting.raw.media_url) {
        catalog.acceptMissingMedia(row.sid, 'received by serve --store-media false: Twilio was told not to keep the media', 'serve --store-media false');
        result = await archiveFax(catalog.getFax(row.sid)!, ctx);
      }
    }
    const at = this.now().toISOString();
    const attempts = catalog.getFax(row.sid)?.attempts ?? 0;
    switch (result.outcome) {
      case 'archived':
        this.counts.archived++;
        break;
      case 'metadata-only':
        this.counts.metadataOnly++;
        break;
      case 'failed':
        this.counts.failed++;
        this.retryAt.set(row.sid, Date.now() + this.retryDelayMs(attempts));
        break;
      case 'lost':
        this.counts.lost++;
        break;
      case 'needs-review':
        break; // waits for a person (fax-sunset resolve); never retried
    }
    if (result.outcome === 'archived' || result.outcome === 'metadata-only') {
      this.retryAt.delete(row.sid);
      this.lastArchive = { faxSid: row.sid, outcome: result.outcome, at };
      log.write('info', 'fax-archived', { faxSid: row.sid, accountSid: row.accountSid, outcome: result.outcome, bytes: result.bytes });
      return;
    }
    this.lastFailure = { faxSid: row.sid, outcome: result.outcome, at, error: result.error ?? null };
    const gaveUp = result.outcome === 'failed' && attempts >= this.options.maxAttempts;
    if (gaveUp) this.retryAt.delete(row.sid);
    log.write(result.outcome === 'lost' || gaveUp ? 'error' : 'warn', result.outcome === 'lost' ? 'fax-lost' : 'fax-archive-failed', {
      faxSid: row.sid,
      accountSid: row.accountSid,
      attempts,
      willRetry: result.outcome === 'failed' && !gaveUp,
      error: result.error ?? null,
    });
  }

  private nextWakeDelayMs(): number {
    const idle = this.options.idlePollMs ?? 30_000;
    let soonest = idle;
    const now = Date.now();
    // Only future retries count: a past one was due in the pass just made (or its fax gave up).
    for (const at of this.retryAt.values()) if (at > now) soonest = Math.min(soonest, at - now);
    return Math.max(50, soonest);
  }

  private async sleep(ms: number): Promise<void> {
    if (this.kicked || this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = null;
  }
}
