/**
 * Whether a fax has media is never decided by one field (issue 11 §2: a `received` fax with
 * `num_pages: 2`, a working `media_url` and `media_sid: null` was filed metadata-only and deleted).
 *
 * Evidence of media: a `media_sid`, a `media_url`, or pages (`num_pages > 0`) on a `received` or
 * `delivered` fax. `links.media` names the FaxMedia subresource of every fax, with media or without
 * (the API reference's fax resource), so it is where to ask, never evidence by itself. The record contradicts itself when some evidence says
 * media but no `media_url` gives the bytes: the pipeline then fetches the fax again and asks the
 * FaxMedia subresource before it decides (and a fax whose media cannot be had goes to `needs-review`).
 *
 * Pure, shared by the catalog (which state a fax may reach) and the pipeline (what to fetch).
 */

export interface MediaFields {
  media_sid?: unknown;
  media_url?: unknown;
  num_pages?: unknown;
  status?: unknown;
}

export type MediaSignal = 'media_sid' | 'media_url' | 'pages';

export interface MediaEvidence {
  /** Some field says the fax has media. */
  expected: boolean;
  /** Media is expected but there is no `media_url` to download it from. */
  contradictory: boolean;
  /** The fields that say so, for reasons and reports. */
  signals: MediaSignal[];
}

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
const FINISHED_WITH_PAGES = new Set(['received', 'delivered']);

export function mediaEvidence(fax: MediaFields): MediaEvidence {
  const signals: MediaSignal[] = [];
  if (nonEmpty(fax.media_sid)) signals.push('media_sid');
  if (nonEmpty(fax.media_url)) signals.push('media_url');
  if (typeof fax.num_pages === 'number' && fax.num_pages > 0 && FINISHED_WITH_PAGES.has(String(fax.status))) signals.push('pages');
  const expected = signals.length > 0;
  return { expected, contradictory: expected && !signals.includes('media_url'), signals };
}

/** Media the archive must hold: expected, unless an operator accepted the fax without it (`resolve`). */
export function archiveNeedsMedia(fax: MediaFields, missingMediaAccepted: boolean): boolean {
  return !missingMediaAccepted && mediaEvidence(fax).expected;
}
