/**
 * One progress line at the bottom of a terminal, with log lines printed above it, whole.
 *
 * Written here rather than with a progress library because of what issue 17 found with one: it
 * hid the cursor and turned line wrapping off, so a double Ctrl-C left the shell without either; it
 * restored a cursor position saved when the bar started, so a summary printed over the FAILED lines
 * logged meanwhile; and lines logged while it ran were cut at the terminal width. This line never
 * saves the cursor and never turns wrapping off: it redraws in place with `\r` + erase-line and is
 * itself cut to the width (one row, so erasing one row always erases it); a log line is printed in
 * full (the terminal wraps it) and the bar is drawn again below it. The cursor is hidden only
 * while a bar is drawn and shown again on every exit path: stop, process exit (also after
 * `process.exit` in a signal handler), and a signal nobody else handles (re-raised after).
 */
import { RateWindow, formatEta, formatRate } from './rate-window.js';

/** Show the cursor, wrapping on: what a shell expects, written on every way out. */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h';
const HIDE_CURSOR = '\x1b[?25l';
const ERASE_LINE = '\r\x1b[2K';
const REDRAW_MS = 200;
const BAR_WIDTH = 20;

export interface ProgressStream {
  write(chunk: string): unknown;
  columns?: number;
}

export interface ProgressLineOptions {
  /** A monotonic clock in ms (tests pass their own). */
  clock?: () => number;
  /** Redraw on a timer (off in tests, which call `render`). */
  timer?: boolean;
  /** Install exit and signal handlers that restore the terminal (off in unit tests). */
  guardProcess?: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');

export class ProgressLine {
  private label: string | null = null;
  private total: number | undefined;
  private done = 0;
  private note = '';
  private startedAt = 0;
  private ended = false;
  private readonly rate = new RateWindow();
  private cursorHidden = false;
  private drawn = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly clock: () => number;
  private readonly removeGuards: Array<() => void> = [];

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: ProgressLineOptions = {},
  ) {
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Starts a phase's bar (ending the previous one); `total` undefined: a count and rate, no ETA. */
  start(label: string, total?: number): void {
    this.finish();
    this.label = label;
    this.total = total;
    this.done = 0;
    this.note = '';
    this.ended = false;
    this.startedAt = this.clock();
    this.rate.start(this.startedAt);
    if (!this.cursorHidden) {
      this.guard();
      this.stream.write(HIDE_CURSOR);
      this.cursorHidden = true;
    }
    if (this.options.timer !== false) {
      this.timer = setInterval(() => this.render(), REDRAW_MS);
      this.timer.unref();
    }
    this.render();
  }

  /** `n` more items done; `note` replaces the text after the counts (e.g. bytes stored). */
  advance(n = 1, note?: string): void {
    if (this.label === null) return;
    this.done += n;
    if (note !== undefined) this.note = note;
    this.rate.record(this.clock(), this.done);
    if (this.total !== undefined && this.total < this.done) this.total = this.done;
  }

  /** Prints a whole line above the bar. */
  log(line: string): void {
    if (this.drawn) this.stream.write(ERASE_LINE);
    this.stream.write(`${line}\n`);
    this.drawn = false;
    if (this.label !== null) this.render();
  }

  /** Ends the current bar, leaving its last state as a line of the log. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.label === null) return;
    this.ended = true;
    this.render();
    this.stream.write('\n');
    this.drawn = false;
    this.label = null;
  }

  /** Ends any bar and gives the terminal back (cursor shown, wrapping on). Idempotent. */
  stop(): void {
    this.finish();
    this.restore();
    for (const remove of this.removeGuards.splice(0)) remove();
  }

  /** The bar's text now (cut to the width by `render`). */
  text(): string {
    if (this.label === null) return '';
    const now = this.clock();
    // A phase that ended keeps its whole-phase rate and its duration in place of the ETA.
    const elapsed = (now - this.startedAt) / 1000;
    const { perSecond, etaSeconds } = this.ended
      ? { perSecond: elapsed > 0 ? this.done / elapsed : null, etaSeconds: null }
      : this.rate.estimate(now, this.total);
    const timing = this.ended ? `in ${elapsed < 10 ? `${elapsed.toFixed(1)}s` : formatEta(elapsed)}` : `ETA ${formatEta(etaSeconds)}`;
    const parts = [this.label.padEnd(8)];
    if (this.total !== undefined) {
      const share = this.total === 0 ? 1 : this.done / this.total;
      const full = Math.round(share * BAR_WIDTH);
      parts.push(`[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}]`, `${count(this.done)}/${count(this.total)}`, formatRate(perSecond), timing);
    } else {
      parts.push(count(this.done), formatRate(perSecond), ...(this.ended ? [timing] : []));
    }
    if (this.note) parts.push(this.note);
    return parts.join('  ');
  }

  render(): void {
    if (this.label === null) return;
    // One row less than the width: a line exactly as wide would wrap on some terminals.
    const width = Math.max(10, (this.stream.columns ?? 80) - 1);
    this.stream.write(`${ERASE_LINE}${this.text().slice(0, width)}`);
    this.drawn = true;
  }

  private restore(): void {
    if (!this.cursorHidden) return;
    this.cursorHidden = false;
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
    this.stream.write(RESTORE_TERMINAL);
  }

  private guard(): void {
    if (this.options.guardProcess === false) return;
    const onExit = (): void => this.restore();
    process.on('exit', onExit);
    this.removeGuards.push(() => process.removeListener('exit', onExit));
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const onSignal = (): void => {
        // With a command's own handler (archive's "finish in flight, then stop") that handler
        // decides, and its process.exit passes through 'exit' above. Alone, this listener would
        // swallow the signal: restore, then let the signal do what it would have done.
        if (process.listenerCount(signal) > 1) return;
        this.restore();
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
      this.removeGuards.push(() => process.removeListener(signal, onSignal));
    }
  }
}
