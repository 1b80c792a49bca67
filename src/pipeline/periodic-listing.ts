/**
 * `serve --sync-every`: while `serve` runs it holds the catalog's lock, so the nightly `sync`
 * cannot run beside it. Faxes that never pass the webhook (sent by other systems, received before
 * the numbers pointed here, late status changes) would then be missed until the freeze. This lists
 * every account on a timer, exactly as `sync` does (resuming an unfinished sweep, then the watermark
 * minus the lookback, or everything when the full re-listing is due), and records
 * what it finds in the catalog; the server's archive engine, the only archiver in the process,
 * then archives those rows like any other queued fax. Deletion stays a separate, deliberate step.
 */
import { parseDuration } from '../duration.js';
import type { Catalog } from '../catalog/catalog.js';
import { describeError } from '../errors.js';
import { silentObserver } from './archive-observer.js';
import { listIntoCatalog, type ListingCounts } from './list-into-catalog.js';
import { describeCoverage } from './listing-sweeps.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import type { EngineLog } from '../archive/archive-engine.js';

export interface PeriodicListingOptions {
  catalog: Catalog;
  /** The accounts to list now, each with its own gateway (re-read every time: subaccounts change). */
  accounts: () => Promise<ReadonlyMap<string, TwilioGateway>>;
  intervalMs: number;
  lookbackMs: number;
  /** Everything is listed again when no full listing started within this long (0/undefined: never). */
  fullListingEveryMs?: number;
  runId: number | null;
  log: EngineLog;
  /** Called after a listing that recorded new or changed faxes (kicks the archive engine). */
  onRecorded: (counts: ListingCounts) => void;
  knownSecrets: () => readonly string[];
}

export interface PeriodicListingStatus {
  intervalMs: number;
  lastListingAt: string | null;
  lastListing: ListingCounts | null;
  lastError: string | null;
}

export interface PeriodicListing {
  status(): PeriodicListingStatus;
  /** Stops the timer and waits for a listing in progress (a page is recorded in one transaction). */
  stop(): Promise<void>;
}

/** Lists once at start, then every `intervalMs` after the previous listing ended (never overlapping). */
export function startPeriodicListing(options: PeriodicListingOptions): PeriodicListing {
  const status: PeriodicListingStatus = { intervalMs: options.intervalMs, lastListingAt: null, lastListing: null, lastError: null };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;

  const listOnce = async (): Promise<void> => {
    try {
      const accounts = await options.accounts();
      // One account's trouble (suspended since, a 5xx storm) does not keep the others unlisted.
      const accountsFailed: Array<{ sid: string; reason: string }> = [];
      const counts = await listIntoCatalog(
        { catalog: options.catalog, observer: silentObserver, runId: options.runId, accountsFailed, knownSecrets: options.knownSecrets() },
        accounts,
        { incrementalLookbackMs: options.lookbackMs, ...(options.fullListingEveryMs ? { fullListingEveryMs: options.fullListingEveryMs } : {}) },
      );
      status.lastListingAt = new Date().toISOString();
      status.lastListing = counts;
      status.lastError = accountsFailed.length > 0 ? accountsFailed.map((a) => `${a.sid}: ${a.reason}`).join('; ') : null;
      for (const failed of accountsFailed) options.log.write('warn', 'listing-failed', { accountSid: failed.sid, error: failed.reason });
      const { coverage, ...figures } = counts;
      options.log.write('info', 'listing-done', {
        accounts: accounts.size,
        ...figures,
        incompleteAccounts: coverage.filter((c) => !c.complete).length,
        coverage: coverage.map(describeCoverage).join('; '),
      });
      if (counts.newFaxes + counts.updatedFaxes > 0) options.onRecorded(counts);
    } catch (error) {
      // A failed listing is retried at the next tick; the webhook keeps working meanwhile.
      status.lastError = describeError(error, options.knownSecrets());
      options.log.write('warn', 'listing-failed', { error: status.lastError });
    }
  };

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = listOnce().finally(() => {
        running = null;
        schedule(options.intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(0);

  return {
    status: () => ({ ...status }),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Parses `--sync-every`: `30s`, `15m`, `24h`, or a bare number of hours. */
export function parseInterval(value: string, flag: string): number {
  return parseDuration(value, flag, { minMs: 1000 });
}
