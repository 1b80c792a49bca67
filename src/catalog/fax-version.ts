/**
 * Pure decisions about a fax seen again in a listing: is it a newer version, and did its media
 * change (so what was archived is no longer what Twilio holds)?
 */
import type { ListedChange } from './catalog.js';
import { dateMs } from './fax-columns.js';

/**
 * Compares Twilio's `date_updated` of the stored and the listed version. Unknown dates cannot prove
 * a change, except that a first known date after an unknown one is news.
 */
export function compareFaxVersions(storedDateUpdated: string | null, listedDateUpdated: string | null): Exclude<ListedChange, 'new'> {
  const stored = dateMs(storedDateUpdated);
  const listed = dateMs(listedDateUpdated);
  if (listed === null) return 'unchanged';
  if (stored === null) return 'updated';
  if (listed > stored) return 'updated';
  if (listed < stored) return 'stale';
  return 'unchanged';
}

/** Whether the media Twilio holds differs from the stored version's (a new media sid or page count). */
export function mediaChanged(
  stored: { mediaSid: string | null; numPages: number | null },
  listed: { mediaSid: string | null; numPages: number | null },
): boolean {
  return (stored.mediaSid ?? null) !== (listed.mediaSid ?? null) || (stored.numPages ?? null) !== (listed.numPages ?? null);
}
