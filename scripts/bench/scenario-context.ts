/** What every scenario receives from the bench's entry. */
import type { BenchCleanup } from './bench-cleanup.js';

export interface ScenarioContext {
  quick: boolean;
  /** Scenario-owned resources register their undo here; the entry runs it after each scenario. */
  cleanup: BenchCleanup;
  /** Progress for a person watching (stderr), never part of the figures. */
  log(message: string): void;
}
