/**
 * Runs `fax-sunset` as a child process the way an operator runs it (the built `dist/cli.js` that
 * `npm install` leaves, not the TypeScript sources through a loader, whose compiler would add its
 * own memory and start-up time), timing it, sampling its peak RSS and keeping its JSON output lines
 * with the time each one arrived.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BenchCleanup } from './bench-cleanup.js';
import { startRssSampler } from './rss-sampler.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Builds dist/ from the current sources, so the bench measures what it says (once per bench). */
export function buildCli(): void {
  const result = spawnSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('bench: building dist/ with tsc failed');
}

export interface CliRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  peakRssBytes: number | null;
  /** User + system CPU seconds of the child (sampled; up to one interval short). */
  cpuSeconds: number | null;
  /** Parsed JSON lines of stdout and stderr, each with `receivedMs` (ms since the spawn). */
  lines: Array<Record<string, unknown> & { receivedMs: number }>;
  /** The end of stderr's non-JSON text (error messages). */
  stderrTail: string;
}

export interface CliRunOptions {
  cwd: string;
  env: Record<string, string>;
  cleanup: BenchCleanup;
}

/** Spawns the CLI with `args`; resolves when it exits (it is killed if the bench exits first). */
export function runCli(args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.AWS_CA_BUNDLE;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  options.cleanup.add(`kill fax-sunset ${child.pid}`, kill);
  const sampler = child.pid ? startRssSampler(child.pid) : null;
  const lines: CliRun['lines'] = [];
  let stderrTail = '';
  // Progress events are JSON lines on stderr, the one summary line is on stdout: both are kept.
  const collect = (stream: NodeJS.ReadableStream, onText?: (text: string) => void): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const receivedMs = performance.now() - started;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (line.startsWith('{')) {
          try {
            lines.push({ ...(JSON.parse(line) as Record<string, unknown>), receivedMs });
            continue;
          } catch {
            // not a JSON line
          }
        }
        onText?.(line);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr, (text) => {
    stderrTail = `${stderrTail}${text}\n`.slice(-4000);
  });
  // The stdout pipe closes at exit, before the child is reaped: the last VmHWM read happens there.
  child.stdout.on('end', () => sampler?.stop());
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      const peakRssBytes = sampler ? sampler.stop() : null;
      const cpuSeconds = sampler ? sampler.cpuSeconds() : null;
      resolve({ exitCode, signal, durationMs: performance.now() - started, peakRssBytes, cpuSeconds, lines, stderrTail });
    });
  });
}

/** The final `{"event":"summary"...}` line of an archive/sync run, or null. */
export function summaryLine(run: CliRun): Record<string, unknown> | null {
  for (let i = run.lines.length - 1; i >= 0; i--) if (run.lines[i]!.event === 'summary') return run.lines[i]!;
  return null;
}

/** Time (ms since spawn) the first `phase` line of `phase` arrived, or null. */
export function phaseStartMs(run: CliRun, phase: string): number | null {
  const line = run.lines.find((l) => l.event === 'phase' && l.phase === phase);
  return line ? line.receivedMs : null;
}
