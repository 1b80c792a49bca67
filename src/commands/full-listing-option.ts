/**
 * `--full-listing-every` (sync, serve --sync-every): how often everything is listed again, beyond
 * the date-filtered listing after the watermark (issue 11 §3). `7d` by default; `never` turns it off.
 */
import type { Command } from 'commander';
import { parseDuration } from '../duration.js';

export const FULL_LISTING_EVERY_DEFAULT = '7d';

export function addFullListingOption(command: Command, prefix = ''): Command {
  return command.option(
    '--full-listing-every <duration>',
    `${prefix}list every fax again (no date filter) when no full listing started within this long, by Twilio's clock: 7d, 36h, 90m, or never`,
    FULL_LISTING_EVERY_DEFAULT,
  );
}

/** Milliseconds, or undefined for `never` / `0`; every other value is read by the one duration parser. */
export function parseFullListingEvery(value: string | undefined): number | undefined {
  const text = (value ?? FULL_LISTING_EVERY_DEFAULT).trim();
  if (text === 'never' || text === '0') return undefined;
  return parseDuration(text, '--full-listing-every', { minMs: 60_000 });
}
