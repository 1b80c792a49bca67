/**
 * When to retry a call and how long to wait first. Pure functions over plain data (clock and
 * random are parameters), shared by every outbound call: Twilio's API, the media host, S3.
 *
 * Twilio says 429 (20429) is "safe to retry after backing off" but does not confirm a Retry-After
 * header, so we back off on our own (exponential, full jitter: AWS's "Exponential Backoff and
 * Jitter" shows it spreads a thundering herd best) and honour Retry-After only when it is present.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  maxAttempts: number;
  /** First backoff ceiling; the ceiling doubles per retry. */
  baseMs: number;
  /** No backoff ceiling grows beyond this. */
  capMs: number;
  /** A server's Retry-After longer than this is cut to it (a wrong header must not stall a run for hours). */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseMs: 200,
  capMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** What one attempt came to, as far as retrying is concerned. */
export type AttemptOutcome =
  | { kind: 'ok' }
  /** An HTTP response with this status (the caller decided it is not a success). */
  | { kind: 'http'; status: number; retryAfterMs?: number | null }
  /** No response: refused, reset, timed out, DNS failure, a body cut short. */
  | { kind: 'network'; code?: string }
  /** Something retrying cannot fix (bad credentials, malformed data, a refused invariant). */
  | { kind: 'fatal' };

/**
 * Whether an HTTP status is worth another attempt: 429 and 5xx, except 501 Not Implemented (the
 * server says it cannot do this at all, so asking again cannot help). The one classifier of
 * responses (issue 14 §5): Twilio's API, its media host and the helper library's errors all ask here.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501);
}

/** Whether an outcome is worth another attempt: a retryable status (see above) and network errors. */
export function shouldRetry(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'ok':
    case 'fatal':
      return false;
    case 'network':
      return true;
    case 'http':
      return isRetryableStatus(outcome.status);
  }
}

/**
 * Full-jitter backoff before retry number `retry` (1 for the first retry): a uniform draw in
 * [0, min(capMs, baseMs * 2^(retry-1))).
 */
export function backoffDelayMs(retry: number, options: { baseMs: number; capMs: number; random: () => number }): number {
  const exponent = Math.max(0, retry - 1);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(exponent, 30));
  return Math.floor(ceiling * options.random());
}

/**
 * Parses a Retry-After header (RFC 9110: delay-seconds, or an HTTP-date) into milliseconds from
 * `now`. Null when absent or unparseable; never negative.
 */
export function retryAfterMs(headerValue: string | readonly string[] | null | undefined, now: number): number | null {
  const raw = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  if (typeof raw !== 'string') return null;
  const value = raw.trim();
  if (value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // An HTTP-date has letters and a comma or spaces; plain numbers with signs or junk are refused above.
  if (!/[A-Za-z]/.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * The wait before the next attempt, or null to give up. `attempt` is the attempt that just failed
 * (1 for the first). Retry-After, when present, replaces the jittered backoff (capped).
 */
export function nextRetryDelayMs(
  attempt: number,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  random: () => number,
): number | null {
  if (!shouldRetry(outcome)) return null;
  if (attempt >= policy.maxAttempts) return null;
  if (outcome.kind === 'http' && outcome.retryAfterMs != null) {
    return Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs);
  }
  return backoffDelayMs(attempt, { baseMs: policy.baseMs, capMs: policy.capMs, random });
}
