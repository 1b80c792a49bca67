/**
 * How a long run shows itself: a progress bar with rate and ETA on a terminal; JSON lines with
 * --json or when stdout is not a terminal (cron, systemd, Kubernetes logs): events on stderr, the
 * one summary line on stdout; nothing but errors and the summary with --quiet. The pipeline emits
 * events; this file only renders them.
 */
import cliProgress from 'cli-progress';
import type { FaxResult } from '../pipeline/archive-fax.js';
import type { ArchiveObserver, ArchivePhase, DeletionResult } from '../pipeline/archive-observer.js';

export type OutputMode = 'tty' | 'json' | 'quiet';

export function chooseOutputMode(options: { json?: boolean; quiet?: boolean }, isTty = Boolean(process.stdout.isTTY)): OutputMode {
  if (options.json) return 'json';
  if (options.quiet) return 'quiet';
  return isTty ? 'tty' : 'json';
}

export interface RunOutput extends ArchiveObserver {
  /** Prints a final summary object: one JSON line, or a readable block. */
  summary(title: string, summary: Record<string, unknown>, lines?: string[]): void;
  info(message: string): void;
  stop(): void;
}

/**
 * With --json, stdout carries exactly one line, the summary, so a scheduler can keep it
 * (`> last-run.json`) or pipe it to jq; the progress events are JSON lines on stderr, the log.
 */
function jsonLine(value: Record<string, unknown>, stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(`${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function createRunOutput(mode: OutputMode): RunOutput {
  if (mode === 'json') return jsonOutput();
  return humanOutput(mode === 'quiet');
}

function jsonOutput(): RunOutput {
  return {
    phase: (phase, detail) => jsonLine({ event: 'phase', phase, ...detail }),
    listed: () => {},
    fax: (result: FaxResult) => jsonLine({ event: 'fax', ...result }),
    deletion: (result: DeletionResult) => jsonLine({ event: 'deletion', ...result }),
    warning: (message) => jsonLine({ event: 'warning', message }),
    info: (message) => jsonLine({ event: 'info', message }),
    summary: (title, summary) => jsonLine({ event: 'summary', command: title, ...summary }, process.stdout),
    stop: () => {},
  };
}

function humanOutput(quiet: boolean): RunOutput {
  let bar: cliProgress.SingleBar | null = null;
  let bytes = 0;
  let listed = 0;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  const startBar = (label: string, total: number) => {
    stopBar();
    if (quiet || !process.stderr.isTTY) return;
    bar = new cliProgress.SingleBar(
      {
        format: `${label.padEnd(8)} |{bar}| {value}/{total} | {rate}/s | ETA {eta_formatted} | {stored}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 200,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '0.0', stored: '' });
  };
  const startedAt = new Map<string, number>();
  const tick = (key: string, payload: Record<string, string> = {}) => {
    if (!bar) return;
    bar.increment(1, payload);
    const start = startedAt.get(key) ?? Date.now();
    const seconds = Math.max(0.001, (Date.now() - start) / 1000);
    bar.update({ rate: (bar.getProgress() * bar.getTotal() / seconds).toFixed(1), ...payload });
  };
  // Clears the bar's line, prints, and lets the bar redraw itself on its next tick.
  const say = (line: string) => {
    process.stderr.write(bar ? `\r\x1b[2K${line}\n` : `${line}\n`);
  };
  return {
    phase(phase: ArchivePhase, detail) {
      startedAt.set(phase, Date.now());
      if (phase === 'archive' && detail.total !== undefined) startBar('archive', detail.total);
      else if (phase === 'list') {
        stopBar();
        if (!quiet) process.stderr.write(`listing faxes of ${detail.account ?? 'the account'}...\n`);
      } else if (phase === 'delete') {
        stopBar();
        if (!quiet) process.stderr.write('deleting archived faxes from Twilio...\n');
      }
    },
    listed(count) {
      listed += count;
    },
    fax(result) {
      bytes += result.bytes;
      if (result.outcome === 'failed' || result.outcome === 'lost' || result.outcome === 'needs-review') {
        say(`${result.outcome.toUpperCase()} ${result.sid}: ${result.error ?? 'gone from Twilio before it was archived'}`);
      }
      tick('archive', { stored: formatBytes(bytes) });
    },
    deletion(result) {
      if (result.outcome === 'failed') say(`DELETE FAILED ${result.sid}: ${result.error ?? ''}`);
    },
    warning(message) {
      say(`warning: ${message}`);
    },
    info(message) {
      if (!quiet) say(message);
    },
    summary(title, summary, lines = []) {
      stopBar();
      const width = Math.max(...Object.keys(summary).map((k) => k.length));
      process.stdout.write(`\n${title}\n`);
      for (const [key, value] of Object.entries(summary)) {
        if (value === null || value === undefined) continue;
        process.stdout.write(`  ${key.padEnd(width)}  ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
      }
      for (const line of lines) process.stdout.write(`${line}\n`);
      void listed;
    },
    stop: stopBar,
  };
}
