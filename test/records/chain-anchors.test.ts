/**
 * Issue 18 §6: the chain's head kept where the catalog cannot reach. A real archive run against the
 * emulator writes `_anchors/<run-id>.json` into a folder store; verify and report check the catalog
 * against it; a catalog rewritten afterwards with a recomputed chain (computed here from the formula
 * in event-chain.ts's comment, not with the project's code) is still caught.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { runCli, summaryOf, type CliRun } from '../archive/archive-cli.js';

let emu: TestEmulator;
let dir: string;
let catalogPath: string;
let storePath: string;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 5, accounts: 1, numbers: 1, seed: 1818 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-anchors-'));
  catalogPath = join(dir, 'catalog.sqlite');
  storePath = join(dir, 'media');
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: dir, env: emu.env, timeoutMs: 60_000 });
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
  return value;
}

/** What someone with write access to the file does: change an event and recompute every hash after it. */
function rewriteHistory(path: string): void {
  const db = new Database(path);
  try {
    // Whoever can rewrite the file can drop the append-only triggers first.
    for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'`).all() as { name: string }[]) db.exec(`DROP TRIGGER "${name}"`);
    const events = db.prepare('SELECT id, at, type, fax_sid, data FROM events ORDER BY id').all() as Array<{ id: number; at: string; type: string; fax_sid: string | null; data: string }>;
    const victim = events.find((e) => e.type === 'stored')!;
    const data = JSON.parse(victim.data);
    data.objects[0].sha256 = 'f'.repeat(64);
    db.prepare('UPDATE events SET data = ? WHERE id = ?').run(JSON.stringify(sorted(data)), victim.id);
    let prev = '0'.repeat(64);
    const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?');
    for (const e of db.prepare('SELECT id, at, type, fax_sid, data FROM events ORDER BY id').all() as typeof events) {
      const body = JSON.stringify(sorted({ id: e.id, at: e.at, type: e.type, fax_sid: e.fax_sid, data: JSON.parse(e.data) }));
      const hash = createHash('sha256').update(prev + body).digest('hex');
      update.run(prev, hash, e.id);
      prev = hash;
    }
  } finally {
    db.close();
  }
}

describe('chain anchors in the store', () => {
  it('every archive run writes its anchor; verify and report match it; a catalog rewritten with a recomputed chain is caught', async () => {
    const archive = await cli(['archive', '--json', '--catalog', catalogPath, '--store', storePath]);
    expect(archive.code, archive.stderr).toBe(0);
    const anchors = readdirSync(join(storePath, '_anchors'));
    expect(anchors).toHaveLength(1);
    expect(anchors[0]).toMatch(/^00000001-[0-9a-f]{16}\.json$/);
    const anchor = JSON.parse(readFileSync(join(storePath, '_anchors', anchors[0]!), 'utf8'));
    const db = new Database(catalogPath, { readonly: true });
    const head = db.prepare('SELECT id, hash FROM events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string };
    db.close();
    expect(anchor).toMatchObject({ run: { id: 1, kind: 'archive', exitCode: 0 }, chain: { events: head.id, headHash: head.hash }, counts: { listed: expect.any(Number) } });

    const verify = await cli(['verify', '--json', '--catalog', catalogPath]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(summaryOf(verify)).toMatchObject({ anchors: { checked: 1, matched: 1, mismatched: [], latest: { runId: 1, matched: true } } });
    // verify is a run too, but not an archive/sync: the store still holds one anchor.
    expect(readdirSync(join(storePath, '_anchors'))).toHaveLength(1);

    const report = await cli(['report', '--out', join(dir, 'report'), '--json', '--catalog', catalogPath]);
    expect(report.code, report.stderr).toBe(0);
    expect(summaryOf(report)).toMatchObject({ anchors: { checked: 1, matched: 1, latest: { runId: 1, matched: true } } });
    expect(readFileSync(join(dir, 'report', 'report.html'), 'utf8')).toContain(anchor.chain.headHash);

    // Tamper with a copy: its chain is intact by its own account, and the anchor still catches it.
    const tampered = join(dir, 'tampered.sqlite');
    copyFileSync(catalogPath, tampered);
    rewriteHistory(tampered);
    const again = await cli(['verify', '--json', '--catalog', tampered]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`does NOT match the anchor _anchors/${anchors[0]}`);
    expect(summaryOf(again)).toMatchObject({ anchors: { matched: 0, mismatched: [expect.objectContaining({ problem: expect.stringContaining('changed after that run') })] } });
    const badReport = await cli(['report', '--out', join(dir, 'report-tampered'), '--json', '--catalog', tampered]);
    expect(badReport.code).toBe(1);
    expect(summaryOf(badReport)).toMatchObject({ chain: { intact: true }, anchors: { matched: 0, latest: { matched: false } } });
  });
});
