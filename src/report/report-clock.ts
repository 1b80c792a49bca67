/**
 * The report's "now" for Twilio's 180-day retention (issue 17 §5). The report does not talk to
 * Twilio, so it takes the skew between Twilio's clock (its Date header) and the local one that the
 * latest archive or sync recorded, and applies it to the local clock: a rehearsal against the
 * emulator (whose world is in 2021) reports the days left that the runs themselves saw.
 */
import type { RunRecord } from '../catalog/catalog.js';

export function reportNow(runs: readonly RunRecord[], localNow: Date = new Date()): { now: Date; twilioClockSkewMs: number | null } {
  for (const run of runs) {
    // Newest first: the latest archive/sync that recorded Twilio's clock.
    if (run.kind !== 'archive' && run.kind !== 'sync') continue;
    const skew = run.summary?.twilioClockSkewMs;
    if (typeof skew === 'number' && Number.isFinite(skew)) return { now: new Date(localNow.getTime() + skew), twilioClockSkewMs: skew };
  }
  return { now: localNow, twilioClockSkewMs: null };
}
