/**
 * Which request gets which fault, reproducible from the seed: the decision for the n-th request to
 * a given method+path depends only on (seed, host, method, path, n), not on what else runs at the
 * same time, so a rerun with the same seed meets the same faults, and a retry of a faulted
 * request (n+1) gets a fresh draw.
 */
import type { FaultKind } from './emulator-options.js';
import { hashUnit } from './seeded-random.js';

export type FaultHost = 'api' | 'media';

/** Faults that make sense on each host: a JSON API has no body to truncate or corrupt in our model. */
const APPLICABLE: Record<FaultHost, ReadonlySet<FaultKind>> = {
  api: new Set(['500', '503', 'reset', 'slow']),
  media: new Set(['500', '503', 'reset', 'slow', 'truncate', 'corrupt']),
};

const MAX_TRACKED_KEYS = 200_000;

export class FaultPlan {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly seed: number,
    private readonly rate: number,
    private readonly kinds: readonly FaultKind[],
  ) {}

  /** The fault for this request, or null. */
  decide(host: FaultHost, method: string, key: string): FaultKind | null {
    if (this.rate <= 0) return null;
    const kinds = this.kinds.filter((k) => APPLICABLE[host].has(k));
    if (kinds.length === 0) return null;
    const id = `${host} ${method} ${key}`;
    const n = this.seen.get(id) ?? 0;
    // Bounded memory on very long runs; losing counts only changes which later requests fault.
    if (this.seen.size >= MAX_TRACKED_KEYS) this.seen.clear();
    this.seen.set(id, n + 1);
    if (hashUnit(this.seed, 'fault', id, n) >= this.rate) return null;
    return kinds[Math.floor(hashUnit(this.seed, 'kind', id, n) * kinds.length)] as FaultKind;
  }
}
