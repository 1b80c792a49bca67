/**
 * What the emulator's clock does to the world as it moves (issue 12 §3), applied lazily before each
 * request is answered (API, media host, control surface), so real time, `clockSpeed` and
 * `POST /_emulator/clock` all have the same effect:
 * - an in-progress fax becomes final at its time (new status, pages, price, media, date_updated);
 * - a fax is pruned once it is 180 days old (Twilio's retention: record and media both go), so
 *   `lost` is reached the way it happened, not only through the prune hook.
 * Pruning covers the faxes present at start-up (generated or restored from the state journal);
 * faxes created later are younger than any test's clock moves.
 */
import type { EmulatorState } from './emulator-state.js';
import { RETENTION_MS } from './world-generator.js';

export class ClockEffects {
  private readonly settling: { sid: string; atMs: number }[];
  private readonly byAge: { sid: string; createdMs: number }[];
  private nextToPrune = 0;
  pruned = 0;
  settled = 0;

  constructor(
    private readonly state: EmulatorState,
    private readonly pruning: boolean,
  ) {
    const faxes = state.faxes.all();
    this.settling = faxes.filter((f) => f.settles).map((f) => ({ sid: f.sid, atMs: f.settles!.atMs })).sort((a, b) => b.atMs - a.atMs);
    this.byAge = pruning ? faxes.map((f) => ({ sid: f.sid, createdMs: f.createdMs })).sort((a, b) => a.createdMs - b.createdMs) : [];
  }

  /** Applies everything due at `nowMs`. Cheap when nothing is due (two comparisons). */
  tick(nowMs: number): void {
    while (this.settling.length > 0 && (this.settling[this.settling.length - 1] as { atMs: number }).atMs <= nowMs) {
      const { sid } = this.settling.pop()!;
      const fax = this.state.faxes.get(sid);
      if (!fax?.settles) continue;
      const { atMs, ...final } = fax.settles;
      const { settles: _settles, ...rest } = fax;
      this.state.putFax({ ...rest, ...final, updatedMs: Math.max(fax.updatedMs, atMs) });
      this.settled++;
    }
    if (!this.pruning) return;
    const cutoff = nowMs - RETENTION_MS;
    while (this.nextToPrune < this.byAge.length && (this.byAge[this.nextToPrune] as { createdMs: number }).createdMs <= cutoff) {
      const { sid, createdMs } = this.byAge[this.nextToPrune++]!;
      const fax = this.state.faxes.get(sid);
      if (fax && fax.createdMs === createdMs && this.state.deleteFax(sid)) this.pruned++;
    }
  }
}
