/**
 * Recomputes the catalog's event hash chain from raw rows, deliberately NOT with src/catalog's code:
 * the audit must not trust the code it audits. The formula is the documented one (catalog
 * event-chain.ts, README): hash = sha256_hex(prev_hash + canonical JSON of {id, at, type, fax_sid,
 * data}), keys sorted at every depth, no whitespace; the first prev_hash is 64 zeros.
 */
import { createHash } from 'node:crypto';

export interface EventRowFact {
  id: number;
  at: string;
  type: string;
  fax_sid: string | null;
  /** The stored JSON text. */
  data: string;
  prev_hash: string;
  hash: string;
}

export interface ChainCheck {
  events: number;
  /** The first event whose link or hash does not verify; null when the chain is intact. */
  brokenAtId: number | null;
}

const GENESIS = '0'.repeat(64);

/** Rows must come in id order. */
export function recheckEventChain(rows: Iterable<EventRowFact>): ChainCheck {
  let prev = GENESIS;
  let events = 0;
  let expectedId: number | null = null;
  for (const row of rows) {
    events++;
    // Ids are consecutive from the first: a removed event is a hole even if later links were rewritten.
    if (expectedId !== null && row.id !== expectedId) return { events, brokenAtId: row.id };
    expectedId = row.id + 1;
    let data: unknown;
    try {
      data = JSON.parse(row.data);
    } catch {
      return { events, brokenAtId: row.id };
    }
    const body = sortedJson({ id: row.id, at: row.at, type: row.type, fax_sid: row.fax_sid, data });
    const hash = createHash('sha256').update(prev + body).digest('hex');
    if (row.prev_hash !== prev || row.hash !== hash) return { events, brokenAtId: row.id };
    prev = row.hash;
  }
  return { events, brokenAtId: null };
}

function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : sortedJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${sortedJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
