/**
 * The rate and ETA a progress bar shows, from a moving window of (time, count) samples. Pure: the
 * caller passes the clock, so it is tested without timers.
 *
 * Why a window over time and not over items (issue 17): results arrive in batches sharing one
 * timestamp (256 faxes finish, then nothing for a few seconds). An estimator that averages the
 * last N increments sees N items in 0 ms and promises "ETA 1s" at 1,024 of 3,000 at 74/s. Measuring
 * the items done between the oldest sample in the window and *now* counts the quiet time between
 * batches too, so the rate is what the operator would measure with a stopwatch.
 */

export interface RateEstimate {
  /** Items per second over the window, or null while there is too little history to say. */
  perSecond: number | null;
  /** Seconds left at that rate, or null when unknown (no total, no rate yet, or a stall). */
  etaSeconds: number | null;
}

interface Sample {
  at: number;
  done: number;
}

export class RateWindow {
  private readonly samples: Sample[] = [];

  /**
   * @param windowMs how far back the rate looks (long enough to span several batches)
   * @param minSpanMs below this much history the rate is not shown (a first batch would overstate it)
   */
  constructor(
    private readonly windowMs = 30_000,
    private readonly minSpanMs = 1_000,
  ) {}

  /** The phase started at `at` with `done` items already done (usually 0). */
  start(at: number, done = 0): void {
    this.samples.length = 0;
    this.samples.push({ at, done });
  }

  /** `done` items are done at time `at` (ms; any monotonic clock). Counts never go down. */
  record(at: number, done: number): void {
    const last = this.samples[this.samples.length - 1];
    if (!last) {
      this.samples.push({ at, done });
      return;
    }
    if (at <= last.at) {
      // Same instant (a batch): one sample per instant, holding the latest count.
      last.done = Math.max(last.done, done);
    } else {
      this.samples.push({ at, done: Math.max(last.done, done) });
    }
    this.trim(at);
  }

  /** Rate and ETA at time `now` for `total` items (undefined: no ETA, only the rate). */
  estimate(now: number, total?: number): RateEstimate {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last) return { perSecond: null, etaSeconds: null };
    this.trim(now);
    const anchor = this.samples[0]!;
    const span = now - anchor.at;
    if (span < this.minSpanMs) return { perSecond: null, etaSeconds: null };
    const perSecond = ((last.done - anchor.done) * 1000) / span;
    if (total === undefined) return { perSecond, etaSeconds: null };
    const left = Math.max(0, total - last.done);
    if (left === 0) return { perSecond, etaSeconds: 0 };
    if (perSecond <= 0) return { perSecond, etaSeconds: null };
    return { perSecond, etaSeconds: left / perSecond };
  }

  /**
   * Drops samples older than the window, keeping the newest one before its start as the anchor:
   * the rate always spans at least the whole window once there is that much history.
   */
  private trim(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.samples.length > 1 && this.samples[1]!.at <= cutoff) this.samples.shift();
  }
}

/** "45s", "3m 20s", "2h 05m"; "--" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(s / 3600);
  return `${h}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "74/s", "3.2/s", "--/s" while unknown. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '--/s';
  return perSecond >= 10 ? `${Math.round(perSecond).toLocaleString('en-US')}/s` : `${perSecond.toFixed(1)}/s`;
}
