/**
 * Two promises of the archive run that only show end to end:
 * - a scheduler's SIGTERM stops it cleanly: the faxes in flight finish, nothing new starts, no
 *   deletion is sent after the signal, the run record is finished, the lock is released, exit 1,
 *   and the next run finishes the job;
 * - faxes close to Twilio's 180-day pruning go first across ALL accounts, not account by account.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestEmulator } from '../support/emulator.js';
import { spawnCli } from '../support/cli-process.js';
import { EMULATOR_NOW, onlySummaryLine, runCli, stderrEvents, type CliRun } from '../sync/sync-cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-stop-'));
  dirs.push(dir);
  return dir;
}

/** Spawns the CLI and sends SIGTERM once the first fax is reported archived. */
function runAndTerminate(args: string[], cwd: string, env: Record<string, string>): Promise<CliRun & { signalled: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, { cwd, env });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (!signalled && stderr.includes('"event":"fax"')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, signalled });
    });
  });
}

describe('archive stopped by SIGTERM', () => {
  it('finishes what is in flight, sends no deletion after the signal, releases the lock, exits 1; the rerun finishes', async () => {
    // Latency makes the run long enough to be stopped in the middle.
    const emu = await startTestEmulator({ faxes: 80, accounts: 0, seed: 21, latencyMs: 30 });
    try {
      const cwd = tempDir();
      const args = ['archive', '--delete', '--json', '--workers', '2', '--now', EMULATOR_NOW];
      const before = emu.emulator.faxes().length;
      const stopped = await runAndTerminate(args, cwd, emu.env);
      expect(stopped.signalled).toBe(true);
      expect(stopped.code).toBe(1);
      const summary = onlySummaryLine(stopped);
      expect(summary.stopped).toBe(true);
      expect(Number(summary.unfinished)).toBeGreaterThan(0);
      expect(summary.deleted).toBe(0);
      expect(stderrEvents(stopped).some((e) => e.event === 'warning' && String(e.message).startsWith('SIGTERM'))).toBe(true);
      expect(emu.emulator.faxes()).toHaveLength(before);
      expect(existsSync(join(cwd, 'fax-archive/catalog.sqlite.lock'))).toBe(false);
      const db = new Database(join(cwd, 'fax-archive/catalog.sqlite'), { readonly: true });
      const run = db.prepare('SELECT finished_at, exit_code FROM runs ORDER BY id DESC LIMIT 1').get() as { finished_at: string | null; exit_code: number };
      db.close();
      expect(run.finished_at).not.toBeNull();
      expect(run.exit_code).toBe(1);

      const rerun = await runCli(args, { cwd, env: emu.env });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(emu.emulator.faxes()).toHaveLength(0);
    } finally {
      await emu.close();
    }
  });
});

describe('at-risk faxes', () => {
  it('are archived before any other fax, across every account', async () => {
    const emu = await startTestEmulator({ faxes: 60, accounts: 2, seed: 8 });
    try {
      const sub = emu.emulator.accounts[emu.emulator.accounts.length - 1]!;
      // The one fax near pruning lives in the LAST account listed; account-by-account order would reach it last.
      const now = Date.parse(EMULATOR_NOW);
      const old = emu.emulator.createFax({ accountSid: sub.sid, dateCreated: new Date(now - 176 * 86_400_000).toISOString() }) as { sid: string };
      const cwd = tempDir();
      const run = await runCli(['archive', '--subaccounts', '--json', '--workers', '1', '--now', EMULATOR_NOW], { cwd, env: emu.env });
      expect(run.code, run.stderr).toBe(0);
      const summary = onlySummaryLine(run);
      const atRiskSids = summary.atRiskSids as string[];
      expect(atRiskSids).toContain(old.sid);
      expect(Number(summary.atRisk)).toBe(atRiskSids.length); // all named, so the set below is complete
      const archivedOrder = stderrEvents(run).filter((e) => e.event === 'fax').map((e) => e.sid);
      expect(archivedOrder.length).toBeGreaterThan(atRiskSids.length);
      // The first ones archived are exactly the at-risk ones, in the order named (oldest first).
      expect(archivedOrder.slice(0, atRiskSids.length)).toEqual(atRiskSids);
    } finally {
      await emu.close();
    }
  });
});
