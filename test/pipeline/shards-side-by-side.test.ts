/**
 * Issue 15 §0: shards started at once from one working folder, each with its own --catalog, must not
 * touch each other's files. On the old layout every run emptied one shared `.spool/` at start and
 * removed it at the end, under the others' feet, and all of them wrote the same faxes.csv.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';

const EMULATOR_NOW = '2021-12-01T00:00:00Z';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('three shards side by side in one folder', () => {
  it('run at once as separate processes, each archives its own accounts with its own spool and CSV', async () => {
    const emu = await startTestEmulator({ faxes: 45, accounts: 5, seed: 15, latencyMs: 15 });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-shards-'));
      dirs.push(cwd);
      // A spool file an older version's run (sharing <folder>/.spool/) is writing right now: not ours to remove.
      mkdirSync(join(cwd, 'fax-archive', '.spool'), { recursive: true });
      const liveLegacy = join(cwd, 'fax-archive', '.spool', `FX${'1'.repeat(32)}.part`);
      const deadLegacy = join(cwd, 'fax-archive', '.spool', `FX${'2'.repeat(32)}.part`);
      writeFileSync(liveLegacy, 'bytes in flight');
      writeFileSync(deadLegacy, 'left by a kill two hours ago');
      const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
      utimesSync(deadLegacy, twoHoursAgo, twoHoursAgo);

      const runs = await Promise.all(
        [0, 1, 2].map((i) =>
          runCli(
            ['archive', '--subaccounts', '--shard', `${i}/3`, '--catalog', `fax-archive/shard-${i}.sqlite`, '--workers', '3', '--json', '--now', EMULATOR_NOW],
            { cwd, env: emu.env },
          ),
        ),
      );
      const archived = new Map<string, number>();
      for (const [i, run] of runs.entries()) {
        expect(run.code, run.stderr).toBe(0);
        const db = new Database(join(cwd, 'fax-archive', `shard-${i}.sqlite`), { readonly: true });
        const rows = db.prepare('SELECT sid, state FROM faxes').all() as { sid: string; state: string }[];
        db.close();
        expect(rows.filter((r) => r.state !== 'verified' && r.state !== 'metadata-only'), `shard ${i}`).toEqual([]);
        for (const row of rows) archived.set(row.sid, (archived.get(row.sid) ?? 0) + 1);
        // Its own CSV, holding exactly its own faxes.
        const csv = readFileSync(join(cwd, 'fax-archive', `shard-${i}.faxes.csv`), 'utf8').trim().split('\n').slice(1);
        expect(csv.map((line) => line.split(',')[0]).sort()).toEqual(rows.map((r) => r.sid).sort());
        // Its spool is gone once it finished.
        expect(existsSync(join(cwd, 'fax-archive', `shard-${i}.sqlite.spool`))).toBe(false);
      }
      expect([...archived.keys()].sort()).toEqual(emu.emulator.faxes().map((f) => String(f.sid)).sort());
      expect([...archived.values()].every((n) => n === 1)).toBe(true);
      expect(existsSync(join(cwd, 'fax-archive', 'faxes.csv'))).toBe(false);
      expect(existsSync(liveLegacy)).toBe(true);
      expect(existsSync(deadLegacy)).toBe(false);
    } finally {
      await emu.close();
    }
  });
});
