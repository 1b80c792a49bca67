/**
 * What a new operator reads and pipes (issue 17 §4, §10, §11): every command's --help carries the
 * exit-code table and shows defaults as typed; `--voice-method` lists its two values once; `serve`
 * and `numbers plan` take --quiet; `verify` refuses the writers' store flags and takes `--verify
 * full` like the writers; a reader that stops early (`| head`) is no crash; on a terminal the
 * emulator prints ready-to-paste exports and `--delete` asks first (tested in a pseudo-terminal).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildCommandTree } from '../../src/program.js';
import { EXIT_CODES_HELP } from '../../src/commands/summary-line.js';
import { deletionNeedsConfirmation } from '../../src/commands/delete-confirmation.js';
import { REPO, spawnCli } from '../support/cli-process.js';

const TSX_LOADER = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const CLI = join(REPO, 'src', 'cli.ts');
const HAS_SCRIPT = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

function everyCommand(root: Command): Command[] {
  return root.commands.flatMap((c) => [c, ...everyCommand(c)]);
}

const tree = buildCommandTree(async () => 0);
const find = (path: string): Command => path.split(' ').reduce<Command>((c, name) => c.commands.find((s) => s.name() === name)!, tree);

describe('--help', () => {
  it('every command shows the exit-code table, and no default in quotes', () => {
    const commands = everyCommand(tree);
    expect(commands.map((c) => c.name())).toEqual(expect.arrayContaining(['archive', 'sync', 'verify', 'report', 'serve', 'emulator', 'demo', 'plan', 'apply', 'rollback']));
    for (const command of commands) {
      const help = helpOf(command);
      expect(help, command.name()).toContain(EXIT_CODES_HELP.trim());
      expect(help, command.name()).not.toMatch(/default: "/);
    }
    expect(helpOf(find('archive'))).toMatch(/--workers <n>\s+faxes archived at once \(default: 16\)/);
  });

  it('--voice-method names GET and POST once; serve and numbers plan take --quiet', () => {
    const plan = helpOf(find('numbers plan'));
    expect(plan.match(/GET/g)).toHaveLength(1);
    expect(plan).not.toMatch(/"get"|"post"/);
    expect(plan).toContain('--quiet');
    expect(helpOf(find('serve'))).toContain('--quiet');
  });

  it('store flags have environment variables; verify takes --verify full (and --full), not the writers\' store flags', () => {
    const archive = helpOf(find('archive'));
    for (const env of ['FAX_SUNSET_SSE', 'FAX_SUNSET_KMS_KEY_ID', 'FAX_SUNSET_RETAIN_UNTIL', 'FAX_SUNSET_LOCK_MODE', 'FAX_SUNSET_STORAGE_CLASS', 'FAX_SUNSET_S3_ENDPOINT']) {
      expect(archive).toContain(env);
    }
    const verify = helpOf(find('verify'));
    expect(verify).toMatch(/--verify <method>/);
    expect(verify).toMatch(/--full/);
    expect(verify).toContain('--s3-endpoint');
    for (const flag of ['--sse', '--kms-key-id', '--retain-until', '--lock-mode', '--storage-class', '--media-concurrency']) expect(verify).not.toContain(flag);
    expect(helpOf(find('archive'))).toMatch(/-y, --yes/);
  });
});

describe('the --delete confirmation', () => {
  it('asks only on a terminal, never with --yes or --json; without a terminal (cron) it proceeds as before', () => {
    const tty = { stdin: true, stderr: true };
    expect(deletionNeedsConfirmation({}, tty)).toBe(true);
    expect(deletionNeedsConfirmation({ yes: true }, tty)).toBe(false);
    expect(deletionNeedsConfirmation({ json: true }, tty)).toBe(false);
    expect(deletionNeedsConfirmation({}, { stdin: false, stderr: true })).toBe(false);
    expect(deletionNeedsConfirmation({}, { stdin: true, stderr: false })).toBe(false);
  });
});

/** Runs `fax-sunset <args>` in a pseudo-terminal (util-linux `script`), feeding `input`; resolves once `until` appears or it ends. */
function inTerminal(args: string[], options: { input?: string; until?: RegExp; env?: Record<string, string> } = {}): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, '--import', TSX_LOADER, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qefc', `stty cols 80; ${command}`, '/dev/null'], {
    cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
  });
  let screen = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
    const onData = (chunk: Buffer) => {
      screen += chunk.toString('utf8');
      if (options.until?.test(screen)) {
        clearTimeout(timer);
        process.kill(-child.pid!, 'SIGTERM');
      }
      if (options.input !== undefined && /\[y\/N\]/.test(screen)) {
        child.stdin.end(options.input);
        options.input = undefined;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe('on a terminal, and in a pipe', () => {
  it.skipIf(!HAS_SCRIPT)('the emulator prints ready-to-paste export lines (skipped without util-linux script)', async () => {
    const { screen } = await inTerminal(['emulator', '--faxes', '1', '--accounts', '0', '--numbers', '0'], { until: /export TWILIO_AUTH_TOKEN=\S+/ });
    expect(screen).toMatch(/export FAX_SUNSET_TWILIO_URL=http:\/\/127\.0\.0\.1:\d+/);
    expect(screen).toMatch(/export TWILIO_ACCOUNT_SID=AC[0-9a-f]{32}/);
    expect(screen).toMatch(/export TWILIO_AUTH_TOKEN=[0-9a-f]{32}/);
  });

  it.skipIf(!HAS_SCRIPT)('archive --delete asks first on a terminal; "n" deletes nothing and exits 2 (skipped without util-linux script)', async () => {
    const { startTestEmulator } = await import('../support/emulator.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const emu = await startTestEmulator({ faxes: 3, accounts: 0, numbers: 0, seed: 17 });
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-confirm-'));
    try {
      const { code, screen } = await inTerminal(
        ['archive', '--delete', '--quiet', '--catalog', join(dir, 'catalog.sqlite'), '--store', join(dir, 'media'), '--now', '2021-12-01T00:00:00Z'],
        { input: 'n\n', env: emu.env },
      );
      expect(screen).toMatch(/Delete from Twilio every fax proven archived by this run .*\[y\/N\]/);
      expect(screen).toMatch(/not confirmed: nothing was deleted/);
      expect(code).toBe(2);
      expect(emu.emulator.faxes()).toHaveLength(3);
    } finally {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reader that stops early (report | head) is no crash: no EPIPE stack, the command\'s own exit code', async () => {
    const child = spawnCli(['archive', '--help'], { cwd: REPO });
    (child.stdout as unknown as { destroy(): void }).destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
    expect(code).toBe(0);
  });
});

describe('an unopenable catalog lock', () => {
  it('says which file and why in the operator\'s words, not "liveness lock ... SQLITE_CANTOPEN"', async () => {
    const { mkdirSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { acquireCatalogLock } = await import('../../src/catalog/catalog-lock.js');
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-lock-message-'));
    try {
      const catalog = join(dir, 'catalog.sqlite');
      mkdirSync(`${catalog}.lock.alive`); // a folder where the lock's file must go: refused even for root
      expect(() => acquireCatalogLock(catalog, { command: 'test' })).toThrow(/^cannot create the catalog's lock .*catalog\.sqlite\.lock\.alive: .*pass --catalog with a writable folder$/);
      try {
        acquireCatalogLock(catalog, { command: 'test' });
      } catch (error) {
        expect((error as Error).message).not.toMatch(/liveness|SQLITE_/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('numbers plan/apply/rollback --json', () => {
  it('print exactly one summary line on stdout each; the per-number results go to stderr', async () => {
    const { startTestEmulator } = await import('../support/emulator.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { runCli } = await import('../support/cli-process.js');
    const emu = await startTestEmulator({ faxes: 1, accounts: 0, numbers: 4, seed: 44 });
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-numbers-json-'));
    const cli = (args: string[]) => runCli(args, { cwd: dir, env: emu.env, timeoutMs: 60_000 });
    const onlyLine = (stdout: string): Record<string, unknown> => {
      const lines = stdout.split('\n').filter((l) => l.trim() !== '');
      expect(lines, stdout).toHaveLength(1);
      return JSON.parse(lines[0]!) as Record<string, unknown>;
    };
    try {
      const plan = await cli(['numbers', 'plan', '--voice-url', 'https://voice.example.com/in', '--out', join(dir, 'plan'), '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const planned = onlyLine(plan.stdout);
      expect(planned).toMatchObject({ event: 'summary', command: 'numbers plan' });
      const changes = (planned.counts as { toChange: number }).toChange;
      expect(changes).toBeGreaterThan(1);
      const apply = await cli(['numbers', 'apply', join(dir, 'plan', 'plan.json'), '--expect-sha256', String(planned.sha256), '--yes', '--json', '--catalog', join(dir, 'catalog.sqlite')]);
      expect(apply.code, apply.stderr).toBe(0);
      expect(onlyLine(apply.stdout)).toMatchObject({ event: 'summary', command: 'numbers apply', exitCode: 0 });
      expect(apply.stderr.split('\n').filter((l) => l.includes('"event":"number"'))).toHaveLength(changes);
      const rollback = await cli(['numbers', 'rollback', join(dir, 'plan', 'rollback.json'), '--yes', '--json', '--catalog', join(dir, 'catalog.sqlite')]);
      expect(rollback.code, rollback.stderr).toBe(0);
      expect(onlyLine(rollback.stdout)).toMatchObject({ event: 'summary', command: 'numbers rollback', exitCode: 0 });
    } finally {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('numbers plan against an unreachable Twilio', () => {
  it('exits 2 (a wrong --twilio-url), not 1, with one JSON summary line naming the host', async () => {
    const { freePort } = await import('../../src/free-port.js');
    const { mkdtempSync, rmSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { runCli } = await import('../support/cli-process.js');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-numbers-unreachable-'));
    try {
      const run = await runCli(['numbers', 'plan', '--voice-url', 'https://voice.example.com/in', '--out', join(dir, 'plan'), '--json', '--twilio-url', `http://127.0.0.1:${port}`], {
        cwd: dir, env: { TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'not-a-real-token' }, timeoutMs: 60_000,
      });
      expect(run.code, run.stderr).toBe(2);
      const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'summary', command: 'numbers plan', exitCode: 2 });
      expect(JSON.parse(lines[0]!).error).toContain(`127.0.0.1:${port}`);
      expect(existsSync(join(dir, 'plan'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a command line commander refuses, with --json', () => {
  it('still leaves one summary line with exit code 2', async () => {
    const { runCli } = await import('../support/cli-process.js');
    const run = await runCli(['archive', '--no-such-flag', '--json'], { cwd: REPO, timeoutMs: 60_000 });
    expect(run.code).toBe(2);
    const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'summary', command: 'archive', exitCode: 2, error: expect.stringMatching(/unknown option '--no-such-flag'/) });
  });
});
