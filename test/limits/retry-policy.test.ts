import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  defaultRetryPolicy,
  nextRetryDelayMs,
  retryAfterMs,
  shouldRetry,
} from '../../src/limits/retry-policy.js';

describe('backoffDelayMs (full jitter)', () => {
  const opts = (r: number) => ({ baseMs: 100, capMs: 1000, random: () => r });
  it('draws from [0, base * 2^(retry-1)) capped', () => {
    expect(backoffDelayMs(1, opts(0.999999))).toBe(99);
    expect(backoffDelayMs(2, opts(0.5))).toBe(100);
    expect(backoffDelayMs(3, opts(0.5))).toBe(200);
    expect(backoffDelayMs(4, opts(0.999999))).toBe(799);
    expect(backoffDelayMs(5, opts(0.999999))).toBe(999);
    expect(backoffDelayMs(50, opts(0.5))).toBe(500);
    expect(backoffDelayMs(3, opts(0))).toBe(0);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2021-12-17T12:00:00Z');
  it('reads delay-seconds', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('1.5', now)).toBe(1500);
    expect(retryAfterMs(['2', '9'], now)).toBe(2000);
  });
  it('reads an HTTP-date relative to now, never negative', () => {
    expect(retryAfterMs('Fri, 17 Dec 2021 12:00:07 GMT', now)).toBe(7000);
    expect(retryAfterMs('Fri, 17 Dec 2021 11:00:00 GMT', now)).toBe(0);
  });
  it('is null when absent or unparseable', () => {
    expect(retryAfterMs(undefined, now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('', now)).toBeNull();
    expect(retryAfterMs('-5', now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('12abc', now)).toBeNull();
  });
});

describe('shouldRetry', () => {
  it('retries 429, 5xx and network errors only', () => {
    expect(shouldRetry({ kind: 'http', status: 429 })).toBe(true);
    expect(shouldRetry({ kind: 'http', status: 500 })).toBe(true);
    expect(shouldRetry({ kind: 'http', status: 503 })).toBe(true);
    expect(shouldRetry({ kind: 'network', code: 'ECONNRESET' })).toBe(true);
    expect(shouldRetry({ kind: 'http', status: 501 })).toBe(false);
    expect(shouldRetry({ kind: 'http', status: 401 })).toBe(false);
    expect(shouldRetry({ kind: 'http', status: 404 })).toBe(false);
    expect(shouldRetry({ kind: 'http', status: 403 })).toBe(false);
    expect(shouldRetry({ kind: 'fatal' })).toBe(false);
    expect(shouldRetry({ kind: 'ok' })).toBe(false);
  });
});

describe('nextRetryDelayMs', () => {
  const policy = { ...defaultRetryPolicy, maxAttempts: 3, baseMs: 100, capMs: 1000, maxRetryAfterMs: 5000 };
  it('backs off until maxAttempts, then gives up', () => {
    expect(nextRetryDelayMs(1, { kind: 'http', status: 503 }, policy, () => 0.5)).toBe(50);
    expect(nextRetryDelayMs(2, { kind: 'network' }, policy, () => 0.5)).toBe(100);
    expect(nextRetryDelayMs(3, { kind: 'network' }, policy, () => 0.5)).toBeNull();
  });
  it('honours Retry-After in place of the backoff, capped', () => {
    expect(nextRetryDelayMs(1, { kind: 'http', status: 429, retryAfterMs: 2000 }, policy, () => 0.5)).toBe(2000);
    expect(nextRetryDelayMs(1, { kind: 'http', status: 429, retryAfterMs: 3_600_000 }, policy, () => 0.5)).toBe(5000);
    expect(nextRetryDelayMs(1, { kind: 'http', status: 429, retryAfterMs: null }, policy, () => 0.5)).toBe(50);
  });
  it('never retries what is not retryable', () => {
    expect(nextRetryDelayMs(1, { kind: 'http', status: 400 }, policy, () => 0.5)).toBeNull();
    expect(nextRetryDelayMs(1, { kind: 'fatal' }, policy, () => 0.5)).toBeNull();
  });
});
