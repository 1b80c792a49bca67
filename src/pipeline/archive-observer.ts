/**
 * What a run tells the outside world while it works. The command layer turns these into a progress
 * bar on a terminal or JSON lines otherwise; the pipeline never prints.
 */
import type { FaxResult } from '../archive/archive-fax.js';

/** The phases of a run; `verify` and `report` are their commands' one long phase. */
export type ArchivePhase = 'reconcile' | 'list' | 'archive' | 'delete' | 'csv' | 'verify' | 'report';

export interface DeletionResult {
  sid: string;
  accountSid: string;
  /**
   * `proof-failed`: the store no longer held what was verified (missing or other bytes): not
   * deleted, archived again. `store-unavailable`: the store did not answer the pre-delete proof.
   */
  outcome: 'deleted' | 'already-gone' | 'would-delete' | 'failed' | 'skipped' | 'proof-failed' | 'store-unavailable';
  httpStatus?: number;
  requestId?: string | null;
  error?: string;
  reason?: string;
}

export interface ArchiveObserver {
  phase(phase: ArchivePhase, detail: { total?: number; account?: string }): void;
  listed(count: number): void;
  fax(result: FaxResult): void;
  deletion(result: DeletionResult): void;
  warning(message: string): void;
}

export const silentObserver: ArchiveObserver = {
  phase() {},
  listed() {},
  fax() {},
  deletion() {},
  warning() {},
};
