/**
 * Deletion from Twilio, in two phases: commit the intent, call DELETE, commit the receipt (HTTP
 * status, time, Twilio-Request-Id). A crash or an unknown outcome between the two leaves an open
 * intent, which `reconcileOpenDeletions` settles on the next run by fetching the fax (404 = deleted).
 */
import pLimit from 'p-limit';
import type { Catalog, FaxRow } from '../catalog/catalog.js';
import { describeError } from '../errors.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import type { ArchiveObserver, DeletionResult } from './archive-observer.js';
import { deletionVerdict } from './deletion-policy.js';

export interface DeletionContext {
  catalog: Catalog;
  gatewayFor: (accountSid: string) => TwilioGateway | undefined;
  observer: ArchiveObserver;
  now: () => Date;
  knownSecrets: readonly string[];
  runId: number | null;
  /** True once the operator asked the run to stop: no new DELETE is sent after that. */
  stopRequested?: () => boolean;
}

/** Settles deletions a previous run started but did not record the end of. */
export async function reconcileOpenDeletions(ctx: DeletionContext, accountSid: string): Promise<{ settled: number; reopened: number }> {
  const gateway = ctx.gatewayFor(accountSid);
  let settled = 0;
  let reopened = 0;
  if (!gateway) return { settled, reopened };
  for (const intent of ctx.catalog.listOpenDeletionIntents(accountSid)) {
    const fax = await gateway.fetchFax(intent.faxSid);
    if (fax === null) {
      ctx.catalog.recordDeletionReceipt(intent.faxSid, { httpStatus: 404, requestId: null, at: ctx.now().toISOString() });
      ctx.catalog.appendEvent('deletion-reconciled', { outcome: 'gone', note: 'fetch answered 404 after an unfinished delete' }, intent.faxSid);
      settled++;
    } else {
      ctx.catalog.cancelDeletionIntent(intent.faxSid);
      ctx.catalog.appendEvent('deletion-reconciled', { outcome: 'still-present', note: 'the earlier DELETE did not happen' }, intent.faxSid);
      reopened++;
    }
  }
  return { settled, reopened };
}

export interface DeletionOptions {
  accountSid: string;
  /** Deletions left in this run's budget (--max-delete); Infinity when unlimited. */
  budget: number;
  dryRun: boolean;
  concurrency: number;
}

export interface DeletionPassResult {
  results: DeletionResult[];
  deleted: number;
  failed: number;
  wouldDelete: number;
  skipped: number;
}

const BATCH = 500;

export async function deleteArchivedFaxes(ctx: DeletionContext, options: DeletionOptions): Promise<DeletionPassResult> {
  const gateway = ctx.gatewayFor(options.accountSid);
  const pass: DeletionPassResult = { results: [], deleted: 0, failed: 0, wouldDelete: 0, skipped: 0 };
  if (!gateway || options.budget <= 0) return pass;
  const limit = pLimit(options.concurrency);
  const seen = new Set<string>();
  let budget = options.budget;

  while (!ctx.stopRequested?.()) {
    const batch = ctx.catalog
      .listDeletable({ accountSid: options.accountSid, limit: BATCH + seen.size })
      .filter((row) => !seen.has(row.sid));
    if (batch.length === 0) break;
    const chosen: FaxRow[] = [];
    for (const row of batch) {
      seen.add(row.sid);
      const verdict = deletionVerdict(row);
      if (!verdict.delete) {
        pass.skipped++;
        continue;
      }
      if (budget <= 0) break;
      budget--;
      chosen.push(row);
    }
    const results = await Promise.all(
      chosen.map((row) => limit(() => (ctx.stopRequested?.() ? Promise.resolve(null) : deleteOne(row, gateway, ctx, options.dryRun)))),
    );
    for (const result of results) {
      if (result === null) continue;
      ctx.observer.deletion(result);
      if (result.outcome === 'deleted' || result.outcome === 'already-gone') pass.deleted++;
      else if (result.outcome === 'would-delete') pass.wouldDelete++;
      else if (result.outcome === 'failed') {
        pass.failed++;
        pass.results.push(result);
      }
    }
    if (budget <= 0) break;
  }
  return pass;
}

async function deleteOne(row: FaxRow, gateway: TwilioGateway, ctx: DeletionContext, dryRun: boolean): Promise<DeletionResult> {
  const base = { sid: row.sid, accountSid: row.accountSid };
  // Never deleted with another account's credentials (issue 11 §4).
  if (row.accountSid !== gateway.accountSid) {
    return { ...base, outcome: 'failed', error: `refused: fax of account ${row.accountSid} offered for deletion with account ${gateway.accountSid}'s credentials` };
  }
  if (dryRun) return { ...base, outcome: 'would-delete' };
  ctx.catalog.recordDeletionIntent(row.sid, ctx.runId);
  try {
    const receipt = await gateway.deleteFax(row.sid);
    if (receipt.httpStatus === 404) {
      // A 404 is "already gone" only when the fax's own account cannot fetch it either: a 404 from
      // a proxy, a wrong route or another account's view must not close the books on a fax.
      const still = await gateway.fetchFax(row.sid);
      if (still !== null) {
        ctx.catalog.cancelDeletionIntent(row.sid);
        ctx.catalog.appendEvent('deletion-contradicted', { note: 'DELETE answered 404 but a fetch with its own account found the fax' }, row.sid);
        return { ...base, outcome: 'failed', error: 'DELETE answered 404 but the fax is still there; retried by the next run' };
      }
    }
    ctx.catalog.recordDeletionReceipt(row.sid, {
      httpStatus: receipt.httpStatus,
      requestId: receipt.requestId,
      at: receipt.at.toISOString(),
    });
    return {
      ...base,
      outcome: receipt.httpStatus === 204 ? 'deleted' : 'already-gone',
      httpStatus: receipt.httpStatus,
      requestId: receipt.requestId,
    };
  } catch (error) {
    // The outcome is unknown: the intent stays open and the next run settles it with a fetch.
    return { ...base, outcome: 'failed', error: describeError(error, ctx.knownSecrets) };
  }
}
