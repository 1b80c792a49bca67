/**
 * The emulator's faxes, per account, kept in list order (newest first: date_created desc, then
 * sid desc) so a page is a binary search plus a short scan, even at 100k faxes.
 *
 * Paging is by POSITION, not offset: a page token names the (date_created, sid) of the last fax
 * the client saw, so a fax deleted while the client pages does not shift later faxes onto pages
 * already read (twilio-fax-api.md, "List").
 */
import type { FaxRecord } from './emulator-records.js';

/** A point in list order: the (date_created, sid) of a fax, which need not exist any more. */
export interface ListPosition {
  createdMs: number;
  sid: string;
}

export interface FaxFilter {
  from?: string;
  to?: string;
  /** DateCreatedAfter: exclusive. */
  createdAfterMs?: number;
  /** DateCreatedOnOrBefore: inclusive. */
  createdOnOrBeforeMs?: number;
}

export interface FaxPageRequest {
  filter: FaxFilter;
  pageSize: number;
  /** Faxes strictly after this position (next pages), or strictly before it (previous pages). */
  after?: ListPosition;
  before?: ListPosition;
}

export interface FaxPage {
  faxes: FaxRecord[];
  /** Whether any matching fax lies beyond the page in the paging direction. */
  hasMore: boolean;
}

/** Negative when `a` comes first in list order. */
export function compareListOrder(a: ListPosition, b: ListPosition): number {
  if (a.createdMs !== b.createdMs) return b.createdMs - a.createdMs;
  return a.sid < b.sid ? 1 : a.sid > b.sid ? -1 : 0;
}

function matches(fax: FaxRecord, filter: FaxFilter): boolean {
  if (filter.from !== undefined && fax.from !== filter.from) return false;
  if (filter.to !== undefined && fax.to !== filter.to) return false;
  if (filter.createdAfterMs !== undefined && !(fax.createdMs > filter.createdAfterMs)) return false;
  if (filter.createdOnOrBeforeMs !== undefined && !(fax.createdMs <= filter.createdOnOrBeforeMs)) return false;
  return true;
}

class AccountFaxes {
  /** In list order; removed faxes stay as holes (undefined-free: we filter by `bySid`) until compaction. */
  ordered: FaxRecord[] = [];
  removed = 0;
  live = 0;
}

export class FaxTable {
  private readonly bySid = new Map<string, FaxRecord>();
  private readonly byMediaSid = new Map<string, FaxRecord>();
  private readonly accounts = new Map<string, AccountFaxes>();

  /** Loads many faxes at once (start-up): one sort per account instead of one insert each. */
  load(faxes: readonly FaxRecord[]): void {
    for (const fax of faxes) {
      this.bySid.set(fax.sid, fax);
      if (fax.mediaSid) this.byMediaSid.set(fax.mediaSid, fax);
      const account = this.account(fax.accountSid);
      account.ordered.push(fax);
      account.live++;
    }
    for (const account of this.accounts.values()) account.ordered.sort(compareListOrder);
  }

  get(sid: string): FaxRecord | undefined {
    return this.bySid.get(sid);
  }

  getByMediaSid(mediaSid: string): FaxRecord | undefined {
    return this.byMediaSid.get(mediaSid);
  }

  /**
   * Adds a fax, or replaces the fax with the same sid (its date_created may have changed). Stores
   * a copy (the list tells live entries from removed ones by identity) and returns it.
   */
  put(record: FaxRecord): FaxRecord {
    const fax = { ...record };
    if (this.bySid.has(fax.sid)) this.remove(fax.sid);
    this.bySid.set(fax.sid, fax);
    if (fax.mediaSid) this.byMediaSid.set(fax.mediaSid, fax);
    const account = this.account(fax.accountSid);
    const at = this.firstIndexAfter(account.ordered, fax, true);
    account.ordered.splice(at, 0, fax);
    account.live++;
    return fax;
  }

  /** Changes a fax in place; `createdMs` and `sid` must not change (use `put`). */
  setMediaSid(fax: FaxRecord, mediaSid: string | null): void {
    if (fax.mediaSid) this.byMediaSid.delete(fax.mediaSid);
    fax.mediaSid = mediaSid;
    if (mediaSid) this.byMediaSid.set(mediaSid, fax);
  }

  /** Removes a fax; false when there was none. */
  remove(sid: string): boolean {
    const fax = this.bySid.get(sid);
    if (!fax) return false;
    this.bySid.delete(sid);
    if (fax.mediaSid) this.byMediaSid.delete(fax.mediaSid);
    const account = this.account(fax.accountSid);
    account.live--;
    account.removed++;
    // Removal is O(1) (the list skips faxes no longer in bySid); compaction keeps scans short.
    if (account.removed > 1024 && account.removed > account.ordered.length / 4) {
      account.ordered = account.ordered.filter((f) => this.bySid.get(f.sid) === f);
      account.removed = 0;
    }
    return true;
  }

  /** Faxes left per account. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [sid, account] of this.accounts) out[sid] = account.live;
    return out;
  }

  /** Every current fax of an account (or of all), in list order. */
  all(accountSid?: string): FaxRecord[] {
    const lists = accountSid === undefined ? [...this.accounts.values()] : [this.account(accountSid)];
    const out: FaxRecord[] = [];
    for (const account of lists) for (const fax of account.ordered) if (this.bySid.get(fax.sid) === fax) out.push(fax);
    return accountSid === undefined ? out.sort(compareListOrder) : out;
  }

  page(accountSid: string, request: FaxPageRequest): FaxPage {
    const list = this.account(accountSid).ordered;
    const { filter, pageSize } = request;
    const faxes: FaxRecord[] = [];
    const isLive = (f: FaxRecord) => this.bySid.get(f.sid) === f && matches(f, filter);
    if (request.before) {
      let i = this.firstIndexAfter(list, request.before, true) - 1;
      for (; i >= 0 && faxes.length < pageSize; i--) {
        const fax = list[i] as FaxRecord;
        if (isLive(fax)) faxes.push(fax);
      }
      let hasMore = false;
      for (; i >= 0 && !hasMore; i--) hasMore = isLive(list[i] as FaxRecord);
      return { faxes: faxes.reverse(), hasMore };
    }
    let i = request.after ? this.firstIndexAfter(list, request.after, false) : 0;
    if (filter.createdOnOrBeforeMs !== undefined) {
      const bound = { createdMs: filter.createdOnOrBeforeMs, sid: '\uffff' };
      i = Math.max(i, this.firstIndexAfter(list, bound, true));
    }
    for (; i < list.length && faxes.length < pageSize; i++) {
      const fax = list[i] as FaxRecord;
      if (filter.createdAfterMs !== undefined && fax.createdMs <= filter.createdAfterMs) break;
      if (isLive(fax)) faxes.push(fax);
    }
    let hasMore = false;
    for (; i < list.length && !hasMore; i++) {
      const fax = list[i] as FaxRecord;
      if (filter.createdAfterMs !== undefined && fax.createdMs <= filter.createdAfterMs) break;
      hasMore = isLive(fax);
    }
    return { faxes, hasMore };
  }

  /**
   * Index of the first element ordered after `position` (or at-or-after when `inclusive`), by
   * binary search over the list order.
   */
  private firstIndexAfter(list: readonly FaxRecord[], position: ListPosition, inclusive: boolean): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareListOrder(list[mid] as FaxRecord, position);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private account(sid: string): AccountFaxes {
    let account = this.accounts.get(sid);
    if (!account) {
      account = new AccountFaxes();
      this.accounts.set(sid, account);
    }
    return account;
  }
}
