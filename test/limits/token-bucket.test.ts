import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/limits/token-bucket.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('spends the burst at once, then paces at the rate', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3, now: c.now });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    // Fourth and fifth wait one and two token intervals (100 ms each at 10 rps): reservations queue in order.
    expect(bucket.reserve()).toBe(100);
    expect(bucket.reserve()).toBe(200);
    c.advance(1000);
    // One second refilled 10 tokens but the debt of 2 came first and the burst caps the balance.
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(100);
  });

  it('defaults the burst to one second of tokens', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 5, now: c.now });
    const waits = Array.from({ length: 6 }, () => bucket.reserve());
    expect(waits).toEqual([0, 0, 0, 0, 0, 200]);
  });

  it('halves the rate on a 429, once per cooldown, never below the floor', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 40, minRatePerSecond: 4, cutFactor: 0.5, recoveryIntervalMs: 3000, now: c.now });
    bucket.throttled();
    expect(bucket.currentRate).toBe(20);
    // A burst of 429s answering requests sent together is one signal, not eight.
    for (let i = 0; i < 7; i++) bucket.throttled();
    expect(bucket.currentRate).toBe(20);
    expect(bucket.cutCount).toBe(1);
    for (let i = 0; i < 10; i++) {
      c.advance(1000);
      bucket.throttled();
    }
    expect(bucket.currentRate).toBe(4);
  });

  it('after a cut, waits are paced by the lower rate and the banked burst is gone', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 10, cutFactor: 0.5, now: c.now });
    bucket.throttled();
    expect(bucket.reserve()).toBe(200); // 5 rps: one token per 200 ms
  });

  it('recovers 10% of the configured rate per quiet interval, up to the configured rate', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 100, cutFactor: 0.5, recoveryIntervalMs: 3000, now: c.now });
    bucket.throttled();
    expect(bucket.currentRate).toBe(50);
    c.advance(2999);
    expect(bucket.currentRate).toBe(50);
    c.advance(1);
    expect(bucket.currentRate).toBe(60);
    c.advance(9000);
    expect(bucket.currentRate).toBe(90);
    c.advance(60_000);
    expect(bucket.currentRate).toBe(100);
    // A new 429 during recovery restarts the quiet time from the cut.
    c.advance(1000);
    bucket.throttled();
    expect(bucket.currentRate).toBe(50);
    c.advance(2000);
    expect(bucket.currentRate).toBe(50);
  });

  it('by default a 429 cuts the rate to 70% and three quiet seconds win it back', () => {
    const c = clock();
    const bucket = new TokenBucket({ ratePerSecond: 50, now: c.now });
    bucket.throttled();
    expect(bucket.currentRate).toBe(35);
    c.advance(1000);
    expect(bucket.currentRate).toBe(40);
    c.advance(2000);
    expect(bucket.currentRate).toBe(50);
  });

  it('an unlimited bucket never waits and ignores 429s', () => {
    const bucket = new TokenBucket({ ratePerSecond: Infinity, now: () => 0 });
    for (let i = 0; i < 1000; i++) expect(bucket.reserve()).toBe(0);
    bucket.throttled();
    expect(bucket.currentRate).toBe(Infinity);
  });

  it('take() sleeps for exactly the reserved wait', async () => {
    const c = clock();
    const slept: number[] = [];
    const bucket = new TokenBucket({
      ratePerSecond: 2,
      burst: 1,
      now: c.now,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await bucket.take();
    await bucket.take();
    await bucket.take();
    expect(slept).toEqual([500, 1000]);
  });

  it('refuses a non-positive rate', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
  });
});
