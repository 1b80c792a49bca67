/**
 * One `fax-sunset archive` as a child process, exactly as an operator's scheduler runs it, optionally
 * killed with SIGKILL after a delay: no signal handler, no `finally`, no flushed buffers. What the
 * run printed (`--json` lines) tells which phase the kill interrupted, for the torture figures.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is scripts/torture/archive-child.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_ENTRY = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
/** tsx's loader by absolute URL: `--import tsx` would be resolved from the child's cwd (a temp folder). */
const TSX_LOADER = import.meta.resolve('tsx');

/** 'spawn', or a phase the run announces (`{"event":"phase","phase":...}`). */
export type KillAnchor = 'spawn' | 'reconcile' | 'list' | 'archive' | 'delete' | 'csv';

export interface ArchiveChildSpec {
  /** Arguments after `fax-sunset` (e.g. `['archive', '--subaccounts', ...]`); add `--json` to get phases. */
  args: string[];
  /** The child's whole environment (nothing is inherited beyond what is here). */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * SIGKILL the child `afterMs` after the anchor: its spawn, or the moment it announces a phase
   * (`archive`, `delete`...), so kills land in every phase of a long job, not only its first seconds.
   * A run that ends before the anchor or the delay is not killed.
   */
  kill?: { anchor: KillAnchor; afterMs: number };
  /** SIGKILL a child that is still running after this long, and say so (a hung run is a finding). */
  timeoutMs?: number;
}

export interface ArchiveChildRun {
  /** Null when the child died of a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when this harness killed it at its chosen moment (not the timeout). */
  killed: boolean;
  /** The phase the run was in when killed (the last it announced; 'startup' before any). */
  killedInPhase: string | null;
  timedOut: boolean;
  /** Milliseconds from spawn to exit. */
  durationMs: number;
  /** The last `phase` the run announced ('startup' before any). */
  lastPhase: string;
  /** When each phase was first announced, in ms after the spawn ('spawn' is 0). */
  phaseAtMs: Record<string, number>;
  /** `fax` events by outcome, and `deletion` events by outcome, seen on stdout. */
  faxOutcomes: Record<string, number>;
  deletionOutcomes: Record<string, number>;
  /** The final `summary` JSON line, when the run got that far. */
  summary: Record<string, unknown> | null;
  /** The end of stderr, for a run that failed in a way the harness did not expect. */
  stderrTail: string;
}

export function runArchiveChild(spec: ArchiveChildSpec): Promise<ArchiveChildRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_ENTRY, ...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ArchiveChildRun = {
    exitCode: null, signal: null, killed: false, killedInPhase: null, timedOut: false, durationMs: 0,
    lastPhase: 'startup', phaseAtMs: { spawn: 0 }, faxOutcomes: {}, deletionOutcomes: {}, summary: null, stderrTail: '',
  };
  const timers: NodeJS.Timeout[] = [];
  const armKill = (afterMs: number): void => {
    timers.push(setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        run.killed = true;
        run.killedInPhase = run.lastPhase;
        child.kill('SIGKILL');
      }
    }, afterMs));
  };
  const kill = spec.kill;
  let armed = false;
  if (kill?.anchor === 'spawn') {
    armed = true;
    armKill(kill.afterMs);
  }
  const onLine = (line: string): boolean => {
    const seen = observeLine(run, line);
    if (seen && run.phaseAtMs[run.lastPhase] === undefined) run.phaseAtMs[run.lastPhase] = Date.now() - started;
    if (seen && kill && !armed && run.lastPhase === kill.anchor) {
      armed = true;
      armKill(kill.afterMs);
    }
    return seen;
  };
  // Progress JSON lines may come on either stream (summary on stdout, progress on stderr).
  const stdoutLines = new LineSplitter(onLine);
  const stderrLines = new LineSplitter((line) => {
    if (!onLine(line)) run.stderrTail = (run.stderrTail + line + '\n').slice(-4000);
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => stdoutLines.push(chunk));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => stderrLines.push(chunk));

  if (spec.timeoutMs !== undefined) {
    timers.push(setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        run.timedOut = true;
        child.kill('SIGKILL');
      }
    }, spec.timeoutMs));
  }

  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      for (const timer of timers) clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': stdout must be drained before the figures are read.
    child.once('close', (code, signal) => {
      for (const timer of timers) clearTimeout(timer);
      // A line cut by SIGKILL mid-write is not JSON; observeLine ignores it.
      stdoutLines.end();
      stderrLines.end();
      run.exitCode = code;
      run.signal = signal;
      run.durationMs = Date.now() - started;
      resolve(run);
    });
  });
}

class LineSplitter {
  private pending = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    this.pending += chunk;
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) !== -1) {
      this.onLine(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
    }
  }
  end(): void {
    if (this.pending) this.onLine(this.pending);
    this.pending = '';
  }
}

/** True when the line was one of the run's JSON events. */
function observeLine(run: ArchiveChildRun, line: string): boolean {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (event === null || typeof event !== 'object') return false;
  if (event.event === 'phase' && typeof event.phase === 'string') run.lastPhase = event.phase;
  else if (event.event === 'fax') count(run.faxOutcomes, event.outcome);
  else if (event.event === 'deletion') count(run.deletionOutcomes, event.outcome);
  else if (event.event === 'summary') {
    run.summary = event;
    run.lastPhase = 'summary';
  } else if (event.event === undefined) return false;
  return true;
}

function count(into: Record<string, number>, key: unknown): void {
  const name = typeof key === 'string' ? key : 'unknown';
  into[name] = (into[name] ?? 0) + 1;
}
