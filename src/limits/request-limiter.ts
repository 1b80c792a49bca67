/**
 * The one limiter every Twilio API call goes through: a token bucket (`--rps`, adaptive on 429), a
 * concurrency cap (`--concurrency`), and a retry loop with backoff that honours Retry-After.
 *
 * The limiter knows nothing about HTTP: the caller's `classify` turns each attempt's result into a
 * verdict (done, retry with this outcome, or fail), so the same loop serves the helper library's
 * responses, plain fetches of media, and anything else. Each attempt takes its own token and slot;
 * the backoff sleep between attempts holds neither, so one struggling call does not block others.
 */
import { createConcurrencyCap, type ConcurrencyCap } from './concurrency-cap.js';
import { defaultRetryPolicy, nextRetryDelayMs, type AttemptOutcome, type RetryPolicy } from './retry-policy.js';
import { TokenBucket, realSleep } from './token-bucket.js';

/** What one attempt produced: its value, or what it threw. */
export type AttemptResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** The caller's reading of one attempt. */
export type AttemptVerdict<T> =
  /** Finished: resolve with `value`. */
  | { kind: 'done'; value: T }
  /** Failed in a way `outcome` describes; retried when the policy allows, else `error` is thrown. */
  | { kind: 'retry'; outcome: AttemptOutcome; error: unknown }
  /** Failed for good: throw `error` now. */
  | { kind: 'fail'; error: unknown };

export interface LimiterStats {
  /** Attempts sent (first tries and retries). */
  requests: number;
  /** Attempts that were retries. */
  retries: number;
  /** 429 answers seen. */
  throttled: number;
  /** Calls that gave up (retries exhausted or a non-retryable failure). */
  failures: number;
  /** The bucket's rate now, requests per second (Infinity when unlimited). */
  currentRate: number;
  /** Attempts holding a concurrency slot now. */
  inFlight: number;
  /** Attempts waiting for a slot. */
  queued: number;
}

export interface RequestLimiter {
  /**
   * Runs `task` (given the attempt number, from 1) under the rate and concurrency limits, asks
   * `classify` about every attempt, and retries per the retry policy. A 429 outcome cuts the rate.
   * Resolves with the first `done` value; rejects with a `fail` error, or with the last `retry`
   * verdict's error once attempts run out. Never throws anything `classify` did not hand it.
   */
  run<R, T>(task: (attempt: number) => Promise<R>, classify: (result: AttemptResult<R>) => AttemptVerdict<T>): Promise<T>;
  /** A snapshot of the counters, for the progress line and the bench. */
  stats(): LimiterStats;
}

export interface RequestLimiterOptions {
  /** `--rps`; Infinity for no rate limit. */
  ratePerSecond: number;
  /** `--concurrency`. */
  concurrency: number;
  /** Token bucket burst; default one second's worth. */
  burst?: number;
  policy?: Partial<RetryPolicy>;
  /** [0, 1) source for jitter; default Math.random. */
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RetryLoopOptions<R, T> {
  /** Makes one attempt and reports what happened (never throws). */
  attempt: (attempt: number) => Promise<AttemptResult<R>>;
  classify: (result: AttemptResult<R>) => AttemptVerdict<T>;
  policy: RetryPolicy;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Called with every non-final failure outcome, before the wait (counts, rate cuts). */
  onFailure?: (outcome: AttemptOutcome, willRetry: boolean) => void;
}

/**
 * The retry loop on its own, for callers with their own slots (media downloads hold their cap for
 * the whole body, longer than one attempt).
 */
export async function runWithRetries<R, T>(options: RetryLoopOptions<R, T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await options.attempt(attempt);
    const verdict = options.classify(result);
    if (verdict.kind === 'done') return verdict.value;
    if (verdict.kind === 'fail') {
      options.onFailure?.({ kind: 'fatal' }, false);
      throw verdict.error;
    }
    const delay = nextRetryDelayMs(attempt, verdict.outcome, options.policy, options.random);
    options.onFailure?.(verdict.outcome, delay !== null);
    if (delay === null) throw verdict.error;
    await options.sleep(delay);
  }
}

export function createRequestLimiter(options: RequestLimiterOptions): RequestLimiter {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.policy };
  const bucket = new TokenBucket({ ratePerSecond: options.ratePerSecond, burst: options.burst, now, sleep });
  const cap: ConcurrencyCap = createConcurrencyCap(options.concurrency);
  const counters = { requests: 0, retries: 0, throttled: 0, failures: 0 };

  return {
    run<R, T>(task: (attempt: number) => Promise<R>, classify: (result: AttemptResult<R>) => AttemptVerdict<T>): Promise<T> {
      return runWithRetries<R, T>({
        attempt: (attempt) =>
          cap.run(async (): Promise<AttemptResult<R>> => {
            // Token inside the slot: the rate is measured when requests leave, not when they queue.
            await bucket.take();
            counters.requests += 1;
            if (attempt > 1) counters.retries += 1;
            try {
              return { ok: true, value: await task(attempt) };
            } catch (error) {
              return { ok: false, error };
            }
          }),
        classify,
        policy,
        random,
        sleep,
        onFailure: (outcome, willRetry) => {
          if (outcome.kind === 'http' && outcome.status === 429) {
            counters.throttled += 1;
            bucket.throttled();
          }
          if (!willRetry) counters.failures += 1;
        },
      });
    },
    stats: () => ({
      ...counters,
      currentRate: bucket.currentRate,
      inFlight: cap.active,
      queued: cap.pending,
    }),
  };
}
