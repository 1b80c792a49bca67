/**
 * The emulated Twilio world: accounts (with API keys), numbers and faxes, and every change to them.
 * Each change is journaled (when `--state` is set) before it is applied, so the HTTP layers only
 * decide who may do what and render the results.
 */
import type { ResolvedEmulatorOptions } from './emulator-options.js';
import {
  CLOSED_ACCOUNT_RETENTION_MS,
  FAX_STATUSES,
  type AccountStatus,
  type ApiKeyKind,
  type EmulatorAccount,
  type FaxRecord,
  type NumberUpdate,
  type PhoneNumberRecord,
} from './emulator-records.js';
import { FaxTable } from './fax-table.js';
import { hashHex32 } from './seeded-random.js';
import { StateJournal, type JournalEntry } from './state-journal.js';
import { generateWorld } from './world-generator.js';
import { applyWorldBehaviours } from './world-behaviours.js';

/** Who a request's credentials are: an account by its auth token, or by one of its API keys. */
export interface EmulatorActor {
  account: EmulatorAccount;
  /** `auth-token`, or the kind of the API key used. */
  credential: 'auth-token' | ApiKeyKind;
}

export class EmulatorState {
  readonly accounts: EmulatorAccount[];
  readonly numbers: PhoneNumberRecord[];
  readonly faxes = new FaxTable();
  private readonly accountBySid = new Map<string, EmulatorAccount>();
  private readonly accountByKey = new Map<string, EmulatorAccount>();
  private readonly numberBySid = new Map<string, PhoneNumberRecord>();
  private readonly journal: StateJournal | undefined;
  private sidCounter = 0;

  constructor(private readonly options: ResolvedEmulatorOptions) {
    const world = generateWorld({
      seed: options.seed,
      faxes: options.faxes,
      numbers: options.numbers,
      accounts: options.accounts,
      nowMs: options.nowMs,
    });
    this.accounts = world.accounts;
    this.numbers = world.numbers;
    this.accounts.forEach((a, i) => {
      a.apiKeyKind = options.apiKeys[i] ?? 'standard';
      // The last subaccounts are closed, the ones before them suspended: the main account never is.
      const fromEnd = this.accounts.length - i;
      if (i > 0 && fromEnd <= options.closedAccounts) {
        a.status = 'closed';
        a.closedMs = options.nowMs;
      } else if (i > 0 && fromEnd <= options.closedAccounts + options.suspendedAccounts) {
        a.status = 'suspended';
      }
    });
    for (const a of this.accounts) {
      this.accountBySid.set(a.sid, a);
      this.accountByKey.set(a.apiKeySid, a);
    }
    for (const n of this.numbers) this.numberBySid.set(n.sid, n);
    applyWorldBehaviours(world.faxes, options.world, options.seed, options.nowMs);
    this.faxes.load(world.faxes);
    if (options.stateFile) {
      const { journal, entries } = StateJournal.open(options.stateFile, {
        op: 'header',
        seed: options.seed,
        faxes: options.faxes,
        numbers: options.numbers,
        accounts: options.accounts,
        nowMs: options.nowMs,
      });
      for (const entry of entries) this.apply(entry);
      // Sids made after start-up must never repeat one made (and maybe deleted) before a restart.
      // Every newSid call is followed by a put-fax line, and one line follows at most two calls
      // (a fax and its media sid), so twice their count bounds the counters already used.
      this.sidCounter = 2 * entries.filter((e) => e.op === 'put-fax').length;
      this.journal = journal;
    }
  }

  get mainAccount(): EmulatorAccount {
    return this.accounts[0] as EmulatorAccount;
  }

  /**
   * Who `user:password` (account sid + auth token, or API key sid + secret) is; null when refused,
   * as a suspended or closed account's own credentials are (Twilio: 401 / 20003).
   */
  authenticate(user: string, password: string): EmulatorActor | null {
    const byAccount = this.accountBySid.get(user);
    const byKey = byAccount ? undefined : this.accountByKey.get(user);
    const actor: EmulatorActor | null = byAccount
      ? (byAccount.authToken === password ? { account: byAccount, credential: 'auth-token' } : null)
      : byKey && byKey.apiKeySecret === password ? { account: byKey, credential: byKey.apiKeyKind } : null;
    if (!actor || actor.account.status !== 'active') return null;
    return actor;
  }

  /** Changes an account's status (journaled); closing one starts its 30 days. Throws for the main account. */
  setAccountStatus(sid: string, status: AccountStatus, nowMs: number): EmulatorAccount {
    const account = this.accountBySid.get(sid);
    if (!account) throw new RangeError(`no account ${sid}`);
    if (account === this.mainAccount && status !== 'active') throw new RangeError('the main account cannot be suspended or closed here');
    if (account.status === 'closed' && status !== 'closed') throw new RangeError(`account ${sid} is closed: Twilio never reopens one`);
    const closedMs = status === 'closed' ? (account.closedMs ?? nowMs) : null;
    this.commit({ op: 'account-status', sid, status, closedMs });
    return account;
  }

  /** Twilio removes a closed account's data 30 days after closure: its faxes vanish when the clock passes that. */
  purgeClosedAccounts(nowMs: number): void {
    for (const account of this.accounts) {
      if (account.status !== 'closed' || account.closedMs === null || nowMs < account.closedMs + CLOSED_ACCOUNT_RETENTION_MS) continue;
      for (const fax of this.faxes.all(account.sid)) this.faxes.remove(fax.sid);
    }
  }

  account(sid: string): EmulatorAccount | undefined {
    return this.accountBySid.get(sid);
  }

  /**
   * Whether `actor` may act on `target`'s 2010 resources: itself, or its subaccounts when it is their
   * parent AND authenticated with the parent's auth token. No API key of the parent reaches a
   * subaccount (Twilio: 401 / 20003).
   */
  mayActOn(actor: EmulatorActor, target: EmulatorAccount): boolean {
    const self = actor.account;
    if (self.sid === target.sid) return true;
    return actor.credential === 'auth-token' && target.ownerAccountSid === self.sid && self.ownerAccountSid === self.sid;
  }

  /**
   * Accounts visible to `actor` in Accounts.json: itself, plus its subaccounts when it is a main
   * account; listed to an auth token or a Main key (a Standard key may not read the list at all).
   */
  visibleAccounts(actor: EmulatorActor): EmulatorAccount[] {
    const self = actor.account;
    return this.accounts.filter((a) => a.sid === self.sid || (a.ownerAccountSid === self.sid && self.ownerAccountSid === self.sid));
  }

  number(sid: string): PhoneNumberRecord | undefined {
    return this.numberBySid.get(sid);
  }

  numbersOf(accountSid: string): PhoneNumberRecord[] {
    return this.numbers.filter((n) => n.accountSid === accountSid);
  }

  numberByPhone(phoneNumber: string): PhoneNumberRecord | undefined {
    return this.numbers.find((n) => n.phoneNumber === phoneNumber);
  }

  /** A fresh sid for something created after start-up: deterministic from the seed and a counter. */
  newSid(prefix: 'FX' | 'ME'): string {
    for (;;) {
      const sid = prefix + hashHex32(this.options.seed, 'created', prefix, this.sidCounter++);
      if (!this.faxes.get(sid) && !this.faxes.getByMediaSid(sid)) return sid;
    }
  }

  deleteFax(sid: string): boolean {
    if (!this.faxes.get(sid)) return false;
    this.commit({ op: 'delete-fax', sid });
    return true;
  }

  deleteMedia(faxSid: string, nowMs: number): boolean {
    const fax = this.faxes.get(faxSid);
    if (!fax?.mediaSid) return false;
    this.commit({ op: 'put-fax', fax: { ...fax, mediaSid: null, updatedMs: Math.max(fax.updatedMs, nowMs) } });
    return true;
  }

  /** Stores a new or changed fax (journaled); returns the stored record. */
  putFax(fax: FaxRecord): FaxRecord {
    this.commit({ op: 'put-fax', fax });
    return this.faxes.get(fax.sid) as FaxRecord;
  }

  updateNumber(sid: string, update: NumberUpdate, nowMs: number): PhoneNumberRecord | undefined {
    if (!this.numberBySid.has(sid)) return undefined;
    this.commit({ op: 'update-number', sid, update: { ...update, updatedMs: nowMs } });
    return this.numberBySid.get(sid);
  }

  close(): void {
    this.journal?.close();
  }

  private commit(entry: JournalEntry): void {
    this.journal?.append(entry);
    this.apply(entry);
  }

  private apply(entry: JournalEntry): void {
    switch (entry.op) {
      case 'delete-fax':
        this.faxes.remove(entry.sid);
        break;
      case 'delete-media': {
        const fax = this.faxes.get(entry.faxSid);
        if (fax) this.faxes.setMediaSid(fax, null);
        break;
      }
      case 'put-fax':
        if (!FAX_STATUSES.includes(entry.fax.status)) throw new Error(`bad fax status ${entry.fax.status} in state`);
        this.faxes.put(entry.fax);
        break;
      case 'account-status': {
        const account = this.accountBySid.get(entry.sid);
        if (account) {
          account.status = entry.status;
          account.closedMs = entry.closedMs;
        }
        break;
      }
      case 'update-number': {
        const n = this.numberBySid.get(entry.sid);
        if (n) Object.assign(n, entry.update);
        break;
      }
    }
  }
}
