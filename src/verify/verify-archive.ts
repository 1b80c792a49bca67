/**
 * The re-audit (`fax-sunset verify`): is every object the catalog says was archived still in the
 * store, the same size and SHA-256? Four outcomes are counted apart, as rclone's `check` does:
 * match, mismatch, missing, unverifiable (which never counts as verified). Each finding is recorded
 * in the catalog with its time and method; a bad object of a fax still in Twilio sends the fax back
 * to `listed` so the next run archives it again; one already deleted from Twilio is reported loudly.
 */
import pLimit from 'p-limit';
import type { Catalog, FaxRow, FindingOutcome } from '../catalog/catalog.js';
import { describeError } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';
import { verifyStoredObject } from '../store/verify-object.js';

export interface VerifyOptions {
  /** Re-read and re-hash every byte instead of trusting the store's checksum. */
  full: boolean;
  /** Audit only this share of faxes (0 < p <= 100), chosen at random. */
  samplePercent: number;
  concurrency: number;
  random?: () => number;
}

export interface VerifyFindingResult {
  faxSid: string;
  key: string;
  kind: string;
  outcome: FindingOutcome;
  method: string;
  detail?: string;
  /** What happens next: re-archived by the next run, or lost for good (already deleted from Twilio). */
  consequence?: 'will-rearchive' | 'deleted-from-twilio';
}

export interface VerifySummary {
  faxesChecked: number;
  objectsChecked: number;
  match: number;
  mismatch: number;
  missing: number;
  unverifiable: number;
  sampledPercent: number;
  method: 'full' | 'strongest';
  durationMs: number;
}

export interface VerifyObserver {
  started(total: number): void;
  finding(result: VerifyFindingResult): void;
  /** One fax audited, told the moment it is (a progress bar's tick; findings come per batch). */
  faxChecked?(faxSid: string): void;
}

const AUDITED_STATES = new Set(['stored', 'verified', 'metadata-only', 'deleted']);

export function isSampled(percent: number, random: () => number): boolean {
  return percent >= 100 || random() * 100 < percent;
}

/** How many of `total` faxes a `--sample percent` audit checks: the share rounded up, at least one. */
export function sampleSize(total: number, percent: number): number {
  if (total <= 0) return 0;
  if (percent >= 100) return total;
  return Math.min(total, Math.max(1, Math.ceil((total * percent) / 100)));
}

/**
 * Picks exactly `sampleSize(total, percent)` of `total` candidates seen one by one, each equally
 * likely (Knuth's selection sampling, Algorithm S), without holding the candidates in memory. An
 * independent coin per fax (isSampled) could check none at all of a small archive, or far more
 * than asked of a big one: an auditor asking for 5% must get 5%.
 */
export function createSampler(total: number, percent: number, random: () => number): () => boolean {
  let wanted = sampleSize(total, percent);
  let remaining = total;
  return () => {
    if (remaining <= 0) return false;
    const pick = wanted > 0 && random() * remaining < wanted;
    remaining--;
    if (pick) wanted--;
    return pick;
  };
}

export async function runVerify(
  deps: { catalog: Catalog; store: MediaStore; runId: number | null; observer?: VerifyObserver; now?: () => Date },
  options: VerifyOptions,
): Promise<{ summary: VerifySummary; problems: VerifyFindingResult[]; exitCode: 0 | 1 }> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const limit = pLimit(options.concurrency);
  const summary: VerifySummary = {
    faxesChecked: 0, objectsChecked: 0, match: 0, mismatch: 0, missing: 0, unverifiable: 0,
    sampledPercent: options.samplePercent, method: options.full ? 'full' : 'strongest', durationMs: 0,
  };
  const problems: VerifyFindingResult[] = [];
  const total = Object.entries(deps.catalog.countByState())
    .filter(([state]) => AUDITED_STATES.has(state))
    .reduce((a, [, n]) => a + n, 0);
  deps.observer?.started(sampleSize(total, options.samplePercent));
  const sampled = createSampler(total, options.samplePercent, random);

  let batch: FaxRow[] = [];
  const flush = async () => {
    const rows = batch;
    batch = [];
    const results = await Promise.all(rows.map((row) => limit(async () => {
      const findings = await auditFax(row);
      deps.observer?.faxChecked?.(row.sid);
      return findings;
    })));
    for (const findings of results) {
      summary.faxesChecked++;
      for (const finding of findings) {
        summary.objectsChecked++;
        summary[finding.outcome]++;
        if (finding.outcome !== 'match') problems.push(finding);
        deps.observer?.finding(finding);
      }
    }
  };

  const auditFax = async (row: FaxRow): Promise<VerifyFindingResult[]> => {
    const findings: VerifyFindingResult[] = [];
    const current = new Set(row.objects.map((o) => o.key));
    // Superseded media versions are evidence too (issue 11 §6): audited alike, but a bad one does not
    // send the fax back (Twilio no longer has those bytes to archive again).
    for (const object of [...row.objects, ...(row.previousObjects ?? []).filter((o) => !current.has(o.key))]) {
      let finding: VerifyFindingResult;
      try {
        const result = await verifyStoredObject(deps.store, object.key, object, { forceFull: options.full });
        // A finding records an unavailable answer as `unverifiable` (the catalog's word since v1).
        finding = { faxSid: row.sid, key: object.key, kind: object.kind, outcome: result.outcome === 'unavailable' ? 'unverifiable' : result.outcome, method: result.method, ...(result.detail ? { detail: result.detail } : {}) };
      } catch (error) {
        finding = { faxSid: row.sid, key: object.key, kind: object.kind, outcome: 'unverifiable', method: options.full ? 'full' : 'checksum', detail: describeError(error) };
      }
      deps.catalog.recordFinding({
        faxSid: row.sid, key: object.key, at: now().toISOString(), method: finding.method as 'full',
        outcome: finding.outcome, detail: finding.detail ?? null, runId: deps.runId,
      });
      findings.push(finding);
    }
    const bad = findings.filter((f) => (f.outcome === 'mismatch' || f.outcome === 'missing') && current.has(f.key));
    if (bad.length > 0) {
      const current = deps.catalog.getFax(row.sid);
      if (current && current.state === 'deleted') {
        for (const f of bad) f.consequence = 'deleted-from-twilio';
      } else if (current && current.state !== 'listed') {
        deps.catalog.resetToListed(row.sid, `re-audit found ${bad.map((f) => `${f.kind} ${f.outcome}`).join(', ')}`);
        for (const f of bad) f.consequence = 'will-rearchive';
      }
    }
    return findings;
  };

  for (const row of deps.catalog.iterateFaxes(500)) {
    if (!AUDITED_STATES.has(row.state)) continue;
    // Drawn for every audited row, so the sampler's count of rows left stays exact.
    if (!sampled() || row.objects.length === 0) continue;
    batch.push(row);
    if (batch.length >= 200) await flush();
  }
  await flush();
  summary.durationMs = Date.now() - started;
  const exitCode = summary.mismatch + summary.missing + summary.unverifiable > 0 ? 1 : 0;
  return { summary, problems, exitCode };
}
