/**
 * The `<Receive action>` callback, turned into a row in the catalog: the fax is fetched from Twilio
 * for its full JSON (the callback carries only a few fields) and recorded `listed`, which is what
 * queues it for the archive engine. A failed receive is recorded as well (Twilio keeps its record;
 * it has no media, so it is archived metadata-only) together with Twilio's error.
 *
 * When Twilio cannot be reached the fetch is retried here in the background for a while. Until it
 * succeeds that fax exists only in Twilio; if this process dies meanwhile, the next `sync` lists it
 * (it is the only window in which the catalog does not hold the fax; every such fax is logged).
 */
import type { Catalog } from '../catalog/catalog.js';
import { describeError } from '../errors.js';
import { sanitizeFaxJson } from '../archive/fax-metadata.js';
import { isSid } from '../sid.js';
import type { AccountDirectory } from '../twilio/account-directory.js';
import { param, WebhookRequestError, type WebhookParams } from './form-body.js';
import type { WebhookLog } from './webhook-log.js';

/** What the action callback says (seed 001 / twilio-fax-api.md, "The inbound fax flow" step 4). */
export interface FaxCallback {
  faxSid: string;
  accountSid: string;
  /** `received` or `failed`. */
  faxStatus: string | null;
  numPages: number | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** Pure: the callback's fields, or WebhookRequestError 400 when the sids are malformed. */
export function parseFaxCallback(params: WebhookParams): FaxCallback {
  const faxSid = param(params, 'FaxSid');
  const accountSid = param(params, 'AccountSid');
  if (!isSid(faxSid, 'FX')) throw new WebhookRequestError(400, 'FaxSid missing or malformed');
  if (!isSid(accountSid, 'AC')) throw new WebhookRequestError(400, 'AccountSid missing or malformed');
  const pages = Number(param(params, 'NumPages'));
  return {
    faxSid,
    accountSid,
    faxStatus: param(params, 'FaxStatus') ?? null,
    numPages: Number.isInteger(pages) && pages >= 0 ? pages : null,
    errorCode: param(params, 'ErrorCode') ?? null,
    errorMessage: param(params, 'ErrorMessage') ?? null,
  };
}

export type IntakeOutcome = 'recorded' | 'not-found' | 'unknown-account' | 'deferred';

export interface FaxIntakeOptions {
  catalog: Catalog;
  directory: Pick<AccountDirectory, 'gatewayFor' | 'knownSecrets'>;
  /** The archive engine: told the sid of each fax just recorded. */
  queue: { kick(faxSid: string): void };
  runId: number | null;
  log: WebhookLog;
  /** How long the callback waits for the first fetch before answering Twilio anyway. */
  answerWithinMs?: number;
  /** Background retries of a fetch that failed, and the delay before each. */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS_MS = [2_000, 10_000, 30_000, 60_000, 120_000, 300_000];

export class FaxIntake {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: FaxIntakeOptions) {}

  /** Faxes whose callback arrived but which are not in the catalog yet (Twilio unreachable). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Records the fax, waiting at most `answerWithinMs` so Twilio gets its answer quickly; a fetch
   * that takes longer or fails goes on in the background ('deferred').
   */
  async accept(callback: FaxCallback): Promise<IntakeOutcome> {
    const first = this.attempt(callback, 0);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'deferred'>((resolve) => {
      timer = setTimeout(() => resolve('deferred'), this.options.answerWithinMs ?? 5_000);
    });
    try {
      return await Promise.race([first, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cancels background retries; names each fax left only in Twilio so an operator can run `sync`. */
  stop(): void {
    this.stopped = true;
    for (const [faxSid, timer] of this.pending) {
      clearTimeout(timer);
      this.options.log.write('error', 'fax-intake-abandoned', { faxSid, hint: 'not in the catalog yet; the next sync will list it' });
    }
    this.pending.clear();
  }

  private async attempt(callback: FaxCallback, retry: number): Promise<IntakeOutcome> {
    try {
      const outcome = await this.record(callback);
      this.pending.delete(callback.faxSid);
      return outcome;
    } catch (error) {
      const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
      const delay = delays[retry];
      const willRetry = delay !== undefined && !this.stopped;
      this.options.log.write(willRetry ? 'warn' : 'error', 'fax-intake-failed', {
        faxSid: callback.faxSid,
        accountSid: callback.accountSid,
        attempt: retry + 1,
        willRetry,
        error: describeError(error, this.options.directory.knownSecrets()),
      });
      if (willRetry) {
        const timer = setTimeout(() => void this.attempt(callback, retry + 1), delay);
        this.pending.set(callback.faxSid, timer);
      } else {
        this.pending.delete(callback.faxSid);
      }
      return 'deferred';
    }
  }

  private async record(callback: FaxCallback): Promise<IntakeOutcome> {
    const { catalog, log } = this.options;
    const gateway = await this.options.directory.gatewayFor(callback.accountSid);
    if (!gateway) {
      log.write('error', 'fax-callback-unknown-account', { faxSid: callback.faxSid, accountSid: callback.accountSid });
      return 'unknown-account';
    }
    const fax = await gateway.fetchFax(callback.faxSid);
    if (!fax) {
      // Deleted (or never existed) between the callback and the fetch: nothing to archive, but say so.
      catalog.appendEvent('fax-callback-not-found', { accountSid: callback.accountSid, faxStatus: callback.faxStatus }, callback.faxSid);
      log.write('error', 'fax-callback-not-found', { faxSid: callback.faxSid, accountSid: callback.accountSid });
      return 'not-found';
    }
    const [change] = catalog.recordListed([sanitizeFaxJson(fax)], this.options.runId);
    if (callback.faxStatus === 'failed') {
      catalog.appendEvent('fax-receive-failed', { ErrorCode: callback.errorCode, ErrorMessage: callback.errorMessage }, callback.faxSid);
    }
    log.write(callback.faxStatus === 'failed' ? 'warn' : 'info', 'fax-recorded', {
      faxSid: callback.faxSid,
      accountSid: callback.accountSid,
      status: fax.status,
      numPages: fax.num_pages,
      change: change ?? null,
      errorCode: callback.errorCode,
      errorMessage: callback.errorMessage,
    });
    this.options.queue.kick(callback.faxSid);
    return 'recorded';
  }
}
