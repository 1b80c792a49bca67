/**
 * The one duration parser for every flag that takes a span of time (`--lookback 2d`,
 * `--sync-every 6h`), so a unit accepted by one flag is accepted by all (issue 17 §10).
 * A bare number keeps its old meaning: hours.
 */
import { UsageError } from './errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `6h`, `2d`, `90s` or a bare number of hours; returns milliseconds. Throws UsageError naming the flag. */
export function parseDuration(value: string, flag: string, { minMs = 0 }: { minMs?: number } = {}): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(value.trim());
  const unit = (match?.[2] ?? 'h').toLowerCase() as keyof typeof UNIT_MS;
  const ms = match ? Number(match[1]) * UNIT_MS[unit] : Number.NaN;
  if (!Number.isFinite(ms) || ms < minMs) {
    const least = minMs > 0 ? ` (at least ${minMs / 1000}s)` : '';
    throw new UsageError(`${flag} must be a duration like 30m, 6h or 2d (a bare number is hours)${least}, got ${JSON.stringify(value)}`);
  }
  return Math.round(ms);
}
