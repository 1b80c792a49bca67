/**
 * An adaptive token bucket for `--rps`: `burst` tokens, refilled at the current rate.
 *
 * Adaptive because Twilio's limits are not published per account: a 429 means we are above what
 * this account may do right now, so `throttled()` cuts the rate (x0.7, never below a floor) and it
 * grows back step by step (+10% of the configured rate per quiet second), the way TCP's AIMD
 * converges on a share it can keep. Not x0.5 over three seconds: at an account's exact limit a
 * lone 429 is mostly clock jitter between two token buckets, and halving for fifteen seconds cost
 * 14% of the throughput the limit allows (measured by `npm run bench`, scenario rate-limit);
 * a real, lower limit still draws a cut at most once per cooldown until the rate fits under it. Several 429s that arrive together (answers to requests
 * sent at the same moment) count as one cut, or eight concurrent 429s would cut the rate 256-fold.
 *
 * Tokens are reserved, not polled: `reserve()` may drive the balance negative and returns how long
 * the caller must wait for its token, so waiters are served in order and nobody spins.
 * Pure over an injected `now`; the only waiting is in `take()`, through an injected sleep.
 */

export interface TokenBucketOptions {
  /** Configured rate in requests per second. `Infinity` disables the bucket (no waiting, no adapting). */
  ratePerSecond: number;
  /** Tokens that may be spent at once after an idle spell; default max(1, one second's worth). */
  burst?: number;
  /** Multiplier applied to the current rate on a 429; default 0.5. */
  cutFactor?: number;
  /** The rate never drops below this; default max(0.5, 2% of the configured rate). */
  minRatePerSecond?: number;
  /** Fraction of the configured rate regained per recovery interval; default 0.1. */
  recoveryFraction?: number;
  /** Quiet time (no 429) that earns one recovery step; default 3000 ms. */
  recoveryIntervalMs?: number;
  /** 429s within this long of the last cut do not cut again; default 1000 ms. */
  cutCooldownMs?: number;
  /** Milliseconds clock; default Date.now. Injected by tests. */
  now?: () => number;
  /** Waits; default setTimeout. Injected by tests. */
  sleep?: (ms: number) => Promise<void>;
}

export const realSleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));

export class TokenBucket {
  readonly configuredRate: number;
  readonly burst: number;
  private readonly cutFactor: number;
  private readonly minRate: number;
  private readonly recoveryStep: number;
  private readonly recoveryIntervalMs: number;
  private readonly cutCooldownMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  private rate: number;
  private tokens: number;
  private lastRefillAt: number;
  /** When the rate was last cut or last recovered a step: recovery counts quiet time from here. */
  private recoveryMark: number;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private cuts = 0;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    this.configuredRate = options.ratePerSecond;
    this.burst = Math.max(1, options.burst ?? (Number.isFinite(options.ratePerSecond) ? options.ratePerSecond : 1));
    this.cutFactor = options.cutFactor ?? 0.7;
    this.minRate = Math.min(options.ratePerSecond, options.minRatePerSecond ?? Math.max(0.5, options.ratePerSecond * 0.02));
    this.recoveryStep = (options.recoveryFraction ?? 0.1) * options.ratePerSecond;
    this.recoveryIntervalMs = options.recoveryIntervalMs ?? 1000;
    this.cutCooldownMs = options.cutCooldownMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.rate = options.ratePerSecond;
    this.tokens = this.burst;
    this.lastRefillAt = this.now();
    this.recoveryMark = this.lastRefillAt;
  }

  /** The rate the bucket refills at now (after any cut and recovery), in requests per second. */
  get currentRate(): number {
    this.advance(this.now());
    return this.rate;
  }

  /** How many times a 429 cut the rate since creation. */
  get cutCount(): number {
    return this.cuts;
  }

  /**
   * Reserves one token and returns the milliseconds the caller must wait before using it
   * (0 when one was available). Never refuses: the debt is paid back at the current rate.
   */
  reserve(): number {
    if (!Number.isFinite(this.configuredRate)) return 0;
    const now = this.now();
    this.advance(now);
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.rate) * 1000);
  }

  /** Waits until a token is this caller's. */
  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.sleep(wait);
  }

  /**
   * A 429 arrived: cut the rate (once per cooldown), down to the floor. Unlimited buckets ignore it
   * (the retry backoff alone slows them).
   */
  throttled(): void {
    if (!Number.isFinite(this.configuredRate)) return;
    const now = this.now();
    this.advance(now);
    if (now - this.lastCutAt < this.cutCooldownMs) return;
    this.lastCutAt = now;
    this.cuts += 1;
    this.rate = Math.max(this.minRate, this.rate * this.cutFactor);
    this.recoveryMark = now;
    // Spend the banked burst too: it was earned at a rate the server just refused.
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Refills for the time passed at the current rate, then applies any recovery steps earned. */
  private advance(now: number): void {
    const elapsed = Math.max(0, now - this.lastRefillAt);
    this.lastRefillAt = Math.max(this.lastRefillAt, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
    if (this.rate < this.configuredRate) {
      const steps = Math.floor((now - this.recoveryMark) / this.recoveryIntervalMs);
      if (steps > 0) {
        this.rate = Math.min(this.configuredRate, this.rate + steps * this.recoveryStep);
        this.recoveryMark += steps * this.recoveryIntervalMs;
      }
    } else {
      this.recoveryMark = now;
    }
  }
}
