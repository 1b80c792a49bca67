/**
 * Twilio's limits as the emulator enforces them: a cap on requests in flight (Twilio's concurrency
 * limit, answered with 429 / 20429 and a `Twilio-Concurrent-Requests` header) and a request rate
 * (a token bucket holding one second's worth, so short bursts pass and a sustained excess is refused).
 */

export type Admission = { admitted: true; release: () => void } | { admitted: false; inFlight: number };

export class RequestLimits {
  private inFlight = 0;
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private readonly concurrencyLimit: number,
    private readonly rps: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokens = Math.max(rps, 1);
    this.lastRefillMs = clock();
  }

  /** Admits a request or refuses it; an admitted request must call `release` exactly once. */
  admit(): Admission {
    if (this.concurrencyLimit > 0 && this.inFlight >= this.concurrencyLimit) {
      return { admitted: false, inFlight: this.inFlight + 1 };
    }
    if (this.rps > 0) {
      const now = this.clock();
      this.tokens = Math.min(Math.max(this.rps, 1), this.tokens + ((now - this.lastRefillMs) / 1000) * this.rps);
      this.lastRefillMs = now;
      if (this.tokens < 1) return { admitted: false, inFlight: this.inFlight + 1 };
      this.tokens -= 1;
    }
    this.inFlight++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
      },
    };
  }

  current(): number {
    return this.inFlight;
  }
}
