/**
 * The `twilio` helper library client, built so that (a) `--twilio-url` sends every request to an
 * emulator and (b) the account's credentials can never reach any host other than Twilio's or that
 * emulator.
 *
 * Why a RequestClient subclass and not a base-URL option: the library has none. And why rewrite on
 * EVERY request: the 2010 API's `next_page_uri` is relative and the library makes it absolute
 * against https://api.twilio.com, so a rewrite of only the first URL would send page 2 to the real
 * host (twilio-fax-api.md, "The official helper library today").
 *
 * The library's own autoRetry stays off: it retries 429 only and ignores Retry-After; our limiter
 * (src/limits/) retries 429, 5xx and network errors for every call.
 */
import http from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { ConfigurationError, InvariantError } from '../errors.js';

/** The helper library's client, as the reversion code uses it (`client.api.v2010.accounts(...)...`). */
export type TwilioRestClient = ReturnType<typeof twilio>;

export interface TwilioRestClientOptions {
  /** Basic-auth user: the account sid or an API key sid (SK...). */
  username: string;
  /** Basic-auth password: auth token or API key secret. A secret: never logged. */
  password: string;
  /** The account acted for (AC...); required with an API key. */
  accountSid: string;
  /** An emulator origin such as http://127.0.0.1:4010: every *.twilio.com request goes there instead. */
  baseUrl?: string;
  /** Per-request timeout (and socket timeout); the library's default is 30 s. */
  timeoutMs?: number;
  /** Sockets per host; the library's default (20) would cap `--concurrency` silently. */
  maxSockets?: number;
}

/**
 * A network-level failure (no HTTP response): refused, reset, timed out, DNS. Raised instead of the
 * library's axios error, whose `config` carries the Authorization header and would leak it to any
 * log that prints the error object. The message names the host only.
 */
export class TwilioTransportError extends Error {
  /** Node/axios error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, ...), or 'UNKNOWN'. */
  readonly code: string;
  /** The host the request went to (after any rewrite), e.g. 127.0.0.1:4010 or fax.twilio.com. */
  readonly host: string;
  constructor(host: string, code: string) {
    super(`cannot reach ${host} (${code})`);
    this.name = 'TwilioTransportError';
    this.host = host;
    this.code = code;
  }
}

/** Whether a hostname is Twilio's own (exactly twilio.com or a subdomain; not evil-twilio.com). */
export function isTwilioHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'twilio.com' || host.endsWith('.twilio.com');
}

/**
 * Where a request for `uri` must really go, or an InvariantError when credentials would leave
 * Twilio (or the configured emulator). Pure: exported for tests.
 */
export function resolveTwilioRequestUrl(uri: string, baseUrl?: string): string {
  let target: URL;
  try {
    target = new URL(uri);
  } catch {
    throw new InvariantError('refused a Twilio request to a URL that does not parse');
  }
  if (baseUrl !== undefined) {
    const base = new URL(baseUrl);
    if (isTwilioHost(target.hostname)) {
      return `${base.origin}${target.pathname}${target.search}`;
    }
    if (target.origin === base.origin) return target.href;
  } else if (isTwilioHost(target.hostname) && target.protocol === 'https:') {
    return target.href;
  }
  const allowed = baseUrl === undefined ? 'https://*.twilio.com' : `*.twilio.com or ${new URL(baseUrl).origin}`;
  throw new InvariantError(`refused to send Twilio credentials to ${target.protocol}//${target.host} (only ${allowed})`);
}

const NETWORK_CODE_FALLBACK = 'UNKNOWN';

/** The RequestClient that redirects and guards every request the library makes. */
class RedirectingRequestClient extends twilio.RequestClient {
  private readonly baseUrl: string | undefined;

  constructor(options: { baseUrl?: string; timeoutMs?: number; maxSockets?: number }) {
    super({
      autoRetry: false,
      timeout: options.timeoutMs,
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
    });
    this.baseUrl = options.baseUrl;
    if (options.baseUrl !== undefined && new URL(options.baseUrl).protocol === 'http:') {
      // An emulator over plain HTTP: keep connections alive with the same socket budget as https.
      this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    }
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = resolveTwilioRequestUrl(opts.uri, this.baseUrl);
    try {
      return await super.request({ ...opts, uri });
    } catch (error) {
      throw new TwilioTransportError(new URL(uri).host, networkCode(error));
    }
  }
}

function networkCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
  }
  return NETWORK_CODE_FALLBACK;
}

/** Builds the helper library client; see the file comment for what the redirect guarantees. */
export function createTwilioRestClient(options: TwilioRestClientOptions): TwilioRestClient {
  if (options.baseUrl !== undefined) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new ConfigurationError(`--twilio-url is not a URL: ${JSON.stringify(options.baseUrl.slice(0, 80))}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ConfigurationError(`--twilio-url must be an http(s) origin, got ${base.protocol}`);
    }
  }
  const httpClient = new RedirectingRequestClient({
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxSockets: options.maxSockets,
  });
  return twilio(options.username, options.password, {
    accountSid: options.accountSid,
    httpClient,
    autoRetry: false,
  });
}
