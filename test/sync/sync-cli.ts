/**
 * What the sync/verify proof tests share: the real CLI in its own process (its own exit code,
 * stdout and stderr, as a scheduler sees them), and looks at the catalog and the CSV that do not go
 * through the code under test (better-sqlite3 straight on the file, fs.stat on the CSV).
 *
 * The CLI is spawned asynchronously: the emulator runs inside the test process, and a blocking
 * spawnSync would stop it from answering the child's requests.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

export { REPO, runCli, type CliRun } from '../support/cli-process.js';
import type { CliRun } from '../support/cli-process.js';
/** The emulator's default clock: Twilio's 180-day retention is measured from it. */
export const EMULATOR_NOW = '2021-12-01T00:00:00Z';

/** The one JSON line `--json` must print on stdout; throws (failing the test) when there is not exactly one. */
export function onlySummaryLine(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected exactly one line on stdout, got ${lines.length}:\n${run.stdout}\nstderr:\n${run.stderr}`);
  const value = JSON.parse(lines[0]!) as Record<string, unknown>;
  if (value.event !== 'summary') throw new Error(`stdout's line is not a summary: ${lines[0]}`);
  return value;
}

/** stderr's JSON lines (the progress log of a --json run). */
export function stderrEvents(run: CliRun): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of run.stderr.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a human line: not an event
    }
  }
  return events;
}

/** Rows per table, read straight from the file: what a run wrote, without asking the catalog. */
export function tableCounts(catalogPath: string): Record<string, number> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[];
    const counts: Record<string, number> = {};
    for (const { name } of tables) counts[name] = (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
    return counts;
  } finally {
    db.close();
  }
}

/** A digest of every fax row (state, columns, raw JSON): equal before and after means nothing changed. */
export function faxRowsFingerprint(catalogPath: string): string {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify([
      db.prepare('SELECT * FROM faxes ORDER BY sid').all(),
      db.prepare('SELECT * FROM objects ORDER BY fax_sid, kind').all(),
      db.prepare('SELECT * FROM fax_history ORDER BY id').all(),
    ]);
  } finally {
    db.close();
  }
}

export function eventTypesAfter(catalogPath: string, afterId: number): string[] {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT type FROM events WHERE id > ? ORDER BY id').all(afterId) as { type: string }[]).map((r) => r.type);
  } finally {
    db.close();
  }
}

export function fileStamp(path: string): { size: number; mtimeMs: number } {
  const st = statSync(path);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** Faxes by state, straight from the file. */
export function faxStates(catalogPath: string): Map<string, { state: string; dateCreated: string | null; mediaSid: string | null }> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT sid, state, date_created, media_sid FROM faxes').all() as { sid: string; state: string; date_created: string | null; media_sid: string | null }[];
    return new Map(rows.map((r) => [r.sid, { state: r.state, dateCreated: r.date_created, mediaSid: r.media_sid }]));
  } finally {
    db.close();
  }
}
