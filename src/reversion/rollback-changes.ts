/**
 * `numbers rollback`: puts back the prior state rollback.json recorded, with the same stale check as
 * apply: a number must still be in the state apply left it in (or, for a `pending` entry whose change
 * may never have happened, already in its prior state, which counts as done). Anything else was
 * changed since by someone else and is skipped, never overwritten.
 */
import { eventData, type ReversionEventLog } from './apply-plan.js';
import type { NumberDirectory } from './number-directory.js';
import { runNumberChanges, type NumberChangeItem, type NumberChangeReport, type NumberChangeResult } from './number-change-run.js';
import type { RollbackFile } from './rollback-journal.js';

export interface RollbackOptions {
  directory: NumberDirectory;
  dryRun: boolean;
  concurrency: number;
  events?: ReversionEventLog | null;
  onResult?(result: NumberChangeResult): void;
}

export function itemsOfRollback(file: RollbackFile): NumberChangeItem[] {
  return file.entries.map((entry) => ({
    accountSid: entry.accountSid,
    sid: entry.sid,
    phoneNumber: entry.phoneNumber,
    expected: entry.applied,
    update: entry.restore,
  }));
}

export async function rollbackChanges(file: RollbackFile, options: RollbackOptions): Promise<NumberChangeReport> {
  return runNumberChanges(itemsOfRollback(file), {
    directory: options.directory,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    hooks: {
      onResult: (result) => {
        if (!options.dryRun) options.events?.appendEvent(`numbers.rollback.${result.outcome}`, eventData(file.planSha256, result));
        options.onResult?.(result);
      },
    },
  });
}
