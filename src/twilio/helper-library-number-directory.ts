/**
 * `NumberDirectory` (the reversion's port) over the `twilio` helper library's 2010 resources (issue 5 asks for the library's
 * numbers and accounts resources, not hand-made requests). Every request, each page included, goes
 * through the shared call gate (rate, concurrency, retries), and every library error becomes one of
 * our typed errors, so nothing above sees an SDK type or a message with a secret in it.
 */
import { AuthError, ExternalServiceError, FaxSunsetError, isRetryable } from '../errors.js';
import type { AttemptResult, AttemptVerdict, RequestLimiter } from '../limits/request-limiter.js';
import { isRetryableStatus } from '../limits/retry-policy.js';
import type { NumberDirectory } from '../reversion/number-directory.js';
import type { AccountSummary } from '../reversion/reversion-plan.js';
import { voiceStateFrom, type IncomingNumber, type VoiceUpdate } from '../reversion/voice-state.js';
import { assertSid } from '../sid.js';
import type { AccountDirectory } from './account-directory.js';
import type { TwilioRestClient } from './twilio-rest-client.js';

/** Runs one Twilio request under the shared limits (rate, concurrency, retry with backoff). */
export type CallGate = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * A gate over the shared limiter. The calls it runs throw our typed errors (see `toTypedError`), so
 * the verdict reads the class: refused credentials and other 4xx fail at once; 429, 5xx and network
 * failures are retried with backoff.
 */
export function callGateFromLimiter(limiter: RequestLimiter): CallGate {
  return <T>(call: () => Promise<T>) => limiter.run(() => call(), (result: AttemptResult<T>): AttemptVerdict<T> => {
    if (result.ok) return { kind: 'done', value: result.value };
    const error = result.error;
    if (error instanceof AuthError || !isRetryable(error)) return { kind: 'fail', error };
    if (error instanceof ExternalServiceError && error.status !== undefined) return { kind: 'retry', outcome: { kind: 'http', status: error.status }, error };
    return { kind: 'retry', outcome: { kind: 'network' }, error };
  });
}

/** The fields of the library's IncomingPhoneNumberInstance this file reads. */
interface NumberInstanceFields {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  friendlyName?: string | null;
  capabilities?: { voice?: boolean } | null;
  voiceReceiveMode?: string | null;
  voiceUrl?: string | null;
  voiceMethod?: string | null;
  voiceFallbackUrl?: string | null;
  voiceFallbackMethod?: string | null;
  voiceApplicationSid?: string | null;
  trunkSid?: string | null;
}

interface PageLike<T> {
  instances: T[];
  getNextPageUrl(): string | undefined;
  nextPage(): Promise<PageLike<T>> | undefined;
}

const PAGE_SIZE = 1000;

/**
 * With the main account's auth token, one client reaches every subaccount's numbers through
 * `/Accounts/{sub}/...`. With an API key it does not (Twilio: 401 / 20003), so each is spoken to
 * with its own credentials. Either way the subaccounts come from the one account directory.
 */
export interface SubaccountAccess {
  /** The subaccounts to plan (not closed), sorted by sid; throws AuthError naming any without credentials. */
  listSubaccounts(): Promise<AccountSummary[]>;
  /** A client acting with that subaccount's own credentials. */
  clientFor(accountSid: string): Promise<TwilioRestClient>;
}

/**
 * The subaccounts as the one account directory lists them (issue 14 §5: the numbers used to page
 * the accounts list again with their own rule for closed ones): the run's accounts (closed ones
 * are left out by design, suspended ones named in a warning), sorted by sid. `sharedClient`: the
 * main client, when its auth token reaches every subaccount; else each gets a client of its own.
 */
export function subaccountAccessFrom(
  accounts: AccountDirectory,
  options: {
    makeClient: (own: { accountSid: string; username: string; password: string }) => TwilioRestClient;
    sharedClient?: TwilioRestClient;
    warn: (line: string) => void;
    missingCredentialsHint: string;
  },
): SubaccountAccess {
  return {
    async listSubaccounts() {
      const run = await accounts.accountsForRun({ subaccounts: true });
      for (const failed of run.failed) options.warn(`subaccount ${failed.sid} is left out: ${failed.reason}`);
      const names = new Map(accounts.subaccounts().map((a) => [a.sid, a]));
      return [...run.gateways.keys()]
        .filter((sid) => sid !== accounts.mainAccountSid)
        .sort()
        .map((sid) => ({ sid, friendlyName: names.get(sid)?.friendlyName || null, status: names.get(sid)?.status ?? null }));
    },
    async clientFor(accountSid) {
      if (options.sharedClient) return options.sharedClient;
      const own = await accounts.credentialsFor(accountSid);
      if (!own) throw new AuthError(`no credentials for subaccount ${accountSid}: ${options.missingCredentialsHint}`);
      return options.makeClient({ accountSid, username: own.username, password: own.password });
    },
  };
}

export class HelperLibraryNumberDirectory implements NumberDirectory {
  readonly accountSid: string;
  private readonly clients = new Map<string, Promise<TwilioRestClient>>();

  constructor(
    private readonly client: TwilioRestClient,
    private readonly gate: CallGate,
    accountSid: string,
    private readonly subaccountAccess: SubaccountAccess,
  ) {
    this.accountSid = assertSid(accountSid, 'AC', 'account sid');
  }

  /** The client for an account: the main one, or the subaccount's own when access says so. */
  private async clientOf(accountSid: string): Promise<TwilioRestClient> {
    if (accountSid === this.accountSid) return this.client;
    let client = this.clients.get(accountSid);
    if (!client) {
      client = this.subaccountAccess.clientFor(accountSid);
      this.clients.set(accountSid, client);
    }
    return client;
  }

  async listAccounts(includeSubaccounts: boolean): Promise<AccountSummary[]> {
    let accounts: AccountSummary[];
    try {
      const main = await this.call(() => this.client.api.v2010.accounts(this.accountSid).fetch());
      accounts = [{ sid: main.sid, friendlyName: main.friendlyName ?? null, status: main.status ?? null }];
    } catch (error) {
      // A Standard API key may not read the Account resource, even its own: the main account is still
      // planned (its numbers are readable), named by sid only. Refused credentials fail at its numbers.
      if (!(error instanceof AuthError)) throw error;
      accounts = [{ sid: this.accountSid, friendlyName: null, status: null }];
    }
    if (!includeSubaccounts) return accounts;
    return [...accounts, ...(await this.subaccountAccess.listSubaccounts())];
  }

  async listNumbers(accountSid: string): Promise<IncomingNumber[]> {
    assertSid(accountSid, 'AC', 'account sid');
    const resource = (await this.clientOf(accountSid)).api.v2010.accounts(accountSid).incomingPhoneNumbers;
    const instances = await this.allPages(() => resource.page({ pageSize: PAGE_SIZE }));
    return instances.map((instance) => toIncomingNumber(instance as NumberInstanceFields));
  }

  async fetchNumber(accountSid: string, sid: string): Promise<IncomingNumber> {
    const context = await this.numberContext(accountSid, sid);
    const instance = await this.call(() => context.fetch());
    return toIncomingNumber(instance as NumberInstanceFields);
  }

  async updateNumber(accountSid: string, sid: string, update: VoiceUpdate): Promise<IncomingNumber> {
    const context = await this.numberContext(accountSid, sid);
    const params: Record<string, string> = {};
    if (update.voiceReceiveMode !== undefined) params.voiceReceiveMode = update.voiceReceiveMode;
    if (update.voiceUrl !== undefined) params.voiceUrl = update.voiceUrl;
    if (update.voiceMethod !== undefined) params.voiceMethod = update.voiceMethod;
    if (update.voiceApplicationSid !== undefined) params.voiceApplicationSid = update.voiceApplicationSid;
    const instance = await this.call(() => context.update(params));
    return toIncomingNumber(instance as NumberInstanceFields);
  }

  private async numberContext(accountSid: string, sid: string) {
    assertSid(accountSid, 'AC', 'account sid');
    assertSid(sid, 'PN', 'phone number sid');
    return (await this.clientOf(accountSid)).api.v2010.accounts(accountSid).incomingPhoneNumbers(sid);
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return this.gate(async () => {
      try {
        return await request();
      } catch (error) {
        throw toTypedError(error);
      }
    });
  }

  /** Follows the library's pages one request at a time, each through the gate. */
  private async allPages<T>(first: () => Promise<PageLike<T>>): Promise<T[]> {
    const items: T[] = [];
    let page: PageLike<T> | undefined = await this.call(first);
    while (page) {
      items.push(...page.instances);
      const current: PageLike<T> = page;
      // Ask for the next page only when there is one: nextPage() sends its request at once.
      page = current.getNextPageUrl() ? await this.call(async () => (await current.nextPage()) as PageLike<T>) : undefined;
    }
    return items;
  }
}

function toIncomingNumber(instance: NumberInstanceFields): IncomingNumber {
  return {
    accountSid: instance.accountSid,
    sid: instance.sid,
    phoneNumber: instance.phoneNumber,
    friendlyName: instance.friendlyName ?? null,
    voiceCapable: instance.capabilities?.voice === true,
    state: voiceStateFrom(instance),
  };
}

/**
 * The library throws RestException (with `status` and Twilio's `code`) for HTTP errors and our
 * TwilioTransportError for network failures. Only the status, the Twilio code and the first line of
 * the message survive: the library's objects can carry request config.
 */
export function toTypedError(error: unknown): Error {
  if (error instanceof FaxSunsetError) return error;
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : undefined;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  if (status === 401 || status === 403) return new AuthError(`Twilio refused the credentials (HTTP ${status}${typeof code === 'number' ? `, code ${code}` : ''})`);
  if (status !== undefined) {
    const retryable = isRetryableStatus(status);
    return new ExternalServiceError(`Twilio answered HTTP ${status}${typeof code === 'number' ? ` (code ${code})` : ''}: ${message.slice(0, 200)}`, { status, retryable, cause: undefined });
  }
  return new ExternalServiceError(`Twilio request failed: ${message.slice(0, 200)}`, { retryable: true });
}
