/**
 * How a long run shows itself: on a terminal, a bar per phase (listing, archive, verify, delete,
 * report) with counts, rate and an ETA from a moving window (progress-line.ts, rate-window.ts); JSON lines with
 * --json or when stdout is not a terminal (cron, systemd, Kubernetes logs): events on stderr, the
 * one summary line on stdout; nothing but errors and the summary with --quiet. The pipeline emits
 * events; this file only renders them.
 */
import { ProgressLine } from './progress-line.js';
import { humanBytes } from '../report/bagit-manifests.js';
import type { FaxResult } from '../archive/archive-fax.js';
import type { ArchiveObserver, ArchivePhase, DeletionResult } from '../pipeline/archive-observer.js';
import { printSummaryLine } from './summary-line.js';

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
  /** One more item of the current phase done (verify, report: phases without fax results). */
  advance(count?: number): void;
  /** Ends any progress bar and gives the terminal back (cursor, wrapping); safe to call twice. */
  stop(): void;
}

/**
 * With --json, stdout carries exactly one line, the summary, so a scheduler can keep it
 * (`> last-run.json`) or pipe it to jq; the progress events are JSON lines on stderr, the log.
 */
function jsonLine(value: Record<string, unknown>, stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(`${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`);
}

/**
 * Decimal units (1 MB = 1,000,000 bytes), as the report and bag-info.txt print them: one base for
 * every figure a person compares (issue 17: the CLI said 84.9 MB where the report said 89.3 MB).
 */
export function formatBytes(bytes: number): string {
  return humanBytes(bytes);
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
    advance: () => {},
    summary: (title, summary) => printSummaryLine({ command: title, ...summary }),
    stop: () => {},
  };
}

function humanOutput(quiet: boolean): RunOutput {
  // The bar only where a person watches: stderr a terminal and not --quiet.
  const bar = !quiet && process.stderr.isTTY ? new ProgressLine(process.stderr) : null;
  let bytes = 0;
  let listing = false;
  const say = (line: string) => {
    if (bar) bar.log(line);
    else process.stderr.write(`${line}\n`);
  };
  const stop = () => {
    bar?.stop();
    listing = false;
  };
  return {
    phase(phase: ArchivePhase, detail) {
      if (phase === 'list') {
        // One listing bar across accounts, naming the account being listed.
        if (!listing) {
          if (bar) bar.start('listing');
          else if (!quiet) process.stderr.write(`listing faxes of ${detail.account ?? 'the account'}...\n`);
        }
        listing = true;
        if (detail.account) bar?.advance(0, detail.account);
        return;
      }
      listing = false;
      if (phase === 'archive' || phase === 'delete' || phase === 'verify' || phase === 'report') {
        if (bar) bar.start(PHASE_LABELS[phase], detail.total);
        else if (!quiet && phase === 'delete') process.stderr.write('deleting archived faxes from Twilio...\n');
      } else {
        bar?.finish();
      }
    },
    listed(count) {
      bar?.advance(count);
    },
    fax(result) {
      bytes += result.bytes;
      if (result.outcome === 'failed' || result.outcome === 'lost' || result.outcome === 'needs-review') {
        say(`${result.outcome.toUpperCase()} ${result.sid}: ${result.error ?? 'gone from Twilio before it was archived'}`);
      }
      bar?.advance(1, `${formatBytes(bytes)} media stored`);
    },
    deletion(result) {
      if (result.outcome === 'failed') say(`DELETE FAILED ${result.sid}: ${result.error ?? ''}`);
      else if (result.outcome === 'proof-failed' || result.outcome === 'store-unavailable') say(`NOT DELETED ${result.sid}: ${result.reason ?? ''}`);
      bar?.advance(1);
    },
    advance(count = 1) {
      bar?.advance(count);
    },
    warning(message) {
      say(`warning: ${message}`);
    },
    info(message) {
      if (!quiet) say(message);
    },
    summary(title, summary, lines = []) {
      stop();
      const width = Math.max(...Object.keys(summary).map((k) => k.length));
      process.stdout.write(`\n${title}\n`);
      for (const [key, value] of Object.entries(summary)) {
        if (value === null || value === undefined) continue;
        process.stdout.write(`  ${key.padEnd(width)}  ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
      }
      for (const line of lines) process.stdout.write(`${line}\n`);
    },
    stop,
  };
}

const PHASE_LABELS: Record<'archive' | 'delete' | 'verify' | 'report', string> = {
  archive: 'archive', delete: 'delete', verify: 'verify', report: 'report',
};
