import { describe, expect, it } from 'vitest';
import { createConcurrencyCap } from '../../src/limits/concurrency-cap.js';
import { createRequestLimiter, type AttemptResult, type AttemptVerdict } from '../../src/limits/request-limiter.js';

/** A fake response: status and an optional Retry-After in ms. */
interface Answer {
  status: number;
  retryAfterMs?: number;
}

function classify(result: AttemptResult<Answer>): AttemptVerdict<number> {
  if (!result.ok) return { kind: 'retry', outcome: { kind: 'network' }, error: result.error };
  const { status, retryAfterMs } = result.value;
  if (status < 300) return { kind: 'done', value: status };
  const error = new Error(`status ${status}`);
  if (status === 429 || status >= 500) return { kind: 'retry', outcome: { kind: 'http', status, retryAfterMs: retryAfterMs ?? null }, error };
  return { kind: 'fail', error };
}

function harness(options: { maxAttempts?: number; rps?: number; concurrency?: number } = {}) {
  let t = 0;
  const slept: number[] = [];
  const limiter = createRequestLimiter({
    ratePerSecond: options.rps ?? Infinity,
    concurrency: options.concurrency ?? 4,
    policy: { maxAttempts: options.maxAttempts ?? 4, baseMs: 100, capMs: 1000 },
    random: () => 0.5,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  });
  return { limiter, slept };
}

describe('RequestLimiter', () => {
  it('retries 5xx, 429 and network errors with backoff until one succeeds', async () => {
    const { limiter, slept } = harness();
    const script: Array<Answer | Error> = [{ status: 503 }, new Error('ECONNRESET'), { status: 429 }, { status: 200 }];
    const seenAttempts: number[] = [];
    const value = await limiter.run(async (attempt) => {
      seenAttempts.push(attempt);
      const next = script.shift()!;
      if (next instanceof Error) throw next;
      return next;
    }, classify);
    expect(value).toBe(200);
    expect(seenAttempts).toEqual([1, 2, 3, 4]);
    // Full jitter with random 0.5: 50, 100, 200.
    expect(slept).toEqual([50, 100, 200]);
    const stats = limiter.stats();
    expect(stats).toMatchObject({ requests: 4, retries: 3, throttled: 1, failures: 0 });
  });

  it('honours Retry-After when the server sends it', async () => {
    const { limiter, slept } = harness();
    const script: Answer[] = [{ status: 429, retryAfterMs: 1234 }, { status: 204 }];
    await expect(limiter.run(async () => script.shift()!, classify)).resolves.toBe(204);
    expect(slept).toEqual([1234]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { limiter } = harness({ maxAttempts: 3 });
    let calls = 0;
    const run = limiter.run(async () => {
      calls += 1;
      return { status: 501 + calls };
    }, classify);
    await expect(run).rejects.toThrow('status 504');
    expect(calls).toBe(3);
    expect(limiter.stats().failures).toBe(1);
  });

  it('does not retry a failure classify calls final', async () => {
    const { limiter, slept } = harness();
    let calls = 0;
    await expect(
      limiter.run(async () => {
        calls += 1;
        return { status: 401 };
      }, classify),
    ).rejects.toThrow('status 401');
    expect(calls).toBe(1);
    expect(slept).toEqual([]);
  });

  it('cuts the bucket rate on 429', async () => {
    const { limiter } = harness({ rps: 20 });
    const script: Answer[] = [{ status: 429 }, { status: 200 }];
    await limiter.run(async () => script.shift()!, classify);
    // The bucket's default cut (x0.7), possibly already regained a step while the retry waited.
    expect(limiter.stats().currentRate).toBeGreaterThanOrEqual(14);
    expect(limiter.stats().currentRate).toBeLessThan(20);
  });

  it('never runs more attempts at once than the concurrency cap', async () => {
    const { limiter } = harness({ concurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    let finished = 0;
    const runs = Array.from({ length: 10 }, () =>
      limiter.run(async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((open) => gates.push(open));
        inFlight -= 1;
        finished += 1;
        return { status: 200 };
      }, classify),
    );
    while (finished < 10) {
      await new Promise((r) => setImmediate(r));
      expect(limiter.stats().inFlight).toBeLessThanOrEqual(3);
      gates.shift()?.();
    }
    await Promise.all(runs);
    expect(peak).toBe(3);
  });
});

describe('ConcurrencyCap', () => {
  it('acquire() holds a slot until released, and release is idempotent', async () => {
    const cap = createConcurrencyCap(1);
    const release = await cap.acquire();
    let second = false;
    const next = cap.acquire().then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    expect(cap.pending).toBe(1);
    release();
    release();
    const release2 = await next;
    expect(second).toBe(true);
    expect(cap.active).toBe(1);
    release2();
    await new Promise((r) => setImmediate(r));
    expect(cap.active).toBe(0);
  });

  it('refuses a cap below one', () => {
    expect(() => createConcurrencyCap(0)).toThrow(RangeError);
  });
});
