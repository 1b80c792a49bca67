/**
 * `--full-listing-every` (sync, serve --sync-every): how often everything is listed again, beyond
 * the date-filtered listing after the watermark (issue 11 §3). `7d` by default; `never` turns it off.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export const FULL_LISTING_EVERY_DEFAULT = '7d';

export function addFullListingOption(command: Command, prefix = ''): Command {
  return command.option(
    '--full-listing-every <duration>',
    `${prefix}list every fax again (no date filter) when no full listing started within this long, by Twilio's clock: 7d, 36h, 90m, or never`,
    FULL_LISTING_EVERY_DEFAULT,
  );
}

/** Milliseconds, or undefined for `never` / `0`. */
export function parseFullListingEvery(value: string | undefined): number | undefined {
  const text = (value ?? FULL_LISTING_EVERY_DEFAULT).trim();
  if (text === 'never' || text === '0') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/.exec(text);
  const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = match ? Number(match[1]) * unitMs[match[2] as keyof typeof unitMs] : Number.NaN;
  if (!Number.isFinite(ms) || ms < 60_000) {
    throw new UsageError(`--full-listing-every must be a duration like 7d, 36h or 90m (at least 1m), or never; got ${JSON.stringify(value)}`);
  }
  return ms;
}
