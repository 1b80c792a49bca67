/**
 * `TwilioGateway` over the `twilio` helper library. The library has no Fax resource any more, so
 * the Fax API is spoken through `client.request(...)` (authenticated, redirected to `--twilio-url`
 * by the RequestClient in twilio-rest-client.ts), and pages are followed by `meta.next_page_url`
 * verbatim: Twilio's page tokens are opaque, and computing page URLs ourselves is what the
 * reference warns against. Every API call goes through the shared RequestLimiter; media goes
 * through presigned-media-download.ts, never with credentials.
 *
 * Errors: 401/403 -> AuthError (rerunning will not help); 429/5xx/network -> retried, then
 * ExternalServiceError naming the host; a malformed body -> retried (it may be a cut-short
 * response), then a non-retryable ExternalServiceError saying what was wrong.
 */
import { DEFAULT_LIMITS } from '../limits/default-limits.js';
import { AuthError, ExternalServiceError, InvariantError, UsageError, redactSecrets, rememberSecret } from '../errors.js';
import { createConcurrencyCap, type ConcurrencyCap } from '../limits/concurrency-cap.js';
import { createRequestLimiter, type AttemptResult, type AttemptVerdict, type RequestLimiter } from '../limits/request-limiter.js';
import { defaultRetryPolicy, isRetryableStatus, retryAfterMs, type RetryPolicy } from '../limits/retry-policy.js';
import { realSleep } from '../limits/token-bucket.js';
import { isSid } from '../sid.js';
import { MediaUrlCache, openFaxMediaVia, type FaxMediaOpening } from './fax-media-urls.js';
import { createMediaAgents, openPresignedMedia } from './presigned-media-download.js';
import type {
  DeletionReceipt,
  FaxListQuery,
  MediaDownload,
  SubaccountInfo,
  TwilioFax,
  TwilioFaxMedia,
  TwilioGateway,
} from './twilio-gateway.js';
import { createTwilioRestClient, TwilioTransportError, type TwilioRestClient } from './twilio-rest-client.js';
import { TwilioClock } from './twilio-clock.js';
import { FAX_SUNSET_USER_AGENT } from './user-agent.js';

const FAX_API = 'https://fax.twilio.com/v1';
const API_2010 = 'https://api.twilio.com';

/** Basic-auth credentials; structurally the same as commands/credentials.ts's TwilioCredentials. */
export interface TwilioGatewayCredentials {
  /** The account acted for (AC...). */
  accountSid: string;
  /** The account sid, or an API key sid (SK...). */
  username: string;
  /** Auth token or API key secret. A secret: never in a message. */
  password: string;
}

export interface HelperLibraryTwilioGatewayOptions {
  credentials: TwilioGatewayCredentials;
  /** Emulator origin (`--twilio-url`); every *.twilio.com request goes there. */
  baseUrl?: string;
  /** Shared by every Twilio API call, subaccounts included. */
  limiter: RequestLimiter;
  /** Media downloads in progress at once (held until each body closes). */
  mediaCap: ConcurrencyCap;
  /** Default `fax-sunset/<version>`. */
  userAgent?: string;
  /** Per-request socket timeout for API calls and media; default 30 s (the library's). */
  timeoutMs?: number;
  /** Retry policy for media downloads (API calls use the limiter's). */
  mediaRetryPolicy?: Partial<RetryPolicy>;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Twilio's clock from the responses' Date headers; shared with the subaccounts' gateways. */
  clock?: TwilioClock;
  /** The fax media URLs listings and fetches saw; shared with the subaccounts' gateways (fax sids are unique). */
  mediaUrls?: MediaUrlCache;
}

type HttpMethod = 'get' | 'delete';

interface ApiResponse {
  statusCode: number;
  body: unknown;
  headers: Record<string, unknown>;
}

/** How a call reads a response that is not 401/403/429/5xx. */
type Reading<T> = { value: T } | { malformed: string } | { error: Error };

interface CallSpec<T> {
  method: HttpMethod;
  uri: string;
  params?: Record<string, string | number>;
  /** For messages: method and path, never the query (it may echo filters) or credentials. */
  label: string;
  read: (response: ApiResponse) => Reading<T>;
}

export class HelperLibraryTwilioGateway implements TwilioGateway {
  readonly accountSid: string;
  readonly clock: TwilioClock;
  private readonly options: HelperLibraryTwilioGatewayOptions;
  private readonly client: TwilioRestClient;
  private readonly mediaAgents: ReturnType<typeof createMediaAgents>;
  private readonly mediaUrls: MediaUrlCache;

  constructor(options: HelperLibraryTwilioGatewayOptions, shared?: { mediaAgents: ReturnType<typeof createMediaAgents> }) {
    const { credentials } = options;
    if (!isSid(credentials.accountSid, 'AC')) throw new AuthError('the Twilio account sid must be AC followed by 32 hex digits');
    if (!credentials.username || !credentials.password) throw new AuthError(`no Twilio credentials for account ${credentials.accountSid}`);
    this.accountSid = credentials.accountSid;
    this.clock = options.clock ?? new TwilioClock();
    this.mediaUrls = options.mediaUrls ?? new MediaUrlCache({ ...(options.now ? { nowMs: options.now } : {}) });
    this.options = { ...options, clock: this.clock, mediaUrls: this.mediaUrls };
    this.client = createTwilioRestClient({
      username: credentials.username,
      password: credentials.password,
      accountSid: credentials.accountSid,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
    });
    this.mediaAgents = shared?.mediaAgents ?? createMediaAgents(options.mediaCap.limit);
  }

  async *listFaxPages(query: FaxListQuery = {}): AsyncIterable<TwilioFax[]> {
    const pageSize = query.pageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new UsageError(`page size must be a whole number from 1 to 1000, got ${pageSize}`);
    }
    const params: Record<string, string | number> = { PageSize: pageSize };
    if (query.createdAfter) params.DateCreatedAfter = twilioDate(query.createdAfter);
    if (query.createdOnOrBefore) params.DateCreatedOnOrBefore = twilioDate(query.createdOnOrBefore);

    let uri: string | null = `${FAX_API}/Faxes`;
    const visited = new Set<string>();
    while (uri !== null) {
      if (visited.has(uri)) {
        throw new ExternalServiceError('Twilio paging led back to a fax page already read (next_page_url loops)', { retryable: false });
      }
      visited.add(uri);
      const page: FaxPage = await this.call({
        method: 'get',
        uri,
        // Only the first request carries our filters: next_page_url already echoes them.
        params: visited.size === 1 ? params : undefined,
        label: 'GET /v1/Faxes',
        read: (response) => (response.statusCode === 200
          ? readFaxPage(response.body, { skipBadRecords: query.onMalformedRecord !== undefined })
          : { error: this.unexpected(response, 'GET /v1/Faxes') }),
      });
      for (const rejected of page.rejected) query.onMalformedRecord?.(rejected.problem, rejected.record);
      for (const fax of page.faxes) this.mediaUrls.remember(fax.sid, fax.media_url);
      if (page.faxes.length > 0) yield page.faxes;
      uri = page.next;
    }
  }

  async fetchFax(faxSid: string): Promise<TwilioFax | null> {
    const sid = requireFaxSid(faxSid);
    const label = 'GET /v1/Faxes/{sid}';
    return this.call<TwilioFax | null>({
      method: 'get',
      uri: `${FAX_API}/Faxes/${sid}`,
      label,
      read: (response) => {
        if (response.statusCode === 404) return { value: null };
        if (response.statusCode !== 200) return { error: this.unexpected(response, label) };
        const problem = faxProblem(response.body);
        if (problem) return { malformed: problem };
        const fax = response.body as TwilioFax;
        if (fax.sid !== sid) return { malformed: `asked for fax ${sid}, got ${fax.sid}` };
        this.mediaUrls.remember(fax.sid, fax.media_url);
        return { value: fax };
      },
    });
  }

  async deleteFax(faxSid: string): Promise<DeletionReceipt> {
    const sid = requireFaxSid(faxSid);
    const label = 'DELETE /v1/Faxes/{sid}';
    return this.call<DeletionReceipt>({
      method: 'delete',
      uri: `${FAX_API}/Faxes/${sid}`,
      label,
      read: (response) => {
        // 404 after a retry is the common case of "the first DELETE did land but its answer was lost".
        if (response.statusCode === 204 || response.statusCode === 404) {
          return { value: { httpStatus: response.statusCode, requestId: requestIdOf(response.headers), at: new Date(this.now()) } };
        }
        return { error: this.unexpected(response, label) };
      },
    });
  }

  async listFaxMedia(faxSid: string): Promise<TwilioFaxMedia[] | null> {
    const sid = requireFaxSid(faxSid);
    const label = 'GET /v1/Faxes/{sid}/Media';
    return this.call<TwilioFaxMedia[] | null>({
      method: 'get',
      uri: `${FAX_API}/Faxes/${sid}/Media`,
      params: { PageSize: 50 },
      label,
      read: (response) => {
        if (response.statusCode === 404) return { value: null };
        if (response.statusCode !== 200) return { error: this.unexpected(response, label) };
        const body = response.body as { media?: unknown } | null;
        if (!body || !Array.isArray(body.media)) return { malformed: 'no media array in the FaxMedia page' };
        const items: TwilioFaxMedia[] = [];
        for (const item of body.media as Record<string, unknown>[]) {
          if (!item || !isSid(item.sid, 'ME')) return { malformed: 'a FaxMedia item without an ME sid' };
          items.push({
            sid: item.sid as string,
            contentType: typeof item.content_type === 'string' ? item.content_type : null,
            url: typeof item.url === 'string' ? item.url : null,
          });
        }
        return { value: items };
      },
    });
  }

  openMedia(mediaUrl: string): Promise<MediaDownload> {
    return openPresignedMedia(mediaUrl, {
      userAgent: this.options.userAgent ?? FAX_SUNSET_USER_AGENT,
      cap: this.options.mediaCap,
      policy: { ...defaultRetryPolicy, ...this.options.mediaRetryPolicy },
      random: this.options.random ?? Math.random,
      sleep: this.options.sleep ?? realSleep,
      now: this.now,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      agents: this.mediaAgents,
    });
  }

  openFaxMedia(faxSid: string): Promise<FaxMediaOpening> {
    return openFaxMediaVia(this, this.mediaUrls, requireFaxSid(faxSid));
  }

  async listSubaccounts(): Promise<SubaccountInfo[]> {
    const label = 'GET /2010-04-01/Accounts.json';
    const found: SubaccountInfo[] = [];
    let uri: string | null = `${API_2010}/2010-04-01/Accounts.json`;
    const visited = new Set<string>();
    while (uri !== null) {
      if (visited.has(uri)) throw new ExternalServiceError('Twilio paging of the accounts list loops', { retryable: false });
      visited.add(uri);
      const page: AccountPage = await this.call({
        method: 'get',
        uri,
        params: visited.size === 1 ? { PageSize: 1000 } : undefined,
        label,
        read: (response) => (response.statusCode === 200 ? readAccountPage(response.body) : { error: this.unexpected(response, label) }),
      });
      for (const account of page.accounts) if (account.sid !== this.accountSid) found.push(account);
      uri = page.next;
    }
    return found;
  }

  forSubaccount(account: SubaccountInfo): TwilioGateway {
    if (!isSid(account.sid, 'AC')) throw new InvariantError('refused to act for a subaccount whose sid is not AC followed by 32 hex digits');
    const own = account.credentials ?? (account.authToken ? { username: account.sid, password: account.authToken } : null);
    if (!own) {
      throw new AuthError(`Twilio returned no auth token for subaccount ${account.sid}; give its own credentials (--credentials FILE)`);
    }
    return new HelperLibraryTwilioGateway(
      { ...this.options, credentials: { accountSid: account.sid, username: own.username, password: own.password } },
      { mediaAgents: this.mediaAgents },
    );
  }

  private readonly now = (): number => (this.options.now ?? Date.now)();

  /** One API call through the limiter: retries 429/5xx/network/malformed, maps the rest. */
  private call<T>(spec: CallSpec<T>): Promise<T> {
    return this.options.limiter.run<ApiResponse, T>(
      async () => {
        const response = (await this.client.request({ method: spec.method, uri: spec.uri, params: spec.params })) as ApiResponse;
        this.clock.observe(headerString(response.headers ?? {}, 'date'));
        return response;
      },
      (result) => this.classify(spec, result),
    );
  }

  private classify<T>(spec: CallSpec<T>, result: AttemptResult<ApiResponse>): AttemptVerdict<T> {
    if (!result.ok) {
      const error = result.error;
      if (error instanceof TwilioTransportError) {
        return {
          kind: 'retry',
          outcome: { kind: 'network', code: error.code },
          error: new ExternalServiceError(`cannot reach Twilio at ${error.host} (${error.code}), retries exhausted`),
        };
      }
      if (error instanceof InvariantError) return { kind: 'fail', error };
      // A library error (never a response): say what it was, without anything it may carry.
      return { kind: 'fail', error: new ExternalServiceError(`${spec.label} failed: ${this.redact(error)}`, { retryable: false }) };
    }
    const response = result.value;
    const status = response.statusCode;
    if (status === 401 || status === 403) return { kind: 'fail', error: this.authError(response, spec.label) };
    if (isRetryableStatus(status)) {
      return {
        kind: 'retry',
        outcome: { kind: 'http', status, retryAfterMs: retryAfterMs(headerString(response.headers, 'retry-after'), this.now()) },
        error: new ExternalServiceError(`Twilio answered ${status}${twilioCodeText(response.body)} to ${spec.label}, retries exhausted`, {
          status,
        }),
      };
    }
    const reading = spec.read(response);
    if ('value' in reading) return { kind: 'done', value: reading.value };
    if ('error' in reading) return { kind: 'fail', error: reading.error };
    return {
      kind: 'retry',
      outcome: { kind: 'network', code: 'MALFORMED' },
      error: new ExternalServiceError(`Twilio sent a malformed response to ${spec.label}: ${reading.malformed}`, {
        status,
        retryable: false,
      }),
    };
  }

  private authError(response: ApiResponse, label: string): AuthError {
    const { username } = this.options.credentials;
    const code = twilioCode(response.body) ?? (response.statusCode === 401 ? 20003 : response.statusCode);
    const who = username.startsWith('SK') ? `API key ${username} of account ${this.accountSid}` : `account ${this.accountSid}`;
    if (response.statusCode === 401) return new AuthError(`Twilio refused the credentials for ${who} (${code})`);
    return new AuthError(`Twilio refused ${who} access to ${label} (403, ${code})`);
  }

  /** A status the call did not expect (e.g. 400): not retried; Twilio's own message kept, redacted. */
  private unexpected(response: ApiResponse, label: string): ExternalServiceError {
    const message = twilioMessage(response.body);
    const detail = message ? `: ${redactSecrets(message, [this.options.credentials.password]).slice(0, 200)}` : '';
    return new ExternalServiceError(`Twilio answered ${response.statusCode}${twilioCodeText(response.body)} to ${label}${detail}`, {
      status: response.statusCode,
      retryable: false,
    });
  }

  private redact(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    return redactSecrets(text.split('\n')[0] ?? '', [this.options.credentials.password]).slice(0, 200);
  }
}

export interface CreateTwilioGatewayOptions extends Partial<Omit<HelperLibraryTwilioGatewayOptions, 'credentials'>> {
  credentials: TwilioGatewayCredentials;
  /** `--rps` when no limiter is given; default DEFAULT_LIMITS.ratePerSecond. */
  rps?: number;
  /** `--concurrency` when no limiter is given; default DEFAULT_LIMITS.concurrency. */
  concurrency?: number;
  /** Media downloads at once when no mediaCap is given; default DEFAULT_LIMITS.mediaConcurrency. */
  mediaConcurrency?: number;
}

/** Wires a gateway with its own limiter and media cap unless given shared ones. */
export function createTwilioGateway(options: CreateTwilioGatewayOptions): HelperLibraryTwilioGateway {
  const { rps, concurrency, mediaConcurrency, limiter, mediaCap, ...rest } = options;
  return new HelperLibraryTwilioGateway({
    ...rest,
    limiter:
      limiter ??
      createRequestLimiter({
        ratePerSecond: rps ?? DEFAULT_LIMITS.ratePerSecond,
        concurrency: concurrency ?? DEFAULT_LIMITS.concurrency,
        random: options.random,
        sleep: options.sleep,
        now: options.now,
      }),
    mediaCap: mediaCap ?? createConcurrencyCap(mediaConcurrency ?? DEFAULT_LIMITS.mediaConcurrency),
  });
}

// ---- reading Twilio's JSON (pure) ----

interface FaxPage {
  faxes: TwilioFax[];
  next: string | null;
  /** Records left out (only with `skipBadRecords`). */
  rejected: Array<{ problem: string; record: unknown }>;
}

interface AccountPage {
  accounts: SubaccountInfo[];
  next: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What is wrong with a fax object, or null when it can be trusted (sids valid: they become keys and URLs). */
export function faxProblem(value: unknown): string | null {
  if (!isRecord(value)) return 'a fax is not a JSON object';
  if (!isSid(value.sid, 'FX')) return `a fax has an invalid sid ${JSON.stringify(String(value.sid).slice(0, 40))}`;
  if (!isSid(value.account_sid, 'AC')) return `fax ${value.sid} has an invalid account_sid`;
  if (value.media_url != null && typeof value.media_url !== 'string') return `fax ${value.sid} has a media_url that is not a string`;
  return null;
}

/** Reads a Fax API list page: `payload[meta.key]` and `meta.next_page_url`. Exported for tests. */
export function readFaxPage(body: unknown, options: { skipBadRecords?: boolean } = {}): { value: FaxPage } | { malformed: string } {
  if (!isRecord(body)) return { malformed: 'the page is not a JSON object' };
  const meta = body.meta;
  if (!isRecord(meta)) return { malformed: 'the page has no meta object' };
  const key = meta.key;
  if (typeof key !== 'string' || key === '') return { malformed: 'the page meta has no key' };
  const list = body[key];
  if (!Array.isArray(list)) return { malformed: `the page has no "${key}" list` };
  const faxes: TwilioFax[] = [];
  const rejected: FaxPage['rejected'] = [];
  for (const item of list) {
    const problem = faxProblem(item);
    if (problem && !options.skipBadRecords) return { malformed: problem };
    if (problem) rejected.push({ problem, record: item });
    else faxes.push(item as TwilioFax);
  }
  const next = meta.next_page_url;
  if (next != null && typeof next !== 'string') return { malformed: 'meta.next_page_url is not a string' };
  return { value: { faxes, next: next ? next : null, rejected } };
}

/** Reads a 2010 API Accounts page; relative `next_page_uri` is made absolute against api.twilio.com. */
export function readAccountPage(body: unknown): { value: AccountPage } | { malformed: string } {
  if (!isRecord(body)) return { malformed: 'the page is not a JSON object' };
  const list = body.accounts;
  if (!Array.isArray(list)) return { malformed: 'the page has no "accounts" list' };
  const accounts: SubaccountInfo[] = [];
  for (const item of list) {
    if (!isRecord(item) || !isSid(item.sid, 'AC')) return { malformed: 'an account has an invalid sid' };
    // Learnt here, scrubbed everywhere from now on (an API error may echo it).
    if (typeof item.auth_token === 'string') rememberSecret(item.auth_token, item.sid);
    accounts.push({
      sid: item.sid,
      friendlyName: typeof item.friendly_name === 'string' ? item.friendly_name : '',
      status: typeof item.status === 'string' ? item.status : 'unknown',
      authToken: typeof item.auth_token === 'string' ? item.auth_token : '',
    });
  }
  const next = body.next_page_uri;
  if (next != null && typeof next !== 'string') return { malformed: 'next_page_uri is not a string' };
  return { value: { accounts, next: next ? new URL(next, API_2010).href : null } };
}

function requireFaxSid(faxSid: unknown): string {
  if (!isSid(faxSid, 'FX')) {
    const shown = typeof faxSid === 'string' ? JSON.stringify(faxSid.slice(0, 40)) : String(faxSid);
    throw new InvariantError(`refused to build a Twilio URL from an invalid fax sid ${shown}`);
  }
  return faxSid;
}

/** Twilio's filter format: `YYYY-MM-DDTHH:mm:ssZ` (no milliseconds). */
export function twilioDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function headerString(headers: Record<string, unknown>, name: string): string | null {
  const value = headers[name] ?? headers[name.toLowerCase()];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return null;
}

function requestIdOf(headers: Record<string, unknown>): string | null {
  const value = headerString(headers, 'twilio-request-id')?.trim();
  return value ? value.slice(0, 64) : null;
}

function twilioCode(body: unknown): number | null {
  return isRecord(body) && typeof body.code === 'number' ? body.code : null;
}

function twilioCodeText(body: unknown): string {
  const code = twilioCode(body);
  return code === null ? '' : ` (${code})`;
}

function twilioMessage(body: unknown): string | null {
  return isRecord(body) && typeof body.message === 'string' ? body.message : null;
}
