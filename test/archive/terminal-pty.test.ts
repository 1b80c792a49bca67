/**
 * Issue 17 §2: the terminal survives failure. The real CLI runs in a pseudo-terminal of 80 columns
 * (util-linux `script`), and the bytes it wrote are replayed into a small terminal model
 * (test/support/terminal-screen.ts) to see what a person would see: the cursor shown and line
 * wrapping on at the end (also after a double Ctrl-C), every FAILED line whole and not overwritten
 * by the summary, each phase's bar with its counts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { cleanEnv, cliArgv, REPO } from '../support/cli-process.js';
import { TerminalScreen } from '../support/terminal-screen.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
if (!hasScript) console.warn('terminal-pty.test.ts skipped: util-linux `script` is not on PATH (no pseudo-terminal to run the CLI in)');

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

interface PtyRun {
  code: number | null;
  bytes: string;
}

/**
 * Runs `fax-sunset <args>` on a pseudo-terminal of 80 x 24. `onOutput` sees everything written so
 * far and may type into the terminal (e.g. Ctrl-C).
 */
function runInPty(args: string[], env: Record<string, string>, cwd: string, onOutput?: (bytes: string, type: (keys: string) => void) => void, argv = cliArgv(args)): Promise<PtyRun> {
  const command = `stty cols 80 rows 24; exec ${argv.map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      bytes += chunk;
      onOutput?.(bytes, (keys) => child.stdin.write(keys));
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, bytes });
    });
  });
}

let emu: TestEmulator;
let dir: string;

beforeAll(async () => {
  // Corrupt media on a share of downloads: those faxes fail with a long reason, logged while the bar runs.
  emu = await startTestEmulator({ faxes: 40, accounts: 0, seed: 1717, latencyMs: 20, faultRate: 0.35, faultKinds: ['corrupt'] });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-pty-'));
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const archiveArgs = (name: string, extra: string[] = []): string[] => [
  'archive', '--now', '2021-12-01T00:00:00Z', '--catalog', join(dir, name, 'catalog.sqlite'), '--store', join(dir, name, 'media'),
  '--workers', '2', '--max-attempts', '1', ...extra,
];

describe.skipIf(!hasScript)('the terminal after a run (a pseudo-terminal, 80 columns)', () => {
  it('a run with failures: FAILED lines whole above the bar, the summary below them, the terminal given back', async () => {
    const run = await runInPty(archiveArgs('failures', ['--delete', '--yes']), emu.env, dir);
    expect(run.code).toBe(1);
    const screen = new TerminalScreen(80).feed(run.bytes);
    const rows = screen.lines();
    expect(screen.cursorVisible).toBe(true);
    expect(screen.wrap).toBe(true);
    expect(run.bytes.endsWith('\x1b[?25h\x1b[?7h') || run.bytes.lastIndexOf('\x1b[?25h') > run.bytes.lastIndexOf('\x1b[?25l')).toBe(true);

    // Each FAILED line is printed whole: longer than 80 columns, it continues on the next row.
    const failedAt = rows.map((row, i) => (row.startsWith('FAILED FX') ? i : -1)).filter((i) => i >= 0);
    expect(failedAt.length).toBeGreaterThan(0);
    const flat = rows.join('').replace(/\s/g, '');
    for (const i of failedAt) {
      const sid = /^FAILED (FX[0-9a-f]{32})/.exec(rows[i]!)![1]!;
      // The reason, as the catalog/summary also give it, is on screen in full.
      const fromSummary = rows.find((row) => row.includes(`failed ${sid}:`))?.split(`failed ${sid}: `)[1];
      expect(fromSummary, `summary names ${sid}`).toBeTruthy();
      expect(flat).toContain(`FAILED${sid}:${fromSummary!.replace(/\s/g, '')}`);
    }
    // The summary comes after the last FAILED line, not over it.
    const summaryAt = rows.findIndex((row) => row === 'archive');
    expect(summaryAt).toBeGreaterThan(failedAt.at(-1)!);
    // One bar per phase, each left as a line with its counts.
    expect(rows.some((row) => /^listing +40 /.test(row))).toBe(true);
    expect(rows.some((row) => /^archive +\[[#-]{20}\] +40\/40 /.test(row))).toBe(true);
    expect(rows.some((row) => /^delete +\[[#-]{20}\] +\d+\/\d+ /.test(row))).toBe(true);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(80);
    expect(run.bytes).not.toContain('\x1b7'); // no saved cursor to be restored over the log
  }, 90_000);

  it('verify --full and report show bars of their own, with counts', async () => {
    const verify = await runInPty(['verify', '--full', '--catalog', join(dir, 'failures', 'catalog.sqlite'), '--store', join(dir, 'failures', 'media')], emu.env, dir);
    const verifyRows = new TerminalScreen(80).feed(verify.bytes).lines();
    expect(verify.code).toBe(0);
    expect(verifyRows.some((row) => /^verify +\[#{20}\] +32\/32 +[\d.]+\/s +in /.test(row))).toBe(true);
    expect(verifyRows.some((row) => row.startsWith('archive'))).toBe(false);
    const report = await runInPty(['report', '--out', join(dir, 'failures', 'report'), '--catalog', join(dir, 'failures', 'catalog.sqlite'), '--store', join(dir, 'failures', 'media')], emu.env, dir);
    const reportScreen = new TerminalScreen(80).feed(report.bytes);
    expect(reportScreen.lines().some((row) => /^report +\[#{20}\] +40\/40 /.test(row))).toBe(true);
    expect(reportScreen.cursorVisible).toBe(true);
  }, 90_000);

  it('a double Ctrl-C stops at once and leaves the cursor shown and wrapping on', async () => {
    let typed = 0;
    const run = await runInPty(archiveArgs('ctrl-c'), emu.env, dir, (bytes, type) => {
      if (typed === 0 && /archive +[[|]/.test(bytes)) {
        typed = 1;
        type('\x03');
      } else if (typed === 1 && bytes.includes('send it again to stop at once')) {
        typed = 2;
        type('\x03');
      }
    });
    expect(typed).toBe(2);
    expect(run.code).toBe(1);
    expect(run.bytes).toContain('SIGINT again: stopping now');
    const screen = new TerminalScreen(80).feed(run.bytes);
    expect(screen.cursorVisible).toBe(true);
    expect(screen.wrap).toBe(true);
  }, 90_000);

  it('a signal nobody else handles (verify, report) restores the terminal, then ends the process as that signal would', async () => {
    const script = join(dir, 'bar-then-sigint.mts');
    writeFileSync(script, [
      `import { ProgressLine } from ${JSON.stringify(join(REPO, 'src', 'commands', 'progress-line.ts'))};`,
      `const line = new ProgressLine(process.stderr);`,
      `line.start('verify', 100);`,
      `line.advance(10);`,
      `setTimeout(() => process.kill(process.pid, 'SIGINT'), 100);`,
      `setTimeout(() => { console.log('not killed'); process.exit(0); }, 5000);`,
    ].join('\n'));
    const run = await runInPty([], {}, dir, undefined, [process.execPath, '--import', join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs'), script]);
    expect(run.bytes).not.toContain('not killed');
    expect(run.code).not.toBe(0);
    const screen = new TerminalScreen(80).feed(run.bytes);
    expect(screen.cursorVisible).toBe(true);
    expect(screen.wrap).toBe(true);
    expect(screen.lines().some((row) => row.startsWith('verify'))).toBe(true);
  }, 60_000);
});
