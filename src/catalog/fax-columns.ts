/**
 * Twilio's raw fax JSON (snake_case, every field nullable) -> the catalog's columns. Pure.
 *
 * The pre-signed `media_url` is a bearer credential for two hours, so its query string is cut here
 * even though the pipeline already sanitizes: the catalog is the last line before the disk, and a
 * row is kept for years. Any other string that looks like it carries a secret is redacted too.
 */
import { InvariantError, redactSecrets } from '../errors.js';
import { isSid } from '../sid.js';

export interface FaxColumns {
  sid: string;
  accountSid: string;
  status: string | null;
  direction: string | null;
  from: string | null;
  to: string | null;
  quality: string | null;
  mediaSid: string | null;
  mediaUrl: string | null;
  numPages: number | null;
  duration: number | null;
  price: string | null;
  priceUnit: string | null;
  apiVersion: string | null;
  url: string | null;
  links: string | null;
  dateCreated: string | null;
  dateUpdated: string | null;
  /** Normalized `date_created` (ISO 8601 with milliseconds, or '' when absent/unparseable): the sort key. */
  createdKey: string;
  /** The sanitized raw JSON, as stored. */
  rawJson: string;
}

export function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const MAY_HOLD_SECRET = /[@=]|Basic|Bearer/;

/** Every string value with secret-looking parts redacted (recursively); structure is kept. */
export function redactDeep(value: unknown): unknown {
  // Every secret pattern needs '@' (userinfo), '=' (a signature parameter) or a Basic/Bearer word:
  // checking for those first keeps the listing fast (most strings are numbers, sids and dates).
  if (typeof value === 'string') return MAY_HOLD_SECRET.test(value) ? redactSecrets(value) : value;
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) out[key] = redactDeep(child);
    return out;
  }
  return value;
}

/** Twilio's fax JSON with the media URL's signature removed and secret-looking strings redacted. */
export function sanitizeRawFax(raw: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...raw };
  if (typeof copy.media_url === 'string') copy.media_url = stripQuery(copy.media_url);
  return redactDeep(copy) as Record<string, unknown>;
}

/**
 * The sort key for `date_created`: Twilio writes `2021-06-30T20:00:00Z`, but a key that sorts as
 * text must not depend on how a date was spelled, so it is re-rendered; '' sorts first (unknown age
 * is treated as oldest, since Twilio prunes the oldest).
 */
export function createdKeyFor(dateCreated: string | null): string {
  if (!dateCreated) return '';
  const ms = Date.parse(dateCreated);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

/** Milliseconds of an ISO date, or null. */
export function dateMs(value: string | null): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function integer(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number.parseInt(value, 10);
  return null;
}

export function faxColumnsFrom(raw: Record<string, unknown>): FaxColumns {
  if (!isSid(raw.sid, 'FX')) {
    throw new InvariantError(`refusing to record a fax whose sid is not FX followed by 32 hex digits: ${JSON.stringify(String(raw.sid).slice(0, 40))}`);
  }
  if (!isSid(raw.account_sid, 'AC')) {
    throw new InvariantError(`refusing to record fax ${raw.sid}: its account_sid is not AC followed by 32 hex digits`);
  }
  const sanitized = sanitizeRawFax(raw);
  const dateCreated = text(sanitized.date_created);
  const mediaSid = text(sanitized.media_sid);
  return {
    sid: raw.sid,
    accountSid: raw.account_sid,
    status: text(sanitized.status),
    direction: text(sanitized.direction),
    from: text(sanitized.from),
    to: text(sanitized.to),
    quality: text(sanitized.quality),
    mediaSid: mediaSid === '' ? null : mediaSid,
    mediaUrl: text(sanitized.media_url),
    numPages: integer(sanitized.num_pages),
    duration: integer(sanitized.duration),
    price: text(sanitized.price),
    priceUnit: text(sanitized.price_unit),
    apiVersion: text(sanitized.api_version),
    url: text(sanitized.url),
    links: sanitized.links === null || sanitized.links === undefined ? null : JSON.stringify(sanitized.links),
    dateCreated,
    dateUpdated: text(sanitized.date_updated),
    createdKey: createdKeyFor(dateCreated),
    rawJson: JSON.stringify(sanitized),
  };
}
