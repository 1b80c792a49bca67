import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stderrLines, summaryOf } from '../archive/archive-cli.js';
import { ACCOUNT_MAIN, faxSidFor } from '../report/archive-fixture.js';
import { buildRecordsWorld, type RecordsWorld } from './records-world.js';

let world: RecordsWorld;
const UPDATED = faxSidFor(1);
const DELETED = faxSidFor(6); // deleted with a 204 receipt and a request id

beforeAll(async () => {
  world = await buildRecordsWorld('show', (catalog) => {
    // A newer metadata version of fax 1 (Twilio's date_updated moved, same media): the old one goes to history.
    const current = catalog.getFax(UPDATED)!;
    catalog.recordListed([{ ...current.raw, sid: UPDATED, account_sid: ACCOUNT_MAIN, date_updated: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), price: '-0.01400' }], null);
  });
});

afterAll(() => {
  if (world) rmSync(world.dir, { recursive: true, force: true });
});

function db<T>(sql: string, ...params: unknown[]): T[] {
  const handle = new Database(world.catalogPath, { readonly: true });
  try {
    return handle.prepare(sql).all(...params) as T[];
  } finally {
    handle.close();
  }
}

describe('fax-sunset show', () => {
  it('text: the objects with hashes and how each was verified, the pre-delete proof, the receipt and the events', async () => {
    const run = await runCli(['show', DELETED, '--catalog', world.catalogPath], { cwd: world.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const o of db<{ key: string; sha256: string; verification_method: string }>('SELECT key, sha256, verification_method FROM objects WHERE fax_sid = ?', DELETED)) {
      expect(run.stdout).toContain(o.key);
      expect(run.stdout).toContain(`sha256 ${o.sha256}`);
      expect(run.stdout).toMatch(new RegExp(`verified \\S+ by ${o.verification_method}`));
    }
    const [deletion] = db<{ proof_at: string; request_id: string; proof: string }>('SELECT proof_at, request_id, proof FROM deletions WHERE fax_sid = ?', DELETED);
    expect(run.stdout).toContain(`pre-delete proof ${deletion!.proof_at}`);
    expect(run.stdout).toContain(`HTTP 204, request ${deletion!.request_id}`);
    for (const p of JSON.parse(deletion!.proof) as Array<{ sha256: string }>) expect(run.stdout).toContain(`sha256 ${p.sha256}`);
    for (const e of db<{ id: number; type: string }>('SELECT id, type FROM events WHERE fax_sid = ?', DELETED)) expect(run.stdout).toContain(`#${e.id} `);
    expect(run.stdout).toContain('deletion-receipt');
  });

  it('--json: every metadata version (the superseded one from history first), one fax line per sid and one summary line', async () => {
    const run = await runCli(['show', UPDATED, DELETED, '--catalog', world.catalogPath, '--json'], { cwd: world.dir });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.map((l) => l.event)).toEqual(['fax', 'fax', 'summary']);
    const updated = lines[0]!;
    expect(updated.versions).toHaveLength(2);
    expect(updated.versions[0].supersededAt).toEqual(expect.any(String));
    expect(updated.versions[0].raw.price).toBe('-0.00700');
    expect(updated.versions[1]).toMatchObject({ supersededAt: null, raw: { price: '-0.01400' } });
    expect(lines[1]!.deletions[0]).toMatchObject({ httpStatus: 204, proofMethod: expect.any(String), proofObjects: expect.any(Array) });
    expect(summaryOf(run)).toMatchObject({ command: 'show', exitCode: 0, shown: 2, missing: [] });
  });

  it('a sid the catalog does not know: one line and exit 1; a malformed sid: exit 2', async () => {
    const unknown = `FX${'ab'.repeat(16)}`;
    const run = await runCli(['show', unknown, '--catalog', world.catalogPath], { cwd: world.dir });
    expect(run.code).toBe(1);
    expect(stderrLines(run)).toEqual([expect.stringContaining(`${unknown} is not in the catalog`)]);
    const bad = await runCli(['show', 'FX123', '--catalog', world.catalogPath], { cwd: world.dir });
    expect(bad.code).toBe(2);
    expect(stderrLines(bad)).toHaveLength(1);
  });
});
