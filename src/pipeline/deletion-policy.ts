/**
 * Pure decisions about deletion. The database refuses a deletion intent on an unverified fax as a
 * last line of defence; these rules sit in front of it and add what only the pipeline knows.
 */
import type { FaxRow } from '../catalog/catalog.js';
import { isDeletable } from '../catalog/fax-states.js';
import { archiveNeedsMedia } from '../catalog/media-evidence.js';

/** Twilio statuses after which a fax no longer changes (its media, if any, is final). */
export const FINAL_FAX_STATUSES = ['delivered', 'received', 'no-answer', 'busy', 'failed', 'canceled'] as const;

export function isFinalStatus(status: string | null): boolean {
  return status !== null && (FINAL_FAX_STATUSES as readonly string[]).includes(status);
}

export type DeletionVerdict = { delete: true } | { delete: false; reason: string };

/**
 * Whether this fax may be deleted from Twilio now. Every object recorded must carry a verification;
 * a fax still in progress at Twilio is never deleted (its media may not exist yet).
 */
export function deletionVerdict(row: FaxRow): DeletionVerdict {
  if (!isDeletable(row.state)) return { delete: false, reason: `state is ${row.state}` };
  if (!isFinalStatus(row.status)) return { delete: false, reason: `Twilio status ${row.status ?? 'null'} is not final` };
  if (row.objects.length === 0) return { delete: false, reason: 'no stored object recorded' };
  const unverified = row.objects.filter((o) => !o.verifiedAt || !o.verificationMethod);
  if (unverified.length > 0) return { delete: false, reason: `${unverified.map((o) => o.kind).join(', ')} not verified` };
  // Media by every field (media-evidence.ts), unless a person accepted the fax without it (resolve).
  const needsMedia = !row.missingMediaAcceptedAt && (Boolean(row.mediaSid) || archiveNeedsMedia(row.raw, false));
  if (needsMedia && !row.objects.some((o) => o.kind === 'media')) {
    return { delete: false, reason: 'fax has media but no media object is recorded' };
  }
  if (!row.objects.some((o) => o.kind === 'sidecar')) return { delete: false, reason: 'no metadata sidecar recorded' };
  return { delete: true };
}

/** Why a whole run refuses to delete anything (rclone's rule: no deletes once the copy side looks unreliable). */
export function runDeletionBlocker(counters: { checksumMismatches: number }): string | null {
  if (counters.checksumMismatches > 0) {
    return `${counters.checksumMismatches} object(s) failed checksum verification in this run: the store is suspect, so no fax is deleted`;
  }
  return null;
}
