/**
 * The compliance report's numbers, computed in ONE streaming pass over the catalog's faxes.
 * Everything here is pure: `ReportAccumulator.add(fax)` folds one row into bounded aggregates
 * (maps keyed by state, status, account and month; exception lists capped at `exceptionLimit`
 * with their true totals), so 100k faxes cost the same memory as 1k. `buildReportModel` is the
 * one-call form for tests and small catalogs; `writeReport` drives the accumulator itself so the
 * same pass also writes the manifests.
 */
import { ARCHIVED_STATES, FAX_STATES, type FaxState } from '../catalog/fax-states.js';
import type { FaxRow, RunRecord, VerificationMethod } from '../catalog/catalog.js';
import { redactSecrets } from '../errors.js';
import { atRiskCutoffMs, daysUntilPrunedMs } from '../retention.js';
import type { AccountCoverage } from '../pipeline/listing-sweeps.js';
import type { DisclosureEntry } from '../records/disclosure-log.js';
import type { AnchorSummary } from '../records/chain-anchors.js';

export const DEFAULT_EXCEPTION_LIMIT = 1000;

export type ExceptionKind = 'failed' | 'lost' | 'unverified' | 'at-risk' | 'needs-review';

export interface ExceptionItem {
  sid: string;
  accountSid: string;
  state: FaxState;
  dateCreated: string | null;
  attempts: number;
  /** Why it is listed: the last error, or what is missing. Secrets redacted. */
  reason: string | null;
  /** Days left until Twilio prunes it (negative: past the pruning date). Only for at-risk items. */
  daysUntilPruned: number | null;
}

/** A bounded list: the first `items` (oldest first) and how many there are in all. */
export interface ExceptionList {
  total: number;
  items: ExceptionItem[];
  truncated: boolean;
}

export interface MonthCount {
  /** `YYYY-MM` (UTC) */
  month: string;
  faxes: number;
  archived: number;
  bytes: number;
}

export interface AccountCount {
  accountSid: string;
  faxes: number;
  archived: number;
  deleted: number;
  bytes: number;
}

export type VerificationKey = VerificationMethod | 'unverified';

export interface ReportModel {
  generatedAt: string;
  organization: string | null;
  catalogPath: string | null;
  storeUrl: string | null;
  totals: {
    faxes: number;
    /** verified + metadata-only + deleted */
    archived: number;
    /** faxes with media (media recorded or media_sid / pages known) */
    withMedia: number;
    pages: number;
    /** stored objects of archived faxes (media + sidecars): what the manifests list */
    archivedObjects: number;
    /** bytes of those objects (media + sidecars) */
    archivedBytes: number;
    /** of which media (the fax documents themselves); the rest are the metadata sidecars */
    archivedMediaBytes: number;
    deletedFromTwilio: number;
    /**
     * Faxes in at least one exception list, each counted once (a failed fax close to pruning is
     * both failed and at risk: one fax, issue 17).
     */
    faxesWithExceptions: number;
  };
  /** The period the catalog's faxes were created in (Twilio's date_created, UTC), null when empty. */
  period: { earliest: string | null; latest: string | null };
  byState: Record<FaxState, number>;
  /** Twilio's own status (delivered, received, failed, no-answer, ...), `unknown` when absent. */
  byStatus: Record<string, number>;
  byAccount: AccountCount[];
  /** By the month the fax was created (the store's yyyy/mm), oldest first. */
  byMonth: MonthCount[];
  verification: {
    /** Objects of every stored fax by how they were verified. */
    objectsByMethod: Record<VerificationKey, number>;
    objects: number;
    verifiedObjects: number;
    /** Faxes whose media must be archived vs those proven archived. */
    faxesNeedingProof: number;
    faxesProven: number;
    /** 0..1, 1 when there is nothing to prove. */
    coverage: number;
  };
  deletions: {
    /** Receipts by the month they were recorded, oldest first. */
    byMonth: { month: string; deleted: number }[];
    withReceipt: number;
    withRequestId: number;
    /** HTTP 404 receipts: Twilio had already pruned it (after we archived it). */
    alreadyGone: number;
    /** Intents without a receipt: reconciled by the next run. */
    openIntents: number;
  };
  exceptions: Record<ExceptionKind, ExceptionList>;
  runs: RunRecord[];
  /** The catalog checked against the chain anchors in the store (issue 18 §6); absent when not checked. */
  anchors?: AnchorSummary;
  /** Restores and exports, oldest first (issue 18 §5: the archive's accounting of disclosures). */
  disclosures?: DisclosureEntry[];
  /** `headHash`: the newest event's hash (null when empty or broken): anchor it elsewhere. */
  chain: { intact: boolean; brokenAtId: number | null; events: number; headHash: string | null };
  /** Per account: "listed completely up to T" from the listing ledger (issue 11 §3). */
  listing: AccountCoverage[];
}

export interface ReportContext {
  /** The report's clock; at-risk is measured from it. */
  now: Date;
  organization?: string | null;
  catalogPath?: string | null;
  storeUrl?: string | null;
  exceptionLimit?: number;
  /** Exact values to scrub from error text (the auth token, API secret), besides secret-shaped text. */
  knownSecrets?: readonly string[];
}

export interface ReportFinish {
  runs: readonly RunRecord[];
  disclosures?: readonly DisclosureEntry[];
  anchors?: AnchorSummary;
  chain: { intact: boolean; brokenAtId: number | null; events: number; headHash?: string | null };
  listing?: readonly AccountCoverage[];
}

/** Whether a fax not yet archived is within the at-risk window before Twilio prunes it. */
export function isAtRisk(fax: Pick<FaxRow, 'state' | 'dateCreated'>, now: Date): boolean {
  if (ARCHIVED_STATES.includes(fax.state) || fax.state === 'lost') return false;
  const created = parseTime(fax.dateCreated);
  if (created === null) return false;
  return created < atRiskCutoffMs(now);
}

/** Days until Twilio prunes a fax created at `dateCreated` (floor; negative when past). */
export function daysUntilPruned(dateCreated: string | null, now: Date): number | null {
  const created = parseTime(dateCreated);
  if (created === null) return null;
  return daysUntilPrunedMs(created, now);
}

/** `YYYY-MM` of an ISO (or RFC 2822, as Twilio's older APIs give) date in UTC, or null. */
export function monthOf(date: string | null): string | null {
  const t = parseTime(date);
  if (t === null) return null;
  return new Date(t).toISOString().slice(0, 7);
}

function parseTime(date: string | null | undefined): number | null {
  if (!date) return null;
  const t = Date.parse(date);
  return Number.isNaN(t) ? null : t;
}

function hasMedia(fax: FaxRow): boolean {
  return fax.media !== null || fax.mediaSid !== null || fax.objects.some((o) => o.kind === 'media');
}

class BoundedList {
  total = 0;
  readonly items: ExceptionItem[] = [];
  constructor(private readonly limit: number) {}
  push(item: () => ExceptionItem): void {
    this.total += 1;
    if (this.items.length < this.limit) this.items.push(item());
  }
  toJSON(): ExceptionList {
    return { total: this.total, items: this.items, truncated: this.total > this.items.length };
  }
}

/** Folds faxes one at a time into the report's aggregates. Memory is bounded by the number of accounts and months. */
export class ReportAccumulator {
  private readonly now: Date;
  private readonly limit: number;
  private faxes = 0;
  private archived = 0;
  private withMedia = 0;
  private pages = 0;
  private archivedObjects = 0;
  private archivedBytes = 0;
  private archivedMediaBytes = 0;
  private deletedFromTwilio = 0;
  private faxesWithExceptions = 0;
  private earliest: { at: number; text: string } | null = null;
  private latest: { at: number; text: string } | null = null;
  private readonly byState = Object.fromEntries(FAX_STATES.map((s) => [s, 0])) as Record<FaxState, number>;
  private readonly byStatus = new Map<string, number>();
  private readonly byAccount = new Map<string, AccountCount>();
  private readonly byMonth = new Map<string, MonthCount>();
  private readonly objectsByMethod: Record<VerificationKey, number> = { checksum: 0, 'etag-md5': 0, full: 0, unverified: 0 };
  private objects = 0;
  private verifiedObjects = 0;
  private faxesNeedingProof = 0;
  private faxesProven = 0;
  private readonly deletionsByMonth = new Map<string, number>();
  private withReceipt = 0;
  private withRequestId = 0;
  private alreadyGone = 0;
  private openIntents = 0;
  private readonly exceptions: Record<ExceptionKind, BoundedList>;

  constructor(private readonly context: ReportContext) {
    this.now = context.now;
    this.limit = context.exceptionLimit ?? DEFAULT_EXCEPTION_LIMIT;
    this.exceptions = {
      failed: new BoundedList(this.limit),
      lost: new BoundedList(this.limit),
      unverified: new BoundedList(this.limit),
      'at-risk': new BoundedList(this.limit),
      'needs-review': new BoundedList(this.limit),
    };
  }

  add(fax: FaxRow): void {
    this.faxes += 1;
    this.byState[fax.state] = (this.byState[fax.state] ?? 0) + 1;
    const status = fax.status ?? 'unknown';
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    this.pages += fax.numPages ?? 0;
    const media = hasMedia(fax);
    if (media) this.withMedia += 1;

    const isArchived = ARCHIVED_STATES.includes(fax.state);
    let faxBytes = 0;
    for (const object of fax.objects) {
      this.objects += 1;
      const method: VerificationKey = object.verifiedAt !== null && object.verificationMethod ? object.verificationMethod : 'unverified';
      this.objectsByMethod[method] += 1;
      if (method !== 'unverified') this.verifiedObjects += 1;
      if (isArchived) {
        this.archivedObjects += 1;
        faxBytes += object.size;
        if (object.kind === 'media') this.archivedMediaBytes += object.size;
      }
    }
    if (isArchived) {
      this.archived += 1;
      this.archivedBytes += faxBytes;
    }
    if (fax.state !== 'lost') {
      this.faxesNeedingProof += 1;
      if (isArchived) this.faxesProven += 1;
    }

    const account = this.byAccount.get(fax.accountSid) ?? { accountSid: fax.accountSid, faxes: 0, archived: 0, deleted: 0, bytes: 0 };
    account.faxes += 1;
    if (isArchived) account.archived += 1;
    if (fax.state === 'deleted') account.deleted += 1;
    account.bytes += faxBytes;
    this.byAccount.set(fax.accountSid, account);

    const month = monthOf(fax.dateCreated) ?? 'unknown';
    const monthCount = this.byMonth.get(month) ?? { month, faxes: 0, archived: 0, bytes: 0 };
    monthCount.faxes += 1;
    if (isArchived) monthCount.archived += 1;
    monthCount.bytes += faxBytes;
    this.byMonth.set(month, monthCount);

    const created = parseTime(fax.dateCreated);
    if (created !== null) {
      if (this.earliest === null || created < this.earliest.at) this.earliest = { at: created, text: new Date(created).toISOString() };
      if (this.latest === null || created > this.latest.at) this.latest = { at: created, text: new Date(created).toISOString() };
    }

    this.addDeletion(fax);
    if (this.addExceptions(fax, media)) this.faxesWithExceptions += 1;
  }

  private addDeletion(fax: FaxRow): void {
    if (fax.state === 'deleted') this.deletedFromTwilio += 1;
    const deletion = fax.deletion;
    if (!deletion) return;
    if (deletion.receiptAt === null) {
      this.openIntents += 1;
      return;
    }
    this.withReceipt += 1;
    if (deletion.requestId) this.withRequestId += 1;
    if (deletion.httpStatus === 404) this.alreadyGone += 1;
    const month = monthOf(deletion.receiptAt) ?? 'unknown';
    this.deletionsByMonth.set(month, (this.deletionsByMonth.get(month) ?? 0) + 1);
  }

  /** Files the fax under every exception that applies; true when it is in any. */
  private addExceptions(fax: FaxRow, media: boolean): boolean {
    const item = (reason: string | null, daysLeft: number | null = null) => (): ExceptionItem => ({
      sid: fax.sid,
      accountSid: fax.accountSid,
      state: fax.state,
      dateCreated: fax.dateCreated,
      attempts: fax.attempts,
      reason: reason === null ? null : redactSecrets(reason, this.context.knownSecrets ?? []),
      daysUntilPruned: daysLeft,
    });
    let any = false;
    if (fax.state === 'failed') {
      this.exceptions.failed.push(item(fax.lastError));
      any = true;
    }
    if (fax.state === 'lost') {
      this.exceptions.lost.push(item(fax.lastError ?? 'gone from Twilio before it was archived'));
      any = true;
    }
    if (fax.state === 'needs-review') {
      this.exceptions['needs-review'].push(item(fax.reviewReason ?? 'the record says media, none can be had'));
      any = true;
    }
    if (fax.state === 'listed' || fax.state === 'fetched' || fax.state === 'stored') {
      this.exceptions.unverified.push(item(unverifiedReason(fax.state, media)));
      any = true;
    }
    if (isAtRisk(fax, this.now)) {
      this.exceptions['at-risk'].push(item(fax.lastError ?? `not archived (${fax.state})`, daysUntilPruned(fax.dateCreated, this.now)));
      any = true;
    }
    return any;
  }

  /** The accounts seen so far. */
  accounts(): string[] {
    return [...this.byAccount.keys()];
  }

  finish(extra: ReportFinish): ReportModel {
    const coverage = this.faxesNeedingProof === 0 ? 1 : this.faxesProven / this.faxesNeedingProof;
    return {
      generatedAt: this.now.toISOString(),
      organization: this.context.organization ?? null,
      catalogPath: this.context.catalogPath ?? null,
      storeUrl: this.context.storeUrl ?? null,
      totals: {
        faxes: this.faxes,
        archived: this.archived,
        withMedia: this.withMedia,
        pages: this.pages,
        archivedObjects: this.archivedObjects,
        archivedBytes: this.archivedBytes,
        archivedMediaBytes: this.archivedMediaBytes,
        deletedFromTwilio: this.deletedFromTwilio,
        faxesWithExceptions: this.faxesWithExceptions,
      },
      period: { earliest: this.earliest?.text ?? null, latest: this.latest?.text ?? null },
      byState: { ...this.byState },
      byStatus: Object.fromEntries([...this.byStatus.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
      byAccount: [...this.byAccount.values()].sort((a, b) => b.faxes - a.faxes || a.accountSid.localeCompare(b.accountSid)),
      byMonth: [...this.byMonth.values()].sort((a, b) => compareMonths(a.month, b.month)),
      verification: {
        objectsByMethod: { ...this.objectsByMethod },
        objects: this.objects,
        verifiedObjects: this.verifiedObjects,
        faxesNeedingProof: this.faxesNeedingProof,
        faxesProven: this.faxesProven,
        coverage,
      },
      deletions: {
        byMonth: [...this.deletionsByMonth.entries()]
          .map(([month, deleted]) => ({ month, deleted }))
          .sort((a, b) => compareMonths(a.month, b.month)),
        withReceipt: this.withReceipt,
        withRequestId: this.withRequestId,
        alreadyGone: this.alreadyGone,
        openIntents: this.openIntents,
      },
      exceptions: {
        failed: this.exceptions.failed.toJSON(),
        lost: this.exceptions.lost.toJSON(),
        unverified: this.exceptions.unverified.toJSON(),
        'at-risk': this.exceptions['at-risk'].toJSON(),
        'needs-review': this.exceptions['needs-review'].toJSON(),
      },
      runs: [...extra.runs],
      disclosures: [...(extra.disclosures ?? [])],
      ...(extra.anchors ? { anchors: extra.anchors } : {}),
      chain: { ...extra.chain, headHash: extra.chain.intact ? (extra.chain.headHash ?? null) : null },
      listing: [...(extra.listing ?? [])],
    };
  }
}

function unverifiedReason(state: FaxState, media: boolean): string {
  if (state === 'listed') return media ? 'listed; media not downloaded yet' : 'listed; metadata not stored yet';
  if (state === 'fetched') return 'media downloaded; not stored yet';
  return 'stored; not verified yet';
}

/** `unknown` sorts last; `YYYY-MM` strings sort as text. */
function compareMonths(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'unknown') return 1;
  if (b === 'unknown') return -1;
  return a < b ? -1 : 1;
}

/** One-call form: folds every fax (any iterable, e.g. `catalog.iterateFaxes()`) and finishes. */
export function buildReportModel(input: ReportContext & ReportFinish & { faxes: Iterable<FaxRow> }): ReportModel {
  const accumulator = new ReportAccumulator(input);
  for (const fax of input.faxes) accumulator.add(fax);
  return accumulator.finish(input);
}
