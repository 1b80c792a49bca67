/**
 * The real CLI in its own process, as an operator or scheduler runs it: its own exit code, stdout
 * and stderr. Spawned asynchronously on purpose: the emulator runs inside the test process, so a
 * blocking spawnSync would stop it from answering the very requests the child makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'src', 'cli.ts');
// An absolute loader path: the child runs in a temp dir, where a bare `tsx` would not resolve.
const TSX_LOADER = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  /** Added to a clean environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** A developer's shell may carry these; the child must see only what the test gives it. */
const INHERITED_NOISE = /^(TWILIO_|AWS_|FAX_SUNSET_)/;

export function cleanEnv(extra: CliOptions['env']): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !INHERITED_NOISE.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** The argv (node first) that runs `fax-sunset <args>` from any folder. */
export function cliArgv(args: readonly string[]): string[] {
  return [process.execPath, '--import', TSX_LOADER, CLI, ...args];
}

/** Starts `fax-sunset <args>`; the caller owns the child (signals, output). */
export function spawnCli(args: readonly string[], options: CliOptions): ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream } {
  return spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] }) as never;
}

/** Runs `fax-sunset <args>` to its end (SIGKILLed after `timeoutMs`, default 120 s). */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
