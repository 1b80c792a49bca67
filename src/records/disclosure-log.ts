/**
 * The archive's own accounting of disclosures (issue 18 §5; HIPAA's accounting of disclosures):
 * every restore and export is one `disclosure` event in the catalog's hash chain, naming who ran it
 * (user@host), when, which faxes, where to, from which store, and for an export the hash of its bag's
 * manifest. Written after the work, in a short write of its own (no writers' lock, as the report's
 * own run record), so a sync can run beside it. Only sids, hashes and paths: never phone numbers.
 */
import { createHash } from 'node:crypto';
import { openCatalog } from '../catalog/sqlite-catalog.js';
import { DISCLOSURE_EVENT } from '../catalog/records-query.js';
import { describeError } from '../errors.js';
import { runIdentity } from '../run-identity.js';

export interface Disclosure {
  action: 'restore' | 'export';
  sids: readonly string[];
  store: string;
  /** The folder or file handed over. */
  destination: string;
  objects: number;
  bytes: number;
  /** SHA-256 of the manifest of what was handed over (for an export: its manifest-sha256.txt). */
  manifestSha256: string;
  filter?: Record<string, string>;
}

/** A disclosure as the report lists it (from its `disclosure` event). */
export interface DisclosureEntry {
  eventId: number;
  at: string;
  action: string;
  by: string;
  sids: string[];
  destination: string;
  store: string;
  manifestSha256: string;
}

/** The entry of a `disclosure` event's data (pure; tolerant of fields an older version did not write). */
export function disclosureEntryOf(event: { id: number; at: string; data: Record<string, unknown> }): DisclosureEntry {
  const d = event.data;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    eventId: event.id, at: text(d.disclosedAt) || event.at, action: text(d.action), by: text(d.by),
    sids: Array.isArray(d.sids) ? d.sids.filter((s): s is string => typeof s === 'string') : [],
    destination: text(d.destination), store: text(d.store), manifestSha256: text(d.manifestSha256),
  };
}

/** `user@host`, as the provenance file and the event name the person who ran it. */
export function disclosedBy(): string {
  const { user, host } = runIdentity();
  return `${user}@${host}`;
}

/** SHA-256 of manifest lines (`<sha256>  <path>`), sorted by path: the same files give the same hash. */
export function manifestHash(entries: ReadonlyArray<{ path: string; sha256Hex: string }>): string {
  const text = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((e) => `${e.sha256Hex}  ${e.path}\n`).join('');
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Appends the disclosure to the catalog's chain. Returns null when recorded, else the one-line
 * reason (a read-only copy of the catalog): the caller says so, and the hand-over is not undone.
 */
export function recordDisclosure(catalogPath: string, disclosure: Disclosure, at = new Date()): string | null {
  try {
    const catalog = openCatalog(catalogPath);
    try {
      catalog.appendEvent(DISCLOSURE_EVENT, { ...disclosure, sids: [...disclosure.sids], by: disclosedBy(), disclosedAt: at.toISOString() });
    } finally {
      catalog.close();
    }
    return null;
  } catch (error) {
    return describeError(error);
  }
}
