/**
 * `--shard i/n` splits an ISV's subaccounts between n archivers, each with its own catalog: every
 * account is archived by exactly one shard, the main account by shard 0, and together they archive
 * everything once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOf } from '../../src/pipeline/account-shard.js';
import { UsageError } from '../../src/errors.js';
import { startTestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';

const EMULATOR_NOW = '2021-12-01T00:00:00Z';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('shards (pure)', () => {
  it('parses i/n with 0 <= i < n and refuses anything else', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
    for (const bad of ['4/4', '1/0', '-1/2', '1', 'a/b', '1/2/3']) expect(() => parseShard(bad)).toThrow(UsageError);
  });

  it('puts every account in exactly one shard, stably, the main account in 0', () => {
    const main = `AC${'0'.repeat(32)}`;
    const subs = Array.from({ length: 200 }, (_, i) => `AC${(i + 1).toString(16).padStart(32, '0')}`);
    for (const sid of subs) {
      const owners = [0, 1, 2, 3].filter((index) => inShard(sid, main, { index, count: 4 }));
      expect(owners).toEqual([shardOf(sid, 4)]);
      expect(shardOf(sid, 4)).toBe(shardOf(sid, 4));
    }
    expect([0, 1, 2].filter((index) => inShard(main, main, { index, count: 3 }))).toEqual([0]);
    // Spread: no shard of four is empty over 200 accounts.
    expect(new Set(subs.map((sid) => shardOf(sid, 4))).size).toBe(4);
  });
});

describe('archive --subaccounts --shard', () => {
  it('two shards with their own catalogs archive every fax exactly once between them', async () => {
    const emu = await startTestEmulator({ faxes: 40, accounts: 4, seed: 12 });
    try {
      const catalogs: Map<string, string>[] = [];
      for (const shard of ['0/2', '1/2']) {
        const cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-shard-'));
        dirs.push(cwd);
        const run = await runCli(['archive', '--subaccounts', '--shard', shard, '--json', '--now', EMULATOR_NOW], { cwd, env: emu.env });
        expect(run.code, run.stderr).toBe(0);
        const db = new Database(join(cwd, 'fax-archive/catalog.sqlite'), { readonly: true });
        const rows = db.prepare("SELECT sid, account_sid AS account FROM faxes WHERE state IN ('verified', 'metadata-only')").all() as { sid: string; account: string }[];
        db.close();
        catalogs.push(new Map(rows.map((row) => [row.sid, row.account])));
      }
      const [first, second] = catalogs as [Map<string, string>, Map<string, string>];
      const everyFax = emu.emulator.faxes().map((fax) => String(fax.sid)).sort();
      expect([...first.keys(), ...second.keys()].sort()).toEqual(everyFax);
      // Whole accounts per shard, the main account's in shard 0.
      const accountsOf = (m: Map<string, string>) => new Set(m.values());
      for (const account of accountsOf(first)) expect(accountsOf(second).has(account)).toBe(false);
      expect(accountsOf(first).has(emu.accountSid)).toBe(true);
    } finally {
      await emu.close();
    }
  });

  it('refuses --shard without --subaccounts, and a shard outside 0..n-1, with exit 2', async () => {
    const emu = await startTestEmulator({ faxes: 2, accounts: 0, seed: 3 });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-shard-'));
      dirs.push(cwd);
      const alone = await runCli(['archive', '--shard', '0/2'], { cwd, env: emu.env });
      expect(alone.code).toBe(2);
      expect(alone.stderr).toMatch(/--shard splits the subaccounts/);
      const outside = await runCli(['archive', '--subaccounts', '--shard', '2/2'], { cwd, env: emu.env });
      expect(outside.code).toBe(2);
      expect(outside.stderr).toMatch(/--shard must be i\/n/);
      expect(emu.emulator.stats().mediaRequests).toBe(0);
    } finally {
      await emu.close();
    }
  });
});
