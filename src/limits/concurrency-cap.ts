/**
 * A cap on how many operations run at once (p-limit underneath). One for Twilio API calls
 * (`--concurrency`, inside the RequestLimiter), and separate ones for media downloads and S3
 * uploads, so a slow media host cannot starve the listing and vice versa (DESIGN.md, "Rate limits").
 */
import pLimit from 'p-limit';

export interface ConcurrencyCap {
  /** Most operations in flight at once. */
  readonly limit: number;
  /** Operations holding a slot now. */
  readonly active: number;
  /** Operations waiting for a slot. */
  readonly pending: number;
  /** Runs `task` once a slot is free; the slot is released when the task's promise settles. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /**
   * Waits for a slot and returns its release function, for work that outlives one promise (a
   * streamed body that the caller reads later). Release is idempotent; forgetting it leaks the slot.
   */
  acquire(): Promise<() => void>;
}

export function createConcurrencyCap(limit: number): ConcurrencyCap {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${limit}`);
  const queue = pLimit(limit);
  return {
    limit,
    get active() {
      return queue.activeCount;
    },
    get pending() {
      return queue.pendingCount;
    },
    run: (task) => queue(task),
    acquire: () =>
      new Promise<() => void>((granted) => {
        void queue(
          () =>
            new Promise<void>((release) => {
              let released = false;
              granted(() => {
                if (released) return;
                released = true;
                release();
              });
            }),
        );
      }),
  };
}
