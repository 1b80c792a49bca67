/**
 * Deletion from Twilio, in two phases: commit the intent, call DELETE, commit the receipt (HTTP
 * status, time, Twilio-Request-Id). A crash or an unknown outcome between the two leaves an open
 * intent, which `reconcileOpenDeletions` settles on the next run by fetching the fax (404 = deleted).
 *
 * Immediately before each intent the store is asked again about every object of the fax
 * (pre-delete-proof.ts); the intent records that proof, and the catalog refuses one without it.
 */
import pLimit from 'p-limit';
import type { Catalog, FaxRow } from '../catalog/catalog.js';
import { AuthError, ConfigurationError, describeError } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import type { ArchiveObserver, DeletionResult } from './archive-observer.js';
import { deletionVerdict } from './deletion-policy.js';
import { describeProof, provePresentBeforeDelete } from './pre-delete-proof.js';

export interface DeletionContext {
  catalog: Catalog;
  gatewayFor: (accountSid: string) => TwilioGateway | undefined;
  observer: ArchiveObserver;
  now: () => Date;
  knownSecrets: readonly string[];
  runId: number | null;
  /** Asked again about every object of a fax immediately before its DELETE. */
  store: MediaStore;
  /** `--verify full`: the pre-delete proof re-reads every byte. */
  forceFullVerify: boolean;
  /** True once the operator asked the run to stop: no new DELETE is sent after that. */
  stopRequested?: () => boolean;
}

export interface ReconcileResult {
  /** Gone from Twilio and still proven: now `deleted`. */
  settled: number;
  /** Still on Twilio: the intent is withdrawn. */
  reopened: number;
  /** Gone from Twilio while no longer proven in the store (issue 11 §5): now `lost`, by name. */
  lostSids: string[];
  /** Twilio did not answer the fetch: the intent stays open for a later run, by name. */
  unsettledSids: string[];
}

/**
 * Settles deletions a previous run started but did not record the end of, one fax at a time: a
 * fax Twilio does not answer for, or whose state moved meanwhile, never stops the run (issue 11 §5:
 * one such intent made every later sync exit 4 before listing). Only credentials or configuration
 * failing is a run-level error.
 */
export async function reconcileOpenDeletions(ctx: DeletionContext, accountSid: string): Promise<ReconcileResult> {
  const gateway = ctx.gatewayFor(accountSid);
  const result: ReconcileResult = { settled: 0, reopened: 0, lostSids: [], unsettledSids: [] };
  if (!gateway) return result;
  for (const intent of ctx.catalog.listOpenDeletionIntents(accountSid)) {
    if (ctx.stopRequested?.()) {
      result.unsettledSids.push(intent.faxSid);
      continue;
    }
    try {
      const fax = await gateway.fetchFax(intent.faxSid);
      if (fax === null) {
        const became = ctx.catalog.settleGoneDeletion(intent.faxSid, { httpStatus: 404, requestId: null, at: ctx.now().toISOString() });
        ctx.catalog.appendEvent('deletion-reconciled', { outcome: 'gone', became, note: 'fetch answered 404 after an unfinished delete' }, intent.faxSid);
        if (became === 'lost') {
          result.lostSids.push(intent.faxSid);
          ctx.observer.warning(`lost: ${intent.faxSid} was deleted from Twilio by an earlier run while its stored copy was no longer proven`);
        } else result.settled++;
      } else {
        ctx.catalog.cancelDeletionIntent(intent.faxSid);
        ctx.catalog.appendEvent('deletion-reconciled', { outcome: 'still-present', note: 'the earlier DELETE did not happen' }, intent.faxSid);
        result.reopened++;
      }
    } catch (error) {
      if (error instanceof AuthError || error instanceof ConfigurationError) throw error;
      result.unsettledSids.push(intent.faxSid);
      ctx.observer.warning(`open deletion of ${intent.faxSid} not settled (${describeError(error, ctx.knownSecrets)}); a later run fetches it again`);
    }
  }
  return result;
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
  /** Faxes whose pre-delete proof found an object missing or different: sent back to be archived again. */
  proofFailedSids: string[];
  /** Faxes not deleted because the store did not answer the pre-delete proof: a later run tries again. */
  storeUnavailable: number;
}

const BATCH = 500;

export async function deleteArchivedFaxes(ctx: DeletionContext, options: DeletionOptions): Promise<DeletionPassResult> {
  const gateway = ctx.gatewayFor(options.accountSid);
  const pass: DeletionPassResult = { results: [], deleted: 0, failed: 0, wouldDelete: 0, skipped: 0, proofFailedSids: [], storeUnavailable: 0 };
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
    // Each receipt is reported as it arrives (a progress bar over whole batches stands still, then jumps).
    await Promise.all(
      chosen.map((row) => limit(async () => {
        if (ctx.stopRequested?.()) return;
        const result = await deleteOne(row, gateway, ctx, options.dryRun);
        ctx.observer.deletion(result);
        if (result.outcome === 'deleted' || result.outcome === 'already-gone') pass.deleted++;
        else if (result.outcome === 'would-delete') pass.wouldDelete++;
        else if (result.outcome === 'proof-failed') {
          pass.proofFailedSids.push(result.sid);
          pass.results.push(result);
        } else if (result.outcome === 'store-unavailable') {
          pass.storeUnavailable++;
          pass.results.push(result);
        } else if (result.outcome === 'failed') {
          pass.failed++;
          pass.results.push(result);
        }
      })),
    );
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
  if (ctx.runId === null) return { ...base, outcome: 'failed', error: 'no run is recorded in the catalog: nothing is deleted without one' };
  // Off the Twilio limiter: the store is asked while other workers wait for their DELETE's token.
  // Timed by the wall clock, as the catalog times its run: an audit fact, not the run's `--now`.
  const proof = await provePresentBeforeDelete(ctx.store, row, { forceFull: ctx.forceFullVerify, now: () => new Date() });
  if (proof.answer !== 'match') return refuseUnproven(row, proof, ctx);
  ctx.catalog.recordDeletionIntent(row.sid, ctx.runId, {
    at: proof.at,
    method: proof.method,
    objects: proof.objects.map((o) => ({ kind: o.kind, key: o.key, method: o.method, sha256: o.sha256 })),
  });
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

/**
 * No DELETE for a fax the store could not prove. Missing or different bytes: a finding per object
 * and the fax back to `listed`, so it is archived again from Twilio (which still has it). A store
 * that did not answer: nothing changes; a later run asks again.
 */
function refuseUnproven(row: FaxRow, proof: Awaited<ReturnType<typeof provePresentBeforeDelete>>, ctx: DeletionContext): DeletionResult {
  const base = { sid: row.sid, accountSid: row.accountSid };
  const detail = describeProof(proof);
  if (proof.answer === 'unavailable') {
    ctx.catalog.appendEvent('pre-delete-proof', { answer: 'unavailable', runId: ctx.runId, detail }, row.sid);
    return { ...base, outcome: 'store-unavailable', reason: `not deleted: the store did not answer the pre-delete check (${detail}); a later run asks again` };
  }
  for (const object of proof.objects) {
    if (object.answer !== 'mismatch' && object.answer !== 'missing') continue;
    ctx.catalog.recordFinding({
      faxSid: row.sid, key: object.key, at: proof.at, method: object.method, outcome: object.answer,
      detail: `pre-delete proof: ${object.detail ?? object.answer}`, runId: ctx.runId,
    });
  }
  ctx.catalog.resetToListed(row.sid, `pre-delete proof found ${detail}; archiving again from Twilio`);
  return { ...base, outcome: 'proof-failed', reason: `not deleted: the store no longer holds what was verified (${detail}); archived again from Twilio` };
}
