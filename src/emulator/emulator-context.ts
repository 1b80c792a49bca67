/** What every part of a running emulator shares: options, state, clock, counters, signer. */
import type { ResolvedEmulatorOptions } from './emulator-options.js';
import type { EmulatorState } from './emulator-state.js';
import type { EmulatorStats } from './emulator-stats.js';
import type { FaultPlan } from './fault-plan.js';
import type { MediaSigner } from './media-signer.js';
import type { FaxRecord } from './emulator-records.js';
import type { RequestLimits } from './request-limits.js';
import type { ClockEffects } from './clock-effects.js';
import { hashUnit } from './seeded-random.js';

/**
 * The emulator's clock: the configured `now` at start-up, moving with real time, plus whatever a
 * test advanced it by (to expire media URLs without waiting two hours).
 */
export class EmulatorClock {
  private readonly startedAt = Date.now();
  private offsetMs = 0;
  /** `speed`: emulator milliseconds per real millisecond (the `clockSpeed` option). */
  constructor(private readonly startMs: number, private readonly speed = 1) {}

  now(): number {
    return this.startMs + Math.floor((Date.now() - this.startedAt) * this.speed) + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface EmulatorContext {
  options: ResolvedEmulatorOptions;
  state: EmulatorState;
  stats: EmulatorStats;
  clock: EmulatorClock;
  signer: MediaSigner;
  faults: FaultPlan;
  limits: RequestLimits;
  /** In-progress faxes settling and 180-day pruning as the clock moves; `tick` before answering. */
  clockEffects?: ClockEffects;
  /** e.g. http://127.0.0.1:4010, set once the servers listen. */
  apiOrigin: string;
  mediaOrigin: string;
}

/**
 * A fresh pre-signed media URL for the fax, or null when it has no media. In a listing, a share of
 * URLs (`world.expiredTokenInListings`, seeded per fax) carry a session token that has already
 * expired: they answer 400 ExpiredToken long before their X-Amz-Expires, and a fetch of the fax
 * gives a working one (issue 12 §4).
 */
export function mediaUrlFor(ctx: EmulatorContext, fax: FaxRecord, options: { inListing?: boolean } = {}): string | null {
  if (!fax.mediaSid) return null;
  const now = ctx.clock.now();
  const share = ctx.options.world.expiredTokenInListings;
  if (options.inListing && share > 0 && hashUnit(ctx.options.seed, 'expired-token', fax.sid) < share) {
    return ctx.signer.sign(ctx.mediaOrigin, fax.accountSid, fax.mediaSid, now, now - (ctx.options.mediaTokenTtlSeconds + 60) * 1000);
  }
  return ctx.signer.sign(ctx.mediaOrigin, fax.accountSid, fax.mediaSid, now);
}
