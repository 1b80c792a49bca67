/**
 * The event log's hash chain, as pure functions so an auditor (or the report) can recompute it
 * without this catalog: each event's hash is
 *
 *   sha256_hex( prev_hash + canonicalJson({ id, at, type, fax_sid, data }) )
 *
 * where `prev_hash` is the previous event's hash (GENESIS_HASH for the first) and canonical JSON
 * is JSON.stringify with object keys sorted at every depth and no whitespace. Editing, inserting
 * or removing any event in the middle changes a hash that a later event commits to.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';

export { canonicalJson };

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedEventContent {
  id: number;
  at: string;
  type: string;
  faxSid: string | null;
  data: Record<string, unknown>;
}

export function eventHash(prevHash: string, event: ChainedEventContent): string {
  const body = canonicalJson({ id: event.id, at: event.at, type: event.type, fax_sid: event.faxSid, data: event.data });
  return createHash('sha256').update(prevHash + body).digest('hex');
}

/**
 * `eventHash` over data already rendered by `canonicalJson` (the text the catalog stores): the
 * same hash without parsing the text back into an object (the catalog's write path, issue 16).
 * Canonical text parses and re-renders to itself, so both functions agree on every stored event.
 */
export function eventHashOfJson(prevHash: string, event: Omit<ChainedEventContent, 'data'> & { dataJson: string }): string {
  // canonicalJson's key order for the body: at, data, fax_sid, id, type.
  const body = `{"at":${JSON.stringify(event.at)},"data":${event.dataJson},"fax_sid":${event.faxSid === null ? 'null' : JSON.stringify(event.faxSid)},"id":${JSON.stringify(event.id)},"type":${JSON.stringify(event.type)}}`;
  return createHash('sha256').update(prevHash + body).digest('hex');
}
