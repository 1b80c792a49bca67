import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireCatalogLock } from '../../src/catalog/catalog-lock.js';
import { runCli, stderrLines, summaryOf } from '../archive/archive-cli.js';
import { ACCOUNT_MAIN, ACCOUNT_SUB, faxSidFor } from '../report/archive-fixture.js';
import { buildRecordsWorld, type RecordsWorld } from './records-world.js';

let world: RecordsWorld;
const FORMULA_SID = faxSidFor(40);

beforeAll(async () => {
  world = await buildRecordsWorld('find', (catalog) => {
    // A number field a spreadsheet would run as a formula (Twilio passes SIP "from" text through).
    catalog.recordListed([{
      sid: FORMULA_SID, account_sid: ACCOUNT_SUB, from: '=HYPERLINK("http://evil.example/","x")', to: '+14155559999',
      status: 'received', direction: 'inbound', date_created: '2021-03-15T12:00:00Z', date_updated: '2021-03-15T12:00:00Z',
    }], null);
  });
});

afterAll(() => {
  if (world) rmSync(world.dir, { recursive: true, force: true });
});

function sqlSids(where: string, ...params: unknown[]): string[] {
  const db = new Database(world.catalogPath, { readonly: true });
  try {
    return (db.prepare(`SELECT sid FROM faxes WHERE ${where} ORDER BY created_key, sid`).all(...params) as { sid: string }[]).map((r) => r.sid);
  } finally {
    db.close();
  }
}

function jsonFaxes(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'fax');
}

describe('fax-sunset find', () => {
  it('--json: one fax line per match, oldest first, then exactly one summary line; filters combine (number, direction, account)', async () => {
    const run = await runCli(['find', '--catalog', world.catalogPath, '--json', '--from', '+1 (415) 555-0100', '--direction', 'inbound', '--account', ACCOUNT_MAIN], { cwd: world.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const expected = sqlSids(`from_number = '+14155550100' AND direction = 'inbound' AND account_sid = ?`, ACCOUNT_MAIN);
    expect(expected.length).toBeGreaterThan(2);
    expect(jsonFaxes(run.stdout).map((f) => f.sid)).toEqual(expected);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes('"event":"summary"'))).toHaveLength(1);
    expect(summaryOf(run)).toMatchObject({ command: 'find', exitCode: 0, matched: expected.length, filter: { from: '+14155550100', direction: 'inbound' } });
    expect(JSON.parse(lines[lines.length - 1]!).event).toBe('summary');
  });

  it('--since/--until take whole UTC days inclusive; --state, --sid prefix, --status select exactly', async () => {
    const day = '2021-03-15';
    const byDay = await runCli(['find', '--catalog', world.catalogPath, '--json', '--since', day, '--until', day], { cwd: world.dir });
    expect(jsonFaxes(byDay.stdout).map((f) => f.sid)).toEqual([FORMULA_SID]);
    const next = await runCli(['find', '--catalog', world.catalogPath, '--json', '--since', '2021-03-16', '--until', '2021-03-31'], { cwd: world.dir });
    expect(jsonFaxes(next.stdout)).toEqual([]);
    const deleted = await runCli(['find', '--catalog', world.catalogPath, '--json', '--state', 'deleted', '--sid', faxSidFor(5).slice(0, 33)], { cwd: world.dir });
    expect(jsonFaxes(deleted.stdout).map((f) => f.sid)).toEqual(sqlSids(`state = 'deleted' AND sid LIKE ?`, `${faxSidFor(5).slice(0, 33)}%`));
    // The two deleted faxes share that prefix (f005, f006); oldest first.
    expect(jsonFaxes(deleted.stdout).map((f) => f.sid)).toEqual([faxSidFor(6), faxSidFor(5)]);
    const one = await runCli(['find', '--catalog', world.catalogPath, '--json', '--sid', faxSidFor(5), '--status', 'received'], { cwd: world.dir });
    expect(jsonFaxes(one.stdout).map((f) => f.sid)).toEqual([faxSidFor(5)]);
  });

  it('CSV in a pipe: a header, one row per fax, formula cells neutralised, E.164 numbers untouched; runs while another run holds the lock', async () => {
    const lock = acquireCatalogLock(world.catalogPath, { command: 'sync' });
    try {
      const run = await runCli(['find', '--catalog', world.catalogPath, '--status', 'received'], { cwd: world.dir });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toBe('sid,account_sid,date_created,direction,status,state,from,to,num_pages,media_key,media_sha256,deleted_at');
      expect(lines).toHaveLength(1 + sqlSids(`status = 'received'`).length);
      const formulaRow = lines.find((l) => l.startsWith(FORMULA_SID))!;
      expect(formulaRow).toContain(`"'=HYPERLINK(""http://evil.example/"",""x"")"`);
      expect(formulaRow).toContain(',+14155559999,');
    } finally {
      lock.release();
    }
  });

  it('bad input: one line, exit 2, and a phone number given is never repeated', async () => {
    const run = await runCli(['find', '--catalog', world.catalogPath, '--to', 'call 4155550123', '--json'], { cwd: world.dir });
    expect(run.code).toBe(2);
    expect(stderrLines(run)).toHaveLength(1);
    expect(run.stderr).toContain('--to must be a phone number');
    expect(run.stderr + run.stdout).not.toContain('4155550123');
    expect(summaryOf(run)).toMatchObject({ command: 'find', exitCode: 2 });
    const missing = await runCli(['find', '--catalog', `${world.dir}/nope.sqlite`], { cwd: world.dir });
    expect(missing.code).toBe(2);
    expect(stderrLines(missing)).toHaveLength(1);
  });
});
