/**
 * Moves numbers from one recorded state to another, one result per number: the engine under both
 * `numbers apply` (before -> voice) and `numbers rollback` (voice -> prior). For each number it
 * fetches the current state and decides (pure, `decideNumberChange`): already there -> nothing to do;
 * not what was recorded -> skipped as stale, never overwritten; otherwise change it, then re-fetch to
 * confirm it took. Hooks let the caller journal the change (rollback.json) before and after it.
 *
 * A hook failure or refused credentials stop the whole run (the rest is `not-run`): changing a
 * number whose prior state could not be journaled would leave no way back.
 */
import pLimit from 'p-limit';
import { AuthError, describeError } from '../errors.js';
import type { NumberDirectory } from './number-directory.js';
import { applyVoiceUpdate, diffAgainstBefore, type FieldDifference, type IncomingNumber, type VoiceState, type VoiceUpdate } from './voice-state.js';

export interface NumberChangeItem {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  /** The state the number must be in for the change to go ahead (the plan's `before`). */
  expected: VoiceState;
  /** Exactly what to write. */
  update: VoiceUpdate;
}

export type NumberChangeOutcome = 'applied' | 'would-apply' | 'already-applied' | 'skipped-stale' | 'failed' | 'not-run';

export interface NumberChangeResult {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  outcome: NumberChangeOutcome;
  /** What was changed, or would be (applied / would-apply). */
  update?: VoiceUpdate;
  /** skipped-stale: the fields that differ from the recorded state. */
  differences?: FieldDifference[];
  /** failed / not-run: one line, no secrets. */
  error?: string;
  /** The state fetched before deciding, and after the change (applied). */
  before?: VoiceState;
  after?: VoiceState;
}

export type NumberChangeSummary = Record<NumberChangeOutcome, number> & { total: number; stoppedBy: string | null };

export interface NumberChangeReport {
  results: NumberChangeResult[];
  summary: NumberChangeSummary;
  /** The error that stopped the run early (refused credentials, a journal that cannot be written). */
  fatal: Error | null;
}

export interface NumberChangeHooks {
  /** Before the update is sent; must be durable when it resolves. Throwing stops the run. */
  beforeChange?(item: NumberChangeItem, current: IncomingNumber): Promise<void>;
  /** After the re-fetch confirmed the change. Throwing stops the run. */
  afterChange?(item: NumberChangeItem, prior: IncomingNumber, confirmed: IncomingNumber): Promise<void>;
  /** The number was already in the target state (a re-run after a crash). Throwing stops the run. */
  alreadyApplied?(item: NumberChangeItem, current: IncomingNumber): Promise<void>;
  /** Every result, as it is decided (for the event log and progress output). */
  onResult?(result: NumberChangeResult): void;
}

export type NumberChangeDecision =
  | { action: 'done' }
  | { action: 'stale'; differences: FieldDifference[] }
  | { action: 'change' };

/** Pure: what to do with a number, given its current state. */
export function decideNumberChange(current: VoiceState, item: Pick<NumberChangeItem, 'expected' | 'update'>): NumberChangeDecision {
  if (diffAgainstBefore(current, applyVoiceUpdate(item.expected, item.update)).length === 0) return { action: 'done' };
  const differences = diffAgainstBefore(current, item.expected);
  if (differences.length > 0) return { action: 'stale', differences };
  return { action: 'change' };
}

/** 0 when every number is done (or would be, in a dry run); 1 when any is left for a person or a retry. */
export function exitCodeForChanges(report: Pick<NumberChangeReport, 'summary' | 'fatal'>): number {
  if (report.fatal && 'exitCode' in report.fatal && typeof report.fatal.exitCode === 'number') return report.fatal.exitCode;
  const { failed, 'skipped-stale': stale, 'not-run': notRun } = report.summary;
  return failed + stale + notRun > 0 || report.fatal ? 1 : 0;
}

export async function runNumberChanges(
  items: readonly NumberChangeItem[],
  options: { directory: NumberDirectory; dryRun: boolean; concurrency: number; hooks?: NumberChangeHooks },
): Promise<NumberChangeReport> {
  const { directory, dryRun, hooks = {} } = options;
  const limit = pLimit(Math.max(1, options.concurrency));
  let fatal: Error | null = null;
  const stop = (error: unknown) => {
    fatal ??= error instanceof Error ? error : new Error(String(error));
  };

  const runOne = async (item: NumberChangeItem): Promise<NumberChangeResult> => {
    const base = { accountSid: item.accountSid, sid: item.sid, phoneNumber: item.phoneNumber };
    if (fatal) return { ...base, outcome: 'not-run', error: `stopped: ${describeError(fatal)}` };
    let current: IncomingNumber;
    try {
      current = await directory.fetchNumber(item.accountSid, item.sid);
    } catch (error) {
      if (error instanceof AuthError) stop(error);
      return { ...base, outcome: 'failed', error: `fetch: ${describeError(error)}` };
    }
    const decision = decideNumberChange(current.state, item);
    if (decision.action === 'done') {
      try {
        if (!dryRun) await hooks.alreadyApplied?.(item, current);
      } catch (error) {
        stop(error);
        return { ...base, outcome: 'failed', error: `journal: ${describeError(error)}`, before: current.state };
      }
      return { ...base, outcome: 'already-applied', before: current.state };
    }
    if (decision.action === 'stale') return { ...base, outcome: 'skipped-stale', differences: decision.differences, before: current.state };
    if (dryRun) return { ...base, outcome: 'would-apply', update: item.update, before: current.state, after: applyVoiceUpdate(current.state, item.update) };

    try {
      await hooks.beforeChange?.(item, current);
    } catch (error) {
      stop(error);
      return { ...base, outcome: 'failed', error: `journal (nothing changed): ${describeError(error)}`, before: current.state };
    }
    let confirmed: IncomingNumber;
    try {
      await directory.updateNumber(item.accountSid, item.sid, item.update);
      confirmed = await directory.fetchNumber(item.accountSid, item.sid);
    } catch (error) {
      if (error instanceof AuthError) stop(error);
      return { ...base, outcome: 'failed', error: `update: ${describeError(error)}`, before: current.state };
    }
    const check = decideNumberChange(confirmed.state, item);
    if (check.action !== 'done') {
      const wrong = diffAgainstBefore(confirmed.state, applyVoiceUpdate(item.expected, item.update)).map((d) => d.field).join(', ');
      return { ...base, outcome: 'failed', error: `the change did not take: a re-fetch shows different ${wrong}`, before: current.state, after: confirmed.state };
    }
    try {
      await hooks.afterChange?.(item, current, confirmed);
    } catch (error) {
      stop(error);
      return { ...base, outcome: 'failed', error: `changed, but the journal failed: ${describeError(error)}`, before: current.state, after: confirmed.state };
    }
    return { ...base, outcome: 'applied', update: item.update, before: current.state, after: confirmed.state };
  };

  const results = await Promise.all(
    items.map((item) =>
      limit(async () => {
        const result = await runOne(item);
        hooks.onResult?.(result);
        return result;
      }),
    ),
  );
  const summary: NumberChangeSummary = {
    total: results.length,
    applied: 0,
    'would-apply': 0,
    'already-applied': 0,
    'skipped-stale': 0,
    failed: 0,
    'not-run': 0,
    stoppedBy: fatal ? describeError(fatal) : null,
  };
  for (const result of results) summary[result.outcome]++;
  return { results, summary, fatal };
}
