/**
 * `--full-listing-every` (sync, serve --sync-every): how often everything is listed again, beyond
 * the date-filtered listing after the watermark (issue 11 §3). `7d` by default (the option table); `never` turns it off.
 */
import { parseDuration } from '../duration.js';
import { optionDefault } from './shared-options.js';

export const FULL_LISTING_EVERY_DEFAULT = optionDefault('fullListingEvery');

/** Milliseconds, or undefined for `never` / `0`; every other value is read by the one duration parser. */
export function parseFullListingEvery(value: string | undefined): number | undefined {
  const text = (value ?? FULL_LISTING_EVERY_DEFAULT).trim();
  if (text === 'never' || text === '0') return undefined;
  return parseDuration(text, '--full-listing-every', { minMs: 60_000 });
}
