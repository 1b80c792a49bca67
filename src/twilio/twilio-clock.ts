/**
 * Twilio's own clock, read from the `Date` header of its API responses. Twilio prunes a fax 180
 * days after its `date_created` by Twilio's clock, and a listing's coverage is measured against
 * `date_created` too: both must be judged by that clock, not the local one. Against the emulator
 * (whose world is in 2021) the local clock would call every fax years past its pruning (issue 17
 * §5); against the real Twilio the two differ by the host's drift.
 *
 * The header has one-second resolution and arrives after the server answered, so the estimate is
 * the local time plus the skew last observed. Without any observation the local clock is used.
 */
export interface TwilioClockReading {
  now: Date;
  /** Twilio's clock minus the local clock, ms; null when no `Date` header was seen yet. */
  skewMs: number | null;
}

export class TwilioClock {
  private skew: number | null = null;

  constructor(private readonly localNow: () => number = Date.now) {}

  /** Records one response's `Date` header (an HTTP date); ignored when absent or unreadable. */
  observe(dateHeader: string | null | undefined): void {
    if (!dateHeader) return;
    const serverMs = Date.parse(dateHeader);
    if (!Number.isFinite(serverMs)) return;
    // The header is truncated to the second: +500 ms is the middle of the second it names.
    this.skew = serverMs + 500 - this.localNow();
  }

  /** Twilio's clock minus the local one (ms), or null when no header was seen. */
  skewMs(): number | null {
    return this.skew;
  }

  /** Twilio's "now": the local clock plus the last observed skew (the local clock when unknown). */
  now(): Date {
    return new Date(this.localNow() + (this.skew ?? 0));
  }

  reading(): TwilioClockReading {
    return { now: this.now(), skewMs: this.skew };
  }
}

/** A skew worth a line in the log: more than a minute either way. */
export const NOTABLE_SKEW_MS = 60_000;

/** `Twilio's clock is 1822 days behind the local clock` style text for the log (never secret). */
export function describeSkew(skewMs: number): string {
  const abs = Math.abs(skewMs);
  const ahead = skewMs > 0 ? 'ahead of' : 'behind';
  const amount = abs >= 86_400_000 ? `${(abs / 86_400_000).toFixed(1)} days` : abs >= 3_600_000 ? `${(abs / 3_600_000).toFixed(1)} h` : `${Math.round(abs / 1000)} s`;
  return `Twilio's clock (its Date header) is ${amount} ${ahead} the local clock; retention and listing coverage are measured by Twilio's`;
}
