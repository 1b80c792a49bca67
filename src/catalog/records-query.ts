/**
 * The records officer's reads (issue 18): faxes by filter, and what the `Catalog` interface does not
 * expose about one fax (every deletion row with its pre-delete proof, its events, the disclosures
 * naming it). A second, read-only connection beside a read-only `SqliteCatalog`: it never writes,
 * never migrates and never takes the writers' lock, so `find` and `show` run beside a `sync`
 * (WAL readers do not block the writer, nor it them).
 *
 * Phone numbers are personal data: nothing here logs; callers print only what was asked for.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigurationError } from '../errors.js';
import type { CatalogEvent, FaxRow, VerificationMethod } from './catalog.js';
import type { FaxState } from './fax-states.js';
import { assertSchemaCurrent } from './migrations.js';
import { openCatalog, type SqliteCatalog } from './sqlite-catalog.js';

/** What `find` and `export` select by; every field optional, all given ones must hold. */
export interface FaxFilter {
  accountSid?: string;
  /** E.164 as the catalog holds it (`+14155550100`). */
  from?: string;
  to?: string;
  direction?: string;
  status?: string;
  state?: FaxState;
  /** Created at or after this instant. */
  since?: Date;
  /** Created at or before this instant. */
  until?: Date;
  /** The sid starts with this (case as given: sids are `FX` + lowercase hex). */
  sidPrefix?: string;
}

/** One row of the deletions table with its proof, cancelled ones included (they are evidence too). */
export interface DeletionHistoryEntry {
  intentAt: string;
  runId: number | null;
  receiptAt: string | null;
  httpStatus: number | null;
  requestId: string | null;
  cancelledAt: string | null;
  proofAt: string | null;
  proofMethod: VerificationMethod | null;
  proofRunId: number | null;
  /** What the store answered for each object immediately before the DELETE. */
  proofObjects: Array<{ kind: string; key: string; method: string; sha256: string }> | null;
}

/** The event type of a restore or an export (issue 18 §5): the archive's accounting of disclosures. */
export const DISCLOSURE_EVENT = 'disclosure';

const PAGE = 500;

export class RecordsQuery {
  readonly path: string;
  /** The catalog itself, read-only, for `getFax`, `getHistory`, `checkEventChain`. */
  readonly catalog: SqliteCatalog;
  private readonly db: Database.Database;

  constructor(path: string) {
    this.path = resolve(path);
    if (!existsSync(this.path)) throw new ConfigurationError(`no catalog at ${this.path} (run archive first, or pass --catalog)`);
    this.catalog = openCatalog(this.path, { readonly: true });
    try {
      this.db = new Database(this.path, { readonly: true, fileMustExist: true, timeout: 5_000 });
      assertSchemaCurrent(this.db, this.path);
    } catch (error) {
      this.catalog.close();
      throw error;
    }
  }

  /** Faxes matching `filter`, oldest first, in keyset pages (no statement stays open between pages). */
  *find(filter: FaxFilter): IterableIterator<FaxRow> {
    const { where, params } = whereFor(filter);
    const statement = this.db.prepare(
      `SELECT sid, created_key FROM faxes WHERE ${where.length ? `${where.join(' AND ')} AND ` : ''}(created_key, sid) > (?, ?) ORDER BY created_key, sid LIMIT ${PAGE}`,
    );
    let after: [string, string] = ['', ''];
    for (;;) {
      const rows = statement.all(...params, ...after) as Array<{ sid: string; created_key: string }>;
      for (const row of rows) {
        const fax = this.catalog.getFax(row.sid);
        if (fax) yield fax;
      }
      if (rows.length < PAGE) return;
      const last = rows[rows.length - 1]!;
      after = [last.created_key, last.sid];
    }
  }

  /** How many faxes match (for a progress bar's total). */
  count(filter: FaxFilter): number {
    const { where, params } = whereFor(filter);
    const row = this.db.prepare(`SELECT count(*) AS n FROM faxes${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`).get(...params) as { n: number };
    return row.n;
  }

  /** Every deletion row of the fax, oldest first, cancelled ones included. */
  deletions(sid: string): DeletionHistoryEntry[] {
    const rows = this.db.prepare(
      `SELECT intent_at, run_id, receipt_at, http_status, request_id, cancelled_at, proof_at, proof_method, proof_run_id, proof
       FROM deletions WHERE fax_sid = ? ORDER BY id`,
    ).all(sid) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      intentAt: String(r.intent_at),
      runId: (r.run_id as number | null) ?? null,
      receiptAt: (r.receipt_at as string | null) ?? null,
      httpStatus: (r.http_status as number | null) ?? null,
      requestId: (r.request_id as string | null) ?? null,
      cancelledAt: (r.cancelled_at as string | null) ?? null,
      proofAt: (r.proof_at as string | null) ?? null,
      proofMethod: (r.proof_method as VerificationMethod | null) ?? null,
      proofRunId: (r.proof_run_id as number | null) ?? null,
      proofObjects: typeof r.proof === 'string' ? (JSON.parse(r.proof) as DeletionHistoryEntry['proofObjects']) : null,
    }));
  }

  /** The fax's own events and every disclosure naming it, oldest first. */
  events(sid: string): CatalogEvent[] {
    const rows = this.db.prepare(
      `SELECT id, at, type, fax_sid, data, prev_hash, hash FROM events
       WHERE fax_sid = ? OR (type = '${DISCLOSURE_EVENT}' AND EXISTS (SELECT 1 FROM json_each(events.data, '$.sids') WHERE value = ?))
       ORDER BY id`,
    ).all(sid, sid) as Array<{ id: number; at: string; type: string; fax_sid: string | null; data: string; prev_hash: string; hash: string }>;
    return rows.map((e) => ({ id: e.id, at: e.at, type: e.type, faxSid: e.fax_sid, data: JSON.parse(e.data) as Record<string, unknown>, hash: e.hash, prevHash: e.prev_hash }));
  }

  /** The fax's re-audit findings (verify), oldest first. */
  findings(sid: string): Array<{ at: string; key: string; method: string; outcome: string; detail: string | null; runId: number | null }> {
    return (this.db.prepare('SELECT at, key, method, outcome, detail, run_id FROM findings WHERE fax_sid = ? ORDER BY id').all(sid) as Array<Record<string, unknown>>)
      .map((f) => ({ at: String(f.at), key: String(f.key), method: String(f.method), outcome: String(f.outcome), detail: (f.detail as string | null) ?? null, runId: (f.run_id as number | null) ?? null }));
  }

  /** Every disclosure (restore or export), oldest first. */
  disclosures(): CatalogEvent[] {
    const rows = this.db.prepare(`SELECT id, at, type, fax_sid, data, prev_hash, hash FROM events WHERE type = '${DISCLOSURE_EVENT}' ORDER BY id`).all() as Array<{
      id: number; at: string; type: string; fax_sid: string | null; data: string; prev_hash: string; hash: string;
    }>;
    return rows.map((e) => ({ id: e.id, at: e.at, type: e.type, faxSid: e.fax_sid, data: JSON.parse(e.data) as Record<string, unknown>, hash: e.hash, prevHash: e.prev_hash }));
  }

  close(): void {
    this.db.close();
    this.catalog.close();
  }
}

/** The event chain's length, head and first hash, and any event's hash: what an anchor records and is checked by. */
export interface ChainHead {
  events: number;
  headHash: string | null;
  firstHash: string | null;
  hashAt(id: number): string | null;
  close(): void;
}

/**
 * Reads the chain's head in O(1) on its own read-only connection (event ids run 1..n without
 * gaps: each is the previous one + 1), beside a writer that has the catalog open.
 */
export function openChainHead(path: string): ChainHead {
  const db = new Database(resolve(path), { readonly: true, fileMustExist: true, timeout: 5_000 });
  const last = db.prepare('SELECT id, hash FROM events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
  const first = db.prepare('SELECT hash FROM events WHERE id = 1').get() as { hash: string } | undefined;
  const at = db.prepare('SELECT hash FROM events WHERE id = ?');
  return {
    events: last?.id ?? 0,
    headHash: last?.hash ?? null,
    firstHash: first?.hash ?? null,
    hashAt: (id) => (at.get(id) as { hash: string } | undefined)?.hash ?? null,
    close: () => db.close(),
  };
}

function whereFor(filter: FaxFilter): { where: string[]; params: Array<string | number> } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const add = (clause: string, value: string) => {
    where.push(clause);
    params.push(value);
  };
  if (filter.accountSid !== undefined) add('account_sid = ?', filter.accountSid);
  if (filter.from !== undefined) add('from_number = ?', filter.from);
  if (filter.to !== undefined) add('to_number = ?', filter.to);
  if (filter.direction !== undefined) add('direction = ?', filter.direction);
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.state !== undefined) add('state = ?', filter.state);
  // created_key is date_created as ISO 8601 with milliseconds ('' when unknown: never in a range).
  if (filter.since !== undefined) add(`created_key >= ?`, filter.since.toISOString());
  if (filter.until !== undefined) {
    where.push(`created_key <> ''`);
    add('created_key <= ?', filter.until.toISOString());
  }
  if (filter.sidPrefix !== undefined) {
    // substr, not LIKE: a sid prefix holds no wildcards to escape, and the comparison stays exact.
    where.push('substr(sid, 1, ?) = ?');
    params.push(filter.sidPrefix.length, filter.sidPrefix);
  }
  return { where, params };
}
