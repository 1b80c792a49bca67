/**
 * `serve --sync-every`: serve holds the catalog's lock for its whole life, so the nightly `sync`
 * cannot run beside it. With --sync-every it lists the accounts itself, like sync, and its archive
 * worker archives what was found: faxes that never passed the webhook (an outbound fax sent by
 * another system, a subaccount's fax) still reach the archive during the migration window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestEmulator } from '../support/emulator.js';
import { runCli, spawnCli } from '../support/cli-process.js';
import { waitFor } from './webhook-harness.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function archivedStates(catalogPath: string): Map<string, string> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT sid, state FROM faxes').all() as { sid: string; state: string }[];
    return new Map(rows.map((row) => [row.sid, row.state]));
  } finally {
    db.close();
  }
}

const DONE = new Set(['verified', 'metadata-only']);

describe('serve --sync-every', () => {
  it('archives faxes that never pass the webhook, across subaccounts, while serving; SIGTERM exits 0', async () => {
    const emu = await startTestEmulator({ faxes: 12, accounts: 1, numbers: 2, seed: 31 });
    const cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-serve-sync-'));
    dirs.push(cwd);
    const catalogPath = join(cwd, 'fax-archive/catalog.sqlite');
    const child = spawnCli(['serve', '--json', '--port', '0', '--sync-every', '1s', '--subaccounts'], { cwd, env: emu.env });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const everySid = () => emu.emulator.faxes().map((fax) => String(fax.sid));
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`serve exited early: ${stdout}`);
        try {
          const states = archivedStates(catalogPath);
          return everySid().every((sid) => DONE.has(states.get(sid) ?? '')) && states.size === everySid().length;
        } catch {
          return false; // the catalog is not created yet
        }
      }, 'every fax of both accounts archived by the periodic listing', 30_000);

      // A fax sent by another system to the subaccount, after serve started: no webhook is involved.
      const sub = emu.emulator.accounts[1]!;
      const fresh = emu.emulator.createFax({ accountSid: sub.sid, status: 'delivered', direction: 'outbound' }) as { sid: string };
      await waitFor(() => archivedStates(catalogPath).get(fresh.sid) === 'verified', `the new fax ${fresh.sid} archived`, 30_000);

      const events = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(events.find((e) => e.event === 'serve-started')?.syncEverySeconds).toBe(1);
      expect(events.filter((e) => e.event === 'listing-done').length).toBeGreaterThanOrEqual(2);
      expect(stdout).not.toContain(emu.authToken);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await emu.close();
    }
  });

  it('refuses a bad interval, or --subaccounts without --sync-every, with exit 2 before listening', async () => {
    const emu = await startTestEmulator({ faxes: 1, accounts: 0, seed: 2 });
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-serve-sync-'));
      dirs.push(cwd);
      const tooShort = await runCli(['serve', '--port', '0', '--sync-every', '0.5s'], { cwd, env: emu.env });
      expect(tooShort.code).toBe(2);
      expect(tooShort.stderr).toMatch(/--sync-every must be a duration/);
      const scopeless = await runCli(['serve', '--port', '0', '--subaccounts'], { cwd, env: emu.env });
      expect(scopeless.code).toBe(2);
      expect(scopeless.stderr).toMatch(/--subaccounts only makes sense with --sync-every/);
    } finally {
      await emu.close();
    }
  });
});
