/** Issue 17 §10: one duration parser for --lookback and --sync-every (`2d` was refused by one, accepted by none). */
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/duration.js';
import { UsageError } from '../../src/errors.js';

describe('parseDuration', () => {
  it('reads s, m, h and d, any case, and a bare number as hours', () => {
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('30m', '--x')).toBe(1_800_000);
    expect(parseDuration('6h', '--x')).toBe(21_600_000);
    expect(parseDuration('2d', '--x')).toBe(172_800_000);
    expect(parseDuration('2D', '--x')).toBe(172_800_000);
    expect(parseDuration('48', '--x')).toBe(172_800_000);
    expect(parseDuration('1.5h', '--x')).toBe(5_400_000);
    expect(parseDuration('0', '--x')).toBe(0);
  });

  it('refuses anything else, and less than the minimum, naming the flag', () => {
    for (const bad of ['2x', '', '-1h', 'h', '2 days']) expect(() => parseDuration(bad, '--lookback')).toThrow(UsageError);
    expect(() => parseDuration('0.5s', '--sync-every', { minMs: 1000 })).toThrow(/--sync-every must be a duration .*at least 1s/);
  });
});
