/**
 * Where each fax's objects go, as pure functions: `<AccountSid>/<yyyy>/<mm>/<FaxSid>.<pdf|tiff>` and
 * `<FaxSid>.json` beside it (DESIGN.md "Media and verification"), by `date_created` in UTC, so the
 * archive can be browsed years later without this tool. The store adds its own root/prefix.
 *
 * Keys are built only from validated sids and digits, so they never need escaping and can never
 * climb out of a store's root; `assertObjectKey` is the gate every store applies to every key anyway.
 */
import { ConfigurationError } from '../errors.js';
import { assertSid } from '../sid.js';

export type MediaKind = 'pdf' | 'tiff';

/**
 * Folder for faxes whose `date_created` is missing or unparseable. Chosen over throwing because an
 * archive must still take a fax whose metadata is odd; `date_created` never changes for a fax, so
 * its key stays deterministic either way.
 */
export const UNKNOWN_DATE_FOLDER = 'unknown-date';

export interface FaxObjectRef {
  accountSid: string;
  faxSid: string;
  /** Twilio's `date_created` (RFC 2822 as the API sends it, or ISO 8601), a Date, or null. */
  dateCreated: string | Date | null | undefined;
}

/** `<AccountSid>/<yyyy>/<mm>` (UTC) or `<AccountSid>/unknown-date`. Throws on a malformed sid. */
export function faxFolder(ref: FaxObjectRef): string {
  const accountSid = assertSid(ref.accountSid, 'AC', 'account sid');
  return `${accountSid}/${dateFolder(ref.dateCreated)}`;
}

/** `<AccountSid>/<yyyy>/<mm>/<FaxSid>.<pdf|tiff>`. */
export function mediaObjectKey(ref: FaxObjectRef & { kind: MediaKind }): string {
  const faxSid = assertSid(ref.faxSid, 'FX', 'fax sid');
  if (ref.kind !== 'pdf' && ref.kind !== 'tiff') throw new Error(`invalid media kind: ${String(ref.kind)}`);
  return `${faxFolder(ref)}/${faxSid}.${ref.kind}`;
}

/**
 * The key of a fax's `version`-th media (issue 11 §6: a verified copy is never overwritten). The
 * first is `<FaxSid>.<ext>`; when Twilio reports new media for an archived fax, the next goes
 * beside it as `<FaxSid>.v2.<ext>`, `<FaxSid>.v3.<ext>`, ... and the earlier objects stay.
 */
export function mediaVersionKey(ref: FaxObjectRef & { kind: MediaKind; version: number }): string {
  if (!Number.isSafeInteger(ref.version) || ref.version < 1) throw new Error(`invalid media version: ${String(ref.version)}`);
  const key = mediaObjectKey(ref);
  return ref.version === 1 ? key : key.replace(/\.(pdf|tiff)$/, `.v${ref.version}.$1`);
}

/** `<AccountSid>/<yyyy>/<mm>/<FaxSid>.json`: the fax's full metadata, beside its media. */
export function sidecarObjectKey(ref: FaxObjectRef): string {
  const faxSid = assertSid(ref.faxSid, 'FX', 'fax sid');
  return `${faxFolder(ref)}/${faxSid}.json`;
}

/** The media kind for a content type Twilio sends (`application/pdf`, `image/tiff`); null otherwise. */
export function mediaKindForContentType(contentType: string | null | undefined): MediaKind | null {
  const base = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (base === 'application/pdf') return 'pdf';
  if (base === 'image/tiff' || base === 'image/tif') return 'tiff';
  return null;
}

function dateFolder(value: string | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return UNKNOWN_DATE_FOLDER;
  const date = value instanceof Date ? value : new Date(value);
  const time = date.getTime();
  if (Number.isNaN(time)) return UNKNOWN_DATE_FOLDER;
  const year = date.getUTCFullYear();
  // Twilio fax started long after 2000; a year outside four digits is a broken value, not a folder.
  if (year < 1970 || year > 9999) return UNKNOWN_DATE_FOLDER;
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${year}/${month}`;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 512;

/**
 * Throws ConfigurationError unless `key` is a relative '/'-separated path of plain segments
 * (letters, digits, `._-`, not starting with a dot): no `..`, no absolute path, no backslash,
 * no empty segment. Dot-names are reserved for stores' temporary files.
 * With `allowPrefix`, '' and a trailing '/' are accepted (list prefixes).
 */
export function assertObjectKey(key: string, options: { allowPrefix?: boolean } = {}): string {
  if (typeof key !== 'string') throw new ConfigurationError('object key must be a string');
  if (options.allowPrefix && key === '') return key;
  const body = options.allowPrefix && key.endsWith('/') ? key.slice(0, -1) : key;
  const shown = JSON.stringify(key.slice(0, 80));
  if (body.length === 0 || key.length > MAX_KEY_LENGTH) throw new ConfigurationError(`invalid object key ${shown}`);
  for (const segment of body.split('/')) {
    if (!SEGMENT.test(segment)) {
      throw new ConfigurationError(
        `invalid object key ${shown}: segments must be letters, digits, '._-', not empty, not starting with '.'`,
      );
    }
  }
  return key;
}
