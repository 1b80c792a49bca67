/**
 * The listing ledger's SQL (migration 4, `listing_sweeps`), used by SqliteCatalog, which runs each
 * call in its own transaction. Rows are never deleted and a completed row is never changed (the
 * migration's triggers refuse both), so the ledger is evidence of when each account was listed.
 */
import type Database from 'better-sqlite3';
import type { ListingSweep } from './listing-coverage.js';

interface SweepDbRow {
  id: number;
  account_sid: string;
  run_id: number | null;
  started_at: string;
  range_after: string | null;
  range_on_or_before: string | null;
  covered_down_to: string | null;
  pages: number;
  faxes: number;
  completed_at: string | null;
  absorbed_by: number | null;
}

function toSweep(r: SweepDbRow): ListingSweep {
  return {
    id: r.id,
    accountSid: r.account_sid,
    runId: r.run_id,
    startedAt: r.started_at,
    rangeAfter: r.range_after,
    rangeOnOrBefore: r.range_on_or_before,
    coveredDownTo: r.covered_down_to,
    pages: r.pages,
    faxes: r.faxes,
    completedAt: r.completed_at,
    absorbedBy: r.absorbed_by,
  };
}

export interface SweepProgress {
  /** Replaces the recorded start (once Twilio's clock is known from the first answer). */
  startedAt?: string;
  /** The new low-water mark (null: listing order was not newest first; a resume lists the whole range). */
  coveredDownTo?: string | null;
  pages?: number;
  faxes?: number;
}

export class SqliteListingLedger {
  private readonly stmt;

  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.stmt = {
      insert: p(`INSERT INTO listing_sweeps (account_sid, run_id, started_at, range_after, range_on_or_before) VALUES (?, ?, ?, ?, ?)`),
      get: p(`SELECT * FROM listing_sweeps WHERE id = ?`),
      progress: p(`UPDATE listing_sweeps SET started_at = coalesce(?, started_at),
          covered_down_to = CASE WHEN ? THEN ? ELSE covered_down_to END, pages = pages + ?, faxes = faxes + ?
        WHERE id = ? AND completed_at IS NULL`),
      complete: p(`UPDATE listing_sweeps SET completed_at = ?, started_at = coalesce(?, started_at) WHERE id = ? AND completed_at IS NULL`),
      absorb: p(`UPDATE listing_sweeps SET completed_at = ?, absorbed_by = ? WHERE id = ? AND completed_at IS NULL`),
      all: p(`SELECT * FROM listing_sweeps ORDER BY id`),
      forAccount: p(`SELECT * FROM listing_sweeps WHERE account_sid = ? ORDER BY id`),
      accounts: p(`SELECT DISTINCT account_sid FROM listing_sweeps ORDER BY account_sid`),
    };
  }

  start(accountSid: string, range: { startedAt: string; rangeAfter: string | null; rangeOnOrBefore: string | null }, runId: number | null): ListingSweep {
    const id = Number(this.stmt.insert.run(accountSid, runId, range.startedAt, range.rangeAfter, range.rangeOnOrBefore).lastInsertRowid);
    return toSweep(this.stmt.get.get(id) as SweepDbRow);
  }

  progress(id: number, progress: SweepProgress): boolean {
    const setsCovered = progress.coveredDownTo !== undefined;
    return this.stmt.progress.run(progress.startedAt ?? null, setsCovered ? 1 : 0, progress.coveredDownTo ?? null, progress.pages ?? 0, progress.faxes ?? 0, id).changes > 0;
  }

  complete(id: number, at: string, options: { startedAt?: string; absorbs?: readonly number[] }): void {
    this.stmt.complete.run(at, options.startedAt ?? null, id);
    for (const other of options.absorbs ?? []) if (other !== id) this.stmt.absorb.run(at, id, other);
  }

  list(accountSid?: string): ListingSweep[] {
    const rows = (accountSid === undefined ? this.stmt.all.all() : this.stmt.forAccount.all(accountSid)) as SweepDbRow[];
    return rows.map(toSweep);
  }

  accounts(): string[] {
    return (this.stmt.accounts.all() as { account_sid: string }[]).map((r) => r.account_sid);
  }
}
