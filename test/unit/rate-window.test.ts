import { describe, expect, it } from 'vitest';
import { RateWindow, formatEta, formatRate } from '../../src/commands/rate-window.js';

describe('RateWindow (the rate and ETA of a progress bar)', () => {
  it('results in batches sharing one timestamp: 1,024 of 3,000 at 74/s is about 27 s left, not 1 s', () => {
    // Issue 17: 256 results land at once every ~3.46 s (74/s); an estimator over the last N
    // increments sees 256 items in 0 ms.
    const window = new RateWindow();
    window.start(0);
    let done = 0;
    let t = 0;
    for (let batch = 0; batch < 4; batch++) {
      t += 3_460;
      for (let i = 0; i < 256; i++) window.record(t, ++done);
    }
    const { perSecond, etaSeconds } = window.estimate(t, 3000);
    expect(done).toBe(1024);
    expect(perSecond!).toBeGreaterThan(70);
    expect(perSecond!).toBeLessThan(78);
    expect(etaSeconds!).toBeGreaterThan(25);
    expect(etaSeconds!).toBeLessThan(29);
  });

  it('counts the quiet time since the last result: a stall slows the rate and lengthens the ETA', () => {
    const window = new RateWindow(10_000);
    window.start(0);
    for (let s = 1; s <= 10; s++) window.record(s * 1000, s * 10); // 10/s
    expect(window.estimate(10_000, 200).perSecond).toBeCloseTo(10, 5);
    const stalled = window.estimate(20_000, 200);
    // The window (10 s) now holds only the anchor at 10 s: nothing done since.
    expect(stalled.perSecond).toBe(0);
    expect(stalled.etaSeconds).toBeNull();
  });

  it('a moving window: the rate follows a change of pace instead of averaging the whole run', () => {
    const window = new RateWindow(10_000);
    window.start(0);
    let done = 0;
    for (let s = 1; s <= 60; s++) window.record(s * 1000, (done += 100)); // 100/s for a minute
    for (let s = 61; s <= 80; s++) window.record(s * 1000, (done += 10)); // then 10/s
    const { perSecond } = window.estimate(80_000, 100_000);
    expect(perSecond!).toBeCloseTo(10, 5);
  });

  it('says nothing before it has a second of history, and no ETA without a total', () => {
    const window = new RateWindow();
    window.start(0);
    window.record(200, 500);
    expect(window.estimate(300, 1000)).toEqual({ perSecond: null, etaSeconds: null });
    expect(window.estimate(2_000)).toEqual({ perSecond: 250, etaSeconds: null });
    expect(window.estimate(2_000, 500).etaSeconds).toBe(0);
  });

  it('formats what the bar prints', () => {
    expect(formatEta(null)).toBe('--');
    expect(formatEta(0.2)).toBe('1s');
    expect(formatEta(27.4)).toBe('28s');
    expect(formatEta(200)).toBe('3m 20s');
    expect(formatEta(7500)).toBe('2h 05m');
    expect(formatRate(null)).toBe('--/s');
    expect(formatRate(3.21)).toBe('3.2/s');
    expect(formatRate(1234.4)).toBe('1,234/s');
  });
});
