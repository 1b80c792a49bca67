/**
 * Issue 17 §8: the approved hash of a numbers plan is plan.json's own SHA-256, the one
 * `sha256sum plan.json` prints; plan.md shows it; `apply` compares with it, says which hash is
 * which when given the wrong kind, and does not change numbers with `--yes` alone. The real CLI
 * against the emulator; `sha256sum` (coreutils) as the auditor's independent tool.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';

let emu: TestEmulator;
let dir: string;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 4, numbers: 4, accounts: 0, seed: 88 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-plan-hash-'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const faxModeCount = (): number => emu.emulator.numbers().filter((n) => n.voice_receive_mode === 'fax').length;
const cli = (args: string[]) => runCli(args[1] === 'apply' ? [...args, '--catalog', join(dir, 'catalog.sqlite')] : args, { cwd: dir, env: emu.env });

/** What coreutils says, not the code under test. */
function sha256sum(path: string): string {
  const run = spawnSync('sha256sum', [path], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`sha256sum failed: ${run.stderr}`);
  return run.stdout.split(/\s+/)[0]!;
}

describe('the plan hash an auditor can recompute', () => {
  let fileHash = '';
  let contentHash = '';

  it('plan.md and `numbers plan` show the SHA-256 that `sha256sum plan.json` prints', async () => {
    const run = await cli(['numbers', 'plan', '--voice-url', 'https://voice.example.org/in', '--out', join(dir, 'plan')]);
    expect(run.code, run.stderr).toBe(0);
    fileHash = sha256sum(join(dir, 'plan', 'plan.json'));
    const md = readFileSync(join(dir, 'plan', 'plan.md'), 'utf8');
    expect(/^Plan SHA-256: `([0-9a-f]{64})`/m.exec(md)?.[1]).toBe(fileHash);
    expect(md).toContain(`numbers apply plan.json --expect-sha256 ${fileHash}`);
    expect(run.stdout).toContain(`--expect-sha256 ${fileHash}`);
    contentHash = (JSON.parse(readFileSync(join(dir, 'plan', 'plan.json'), 'utf8')) as { sha256: string }).sha256;
    expect(contentHash).not.toBe(fileHash);
    expect(faxModeCount()).toBeGreaterThan(0);
  });

  it('`apply --yes` without --expect-sha256 changes nothing and says what to pass (exit 2)', async () => {
    const before = faxModeCount();
    const run = await cli(['numbers', 'apply', join(dir, 'plan', 'plan.json'), '--yes']);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/needs --expect-sha256 .*sha256sum .*plan\.json/);
    expect(faxModeCount()).toBe(before);
  });

  it('the content hash inside plan.json is refused with a message naming the file hash', async () => {
    const run = await cli(['numbers', 'apply', join(dir, 'plan', 'plan.json'), '--expect-sha256', contentHash, '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`sha256sum plan.json: ${fileHash}`);
    const other = await cli(['numbers', 'apply', join(dir, 'plan', 'plan.json'), '--expect-sha256', '0'.repeat(64), '--yes']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(new RegExp(`\\(sha256sum plan\\.json\\) is ${fileHash}, not the approved 0{64}`));
  });

  it('the file hash applies the plan', async () => {
    const run = await cli(['numbers', 'apply', join(dir, 'plan', 'plan.json'), '--expect-sha256', fileHash.toUpperCase(), '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(faxModeCount()).toBe(0);
    const summary = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'summary')!;
    expect(summary.planFileSha256).toBe(fileHash);
  });
});
