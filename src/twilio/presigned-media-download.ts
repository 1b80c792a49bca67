/**
 * Opens a fax's pre-signed `media_url` with plain streaming HTTP, never through the helper library:
 * the library adds the account's Basic auth to every request, and the media lives on another host
 * (an object store that rejects a second auth mechanism, and must never see our credentials).
 *
 * Network errors and 429/5xx are retried before the body starts; once the body is handed over, a
 * failure mid-body is the reader's to see (the pipeline restarts the download from scratch).
 * Error messages name the host only: the query string carries the URL's signature.
 */
import http from 'node:http';
import https from 'node:https';
import { ExternalServiceError, MediaUrlExpiredError } from '../errors.js';
import type { ConcurrencyCap } from '../limits/concurrency-cap.js';
import { runWithRetries, type AttemptResult, type AttemptVerdict } from '../limits/request-limiter.js';
import { isRetryableStatus, retryAfterMs, type RetryPolicy } from '../limits/retry-policy.js';
import type { MediaDownload } from './twilio-gateway.js';

export interface PresignedMediaOptions {
  userAgent: string;
  /** Held from the request until the body closes, so the cap counts downloads really in progress. */
  cap: ConcurrencyCap;
  policy: RetryPolicy;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Socket inactivity limit, before and during the body. */
  timeoutMs: number;
  agents: { http: http.Agent; https: https.Agent };
}

interface Opened {
  status: number;
  response: http.IncomingMessage;
  /** S3's `<Code>` from an XML error body (4xx only, read up to a few KB), or null. */
  errorCode?: string | null;
}

/** S3 error bodies are small XML documents; more than this is not one. */
const ERROR_BODY_LIMIT = 8 * 1024;

/** `<Error><Code>ExpiredToken</Code>...` -> `ExpiredToken`; null when there is none. */
export function s3ErrorCode(body: string): string | null {
  const m = /<Code>\s*([A-Za-z0-9.]{1,64})\s*<\/Code>/.exec(body);
  return m ? (m[1] as string) : null;
}

/**
 * A pre-signed URL signed with temporary credentials (X-Amz-Security-Token) stops working when the
 * session token expires, which can be before its own X-Amz-Expires: S3 then answers 400 with code
 * ExpiredToken; after X-Amz-Expires it answers 403 AccessDenied (issue 12 §4: a 400 ExpiredToken was
 * not taken as expiry, and 0 of 3 faxes were archived). Both mean: fetch the fax for a fresh URL.
 */
const EXPIRED_URL_CODES = new Set(['ExpiredToken', 'TokenRefreshRequired', 'RequestExpired']);

/** Keep-alive agents sized to the media cap; shared by a gateway and its subaccount gateways. */
export function createMediaAgents(maxSockets: number): { http: http.Agent; https: https.Agent } {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
}

/** A media URL as it may appear in a message: scheme and host only (the path and query are the signed part). */
export function describeMediaUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

export async function openPresignedMedia(mediaUrl: string, options: PresignedMediaOptions): Promise<MediaDownload> {
  let url: URL;
  try {
    url = new URL(mediaUrl);
  } catch {
    throw new ExternalServiceError('Twilio gave a media_url that is not a URL', { retryable: false });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ExternalServiceError(`Twilio gave a media_url with scheme ${url.protocol}; only http(s) is fetched`, { retryable: false });
  }
  if (url.username || url.password) {
    // Userinfo would become an Authorization header: the media host must get none.
    throw new ExternalServiceError(`refused a media_url carrying credentials (${describeMediaUrl(url)})`, { retryable: false });
  }
  const where = describeMediaUrl(url);
  const release = await options.cap.acquire();
  try {
    const opened = await runWithRetries<Opened, Opened>({
      attempt: (): Promise<AttemptResult<Opened>> =>
        request(url, options).then(
          (value) => ({ ok: true, value }),
          (error: unknown) => ({ ok: false, error }),
        ),
      classify: (result) => classify(result, where, options.now),
      policy: options.policy,
      random: options.random,
      sleep: options.sleep,
    });
    const { response } = opened;
    response.once('close', release);
    if (response.destroyed) release();
    const length = Number(response.headers['content-length']);
    return {
      httpStatus: opened.status,
      contentType: response.headers['content-type'] ?? null,
      contentLength: Number.isSafeInteger(length) && length >= 0 && response.headers['content-length'] !== undefined ? length : null,
      etag: etagIfContentMd5(response.headers),
      body: response,
    };
  } catch (error) {
    release();
    throw error;
  }
}

function classify(result: AttemptResult<Opened>, where: string, now: () => number): AttemptVerdict<Opened> {
  if (!result.ok) {
    const code = networkCode(result.error);
    return {
      kind: 'retry',
      outcome: { kind: 'network', code },
      error: new ExternalServiceError(`media host ${where} unreachable (${code})`),
    };
  }
  const { status, response } = result.value;
  if (status >= 200 && status < 300) return { kind: 'done', value: result.value };
  // Not handed over: drain so the keep-alive socket can be reused.
  response.resume();
  if (status === 403) {
    const code = result.value.errorCode ? ` ${result.value.errorCode}` : '';
    return { kind: 'fail', error: new MediaUrlExpiredError(`media host ${where} refused the URL (403${code}): expired; re-fetch the fax for a fresh one`) };
  }
  if (status === 400 && result.value.errorCode && EXPIRED_URL_CODES.has(result.value.errorCode)) {
    return { kind: 'fail', error: new MediaUrlExpiredError(`media host ${where} answered 400 ${result.value.errorCode}: the URL's session token expired; re-fetch the fax for a fresh one`) };
  }
  if (status >= 400 && status < 500 && result.value.errorCode) {
    return { kind: 'fail', error: new ExternalServiceError(`media host ${where} answered ${status} ${result.value.errorCode}`, { status, retryable: false }) };
  }
  const retryable = isRetryableStatus(status);
  const error = new ExternalServiceError(`media host ${where} answered ${status}`, { status, retryable });
  if (retryable) {
    return { kind: 'retry', outcome: { kind: 'http', status, retryAfterMs: retryAfterMs(response.headers['retry-after'], now()) }, error };
  }
  return { kind: 'fail', error };
}

function request(url: URL, options: PresignedMediaOptions): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? options.agents.https : options.agents.http;
    const req = transport.request(url, {
      method: 'GET',
      agent,
      // Exactly these headers: no Authorization, ever (see the file comment).
      headers: { 'User-Agent': options.userAgent, Accept: '*/*' },
    });
    req.setTimeout(options.timeoutMs, () => {
      req.destroy(Object.assign(new Error('media request timed out'), { code: 'ETIMEDOUT' }));
    });
    req.once('error', reject);
    req.once('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 400 && status !== 403) {
        resolve({ status, response });
        return;
      }
      // Read S3's small XML error body for its code; the response is consumed (classify drains nothing more).
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < ERROR_BODY_LIMIT) text += chunk;
      });
      // Whichever comes first (a cut connection may never 'end'); resolving twice is a no-op.
      const done = () => resolve({ status, response, errorCode: s3ErrorCode(text) });
      response.once('end', done);
      response.once('error', done);
      response.once('close', done);
    });
    req.end();
  });
}

function networkCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length > 0 ? code : 'UNKNOWN';
}

/**
 * The ETag when it can be an MD5 of the content, else null: S3 objects encrypted with SSE-KMS or
 * SSE-C carry ETags that are not (SSE-S3's are). Multipart ETags (`...-N`) are left to the caller.
 */
export function etagIfContentMd5(headers: Record<string, string | string[] | undefined>): string | null {
  const sse = String(headers['x-amz-server-side-encryption'] ?? '').toLowerCase();
  if (sse.startsWith('aws:kms') || headers['x-amz-server-side-encryption-customer-algorithm'] !== undefined) return null;
  const etag = headers.etag;
  return unquoteEtag(Array.isArray(etag) ? etag[0] : etag);
}

/** `"abc"` or `W/"abc"` to `abc`; null when absent. */
export function unquoteEtag(header: string | undefined): string | null {
  if (!header) return null;
  return header.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') || null;
}
