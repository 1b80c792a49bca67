/**
 * `numbers apply`: carries out a reviewed plan. Refuses a plan whose content no longer matches its
 * hash (or the hash the reviewer approved); skips any number changed behind the plan's back; writes
 * rollback.json before and after every change; records every outcome in the catalog's event log.
 * Re-applying a partly applied plan finishes it: numbers already changed are `already-applied`.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { NumberDirectory } from './number-directory.js';
import { runNumberChanges, type NumberChangeItem, type NumberChangeReport, type NumberChangeResult } from './number-change-run.js';
import { checkPlanIntegrity, type ReversionPlan } from './reversion-plan.js';
import { RollbackJournal, type RollbackEntry } from './rollback-journal.js';
import { applyVoiceUpdate, restoreUpdateFor, type IncomingNumber } from './voice-state.js';

/** The part of the catalog an apply or rollback writes to. */
export type ReversionEventLog = Pick<Catalog, 'appendEvent'>;

export interface ApplyPlanOptions {
  directory: NumberDirectory;
  /** Where rollback.json goes (not written in a dry run). */
  rollbackPath: string;
  dryRun: boolean;
  concurrency: number;
  /** The SHA-256 the reviewer approved; the plan is refused unless it matches. */
  expectSha256?: string | null;
  /** The SHA-256 of the plan.json read (what the approved hash is compared with, when given). */
  fileSha256?: string;
  /** Every outcome is appended here (not in a dry run). */
  events?: ReversionEventLog | null;
  onResult?(result: NumberChangeResult): void;
  now?: () => Date;
}

export interface ApplyReport extends NumberChangeReport {
  planSha256: string;
  /** Null in a dry run. */
  rollbackPath: string | null;
}

export function itemsOfPlan(plan: ReversionPlan): NumberChangeItem[] {
  return plan.changes.map((change) => ({
    accountSid: change.accountSid,
    sid: change.sid,
    phoneNumber: change.phoneNumber,
    expected: change.before,
    update: change.change,
  }));
}

export async function applyPlan(plan: ReversionPlan, options: ApplyPlanOptions): Promise<ApplyReport> {
  checkPlanIntegrity(plan, options.expectSha256, options.fileSha256);
  const now = options.now ?? (() => new Date());
  const journal = options.dryRun ? null : await RollbackJournal.open(options.rollbackPath, plan.sha256, now());
  const entryFor = (item: NumberChangeItem, prior: IncomingNumber, status: RollbackEntry['status'], applied = applyVoiceUpdate(prior.state, item.update)): RollbackEntry => ({
    accountSid: item.accountSid,
    sid: item.sid,
    phoneNumber: item.phoneNumber,
    status,
    prior: prior.state,
    change: item.update,
    applied,
    restore: restoreUpdateFor(prior.state, item.update),
    recordedAt: now().toISOString(),
  });

  const report = await runNumberChanges(itemsOfPlan(plan), {
    directory: options.directory,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    hooks: {
      beforeChange: async (item, current) => {
        await journal?.record(entryFor(item, current, 'pending'));
      },
      afterChange: async (item, prior, confirmed) => {
        await journal?.record(entryFor(item, prior, 'applied', confirmed.state));
      },
      alreadyApplied: async (item, current) => {
        if (!journal) return;
        const existing = journal.entry(item.sid);
        if (existing?.status === 'applied') return;
        // Changed by an earlier apply that crashed before confirming (or whose file was lost): the
        // state before is the plan's `before`, which the stale check proved it was in.
        const prior: IncomingNumber = { ...current, state: existing?.prior ?? item.expected };
        await journal.record(entryFor(item, prior, 'applied', current.state));
      },
      onResult: (result) => {
        if (!options.dryRun) {
          options.events?.appendEvent(`numbers.apply.${result.outcome}`, eventData(plan.sha256, result));
        }
        options.onResult?.(result);
      },
    },
  });
  return { ...report, planSha256: plan.sha256, rollbackPath: journal ? journal.path : null };
}

/** What the event log keeps of a result: sids, number, states and the change; never a secret. */
export function eventData(planSha256: string, result: NumberChangeResult): Record<string, unknown> {
  return {
    planSha256,
    accountSid: result.accountSid,
    numberSid: result.sid,
    phoneNumber: result.phoneNumber,
    outcome: result.outcome,
    ...(result.update ? { change: result.update } : {}),
    ...(result.before ? { before: result.before } : {}),
    ...(result.after ? { after: result.after } : {}),
    ...(result.differences ? { differences: result.differences } : {}),
    ...(result.error ? { error: result.error } : {}),
  };
}
