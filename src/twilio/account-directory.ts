/**
 * The account directory: the one place that knows which accounts a run acts for, with which
 * credentials, and in which status. archive/sync, serve and numbers all ask it (issue 12: the map
 * from account to gateway was built in three places with three rules for closed subaccounts).
 *
 * What Twilio allows (issue 12 §1): the main account's auth token lists the subaccounts WITH their
 * auth tokens, and each subaccount is then read with its own token (the Fax API has no account in
 * its path). An API key belongs to one account: a Standard key cannot read the Accounts list, a
 * Main key lists the accounts with an empty auth_token, and no key of the parent reaches a
 * subaccount. So with an API key every subaccount needs its own credentials, from the credentials
 * file; a subaccount without one is named in one line, before anything is written.
 *
 * Account status (issue 12 §2): a suspended subaccount answers 401 / 20003 to its own credentials,
 * so it is a failed account of the run (exit 1), never a reason to stop the others; a closed one
 * stays in the list and is not reached (its unfinished faxes are named by the run).
 *
 * The AccountSid of a webhook comes from an unauthenticated request, so an unknown one must not
 * make every request list the accounts again: the list is refreshed at most once per
 * `refreshIntervalMs`.
 */
import { AuthError, rememberSecret } from '../errors.js';
import type { SubaccountInfo, TwilioGateway } from './twilio-gateway.js';

/** One account's own credentials (from the credentials file). */
export interface OwnCredentials {
  accountSid: string;
  /** The account sid (with its auth token) or an API key sid of that account. */
  username: string;
  /** A secret. */
  password: string;
  /** The auth token, when known (webhook signatures are made with it). */
  authToken: string | null;
}

export interface AccountDirectoryOptions {
  /** The main account's gateway (its credentials from the environment). */
  gateway: TwilioGateway;
  /** The main account's auth token (TWILIO_AUTH_TOKEN); null when only an API key is configured. */
  mainAuthToken: string | null;
  /** Whether the main gateway authenticates with an API key (then no subaccount token is ever listed). */
  mainUsesApiKey?: boolean;
  /** The main account's own Basic-auth pair (for `credentialsFor`). */
  mainCredentials?: { username: string; password: string };
  /** Per-account credentials from the credentials file, by account sid. */
  credentials?: ReadonlyMap<string, OwnCredentials>;
  refreshIntervalMs?: number;
  nowMs?: () => number;
}

/** A subaccount as the directory knows it. */
export interface DirectoryAccount {
  sid: string;
  friendlyName: string;
  /** `active`, `suspended`, `closed`, or `unknown` (named only by the credentials file). */
  status: string;
}

/** An account the run does not act for, and why (one line, no secret). */
export interface AccountProblem {
  sid: string;
  reason: string;
}

export interface RunAccounts {
  /** Accounts the run acts for, main first, each with its own credentials. */
  gateways: Map<string, TwilioGateway>;
  /** Subaccounts known to be unreachable now (suspended): failed accounts of the run. */
  failed: AccountProblem[];
  /** Subaccounts not reached by design (closed): their unfinished faxes are named, never silently kept. */
  skipped: AccountProblem[];
  /** Warnings worth a line (e.g. a Standard key that cannot list the accounts). */
  warnings: string[];
}

export interface AccountDirectory {
  /** The main account's sid. */
  readonly mainAccountSid: string;
  /**
   * The auth token that signs this account's webhooks; null for an account that is neither the
   * main one nor one of its subaccounts, or whose token is not known. Throws when the accounts list
   * cannot be read.
   */
  authTokenFor(accountSid: string): Promise<string | null>;
  /** A gateway acting for this account with its own credentials; null for an unknown account or one without credentials. */
  gatewayFor(accountSid: string): Promise<TwilioGateway | null>;
  /**
   * The Basic-auth pair that acts for this account with its own credentials (the main account's
   * own; a subaccount's listed token or its credentials-file entry); null when none is known.
   */
  credentialsFor(accountSid: string): Promise<{ username: string; password: string } | null>;
  /** Every secret learnt so far, to scrub from any text before it is logged or recorded. */
  knownSecrets(): string[];
  /**
   * Lists the subaccounts now, whatever the refresh interval (at start, so bad credentials fail
   * before the server listens). Returns how many subaccounts are known. Throws like the gateway.
   */
  load(): Promise<number>;
  /** The subaccounts as last listed (load first). */
  subaccounts(): DirectoryAccount[];
  /** Warnings the listing left (e.g. a Standard key that cannot read the accounts list). */
  warnings(): string[];
  /**
   * The accounts a run acts for: the main one (when `include(main)`), and with `subaccounts` every
   * subaccount `include` keeps. Throws AuthError (exit 2) naming every kept subaccount that has no
   * credential, and how to give one; throws like the gateway when the main account is refused.
   */
  accountsForRun(options: { subaccounts: boolean; include?: (accountSid: string) => boolean }): Promise<RunAccounts>;
}

interface Known {
  info: SubaccountInfo;
}

export function createAccountDirectory(options: AccountDirectoryOptions): AccountDirectory {
  const { gateway } = options;
  const credentials = options.credentials ?? new Map<string, OwnCredentials>();
  const refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
  const nowMs = options.nowMs ?? Date.now;
  let known = new Map<string, Known>();
  const gateways = new Map<string, TwilioGateway>([[gateway.accountSid, gateway]]);
  let listedAt: number | null = null;
  let refreshing: Promise<void> | null = null;
  const warnings: string[] = [];
  let keyCannotList = false;

  /** The list from Twilio, or (when the key may not read it) the accounts the credentials file names. */
  async function listFromTwilio(): Promise<SubaccountInfo[]> {
    try {
      return await gateway.listSubaccounts();
    } catch (error) {
      // A Standard API key may not read /Accounts (401 / 20003). The credentials file then says
      // which subaccounts there are; without one, the main key's refusal is the answer.
      if (!(error instanceof AuthError) || !options.mainUsesApiKey) throw error;
      keyCannotList = true;
      const note = 'the API key cannot read the accounts list (a Standard key): only the subaccounts the credentials file names are known';
      if (!warnings.includes(note)) warnings.push(note);
      return [...credentials.values()]
        .filter((c) => c.accountSid !== gateway.accountSid)
        .map((c) => ({ sid: c.accountSid, friendlyName: '', status: 'unknown', authToken: '' }));
    }
  }

  async function refresh(force = false): Promise<void> {
    if (refreshing) return refreshing;
    if (!force && listedAt !== null && nowMs() - listedAt < refreshIntervalMs) return;
    refreshing = (async () => {
      // Counted as a refresh even when it fails, so a failing Accounts API is not hammered either.
      listedAt = nowMs();
      const list = await listFromTwilio();
      const next = new Map<string, Known>();
      for (const info of list) {
        const own = credentials.get(info.sid);
        // The listed token (the parent's auth token sees it) wins; else the account's own from the file.
        const merged: SubaccountInfo = info.authToken
          ? info
          : { ...info, authToken: own?.authToken ?? '', ...(own ? { credentials: { username: own.username, password: own.password } } : {}) };
        rememberSecret(merged.authToken, merged.sid);
        const previous = known.get(info.sid);
        // A rotated token or a changed status needs a new gateway.
        if (previous && (previous.info.authToken !== merged.authToken || previous.info.status !== merged.status)) gateways.delete(info.sid);
        next.set(info.sid, { info: merged });
      }
      known = next;
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function subaccount(accountSid: string): Promise<SubaccountInfo | null> {
    if (!known.has(accountSid)) await refresh();
    return known.get(accountSid)?.info ?? null;
  }

  function gatewayOf(info: SubaccountInfo): TwilioGateway | null {
    const existing = gateways.get(info.sid);
    if (existing) return existing;
    if (!info.authToken && !info.credentials) return null;
    const created = gateway.forSubaccount(info);
    gateways.set(info.sid, created);
    return created;
  }

  return {
    mainAccountSid: gateway.accountSid,
    async authTokenFor(accountSid) {
      if (accountSid === gateway.accountSid) return options.mainAuthToken;
      const info = await subaccount(accountSid);
      return info?.authToken ? info.authToken : null;
    },
    async gatewayFor(accountSid) {
      if (accountSid === gateway.accountSid) return gateway;
      const info = await subaccount(accountSid);
      if (!info || info.status === 'closed') return null;
      return gatewayOf(info);
    },
    async credentialsFor(accountSid) {
      if (accountSid === gateway.accountSid) return options.mainCredentials ?? null;
      const info = await subaccount(accountSid);
      if (!info) return null;
      if (info.credentials) return info.credentials;
      return info.authToken ? { username: info.sid, password: info.authToken } : null;
    },
    async load() {
      await refresh(true);
      return known.size;
    },
    warnings() {
      return [...warnings];
    },
    subaccounts() {
      return [...known.values()].map(({ info }) => ({ sid: info.sid, friendlyName: info.friendlyName, status: info.status }));
    },
    async accountsForRun({ subaccounts, include = () => true }) {
      const run: RunAccounts = { gateways: new Map(), failed: [], skipped: [], warnings };
      if (include(gateway.accountSid)) run.gateways.set(gateway.accountSid, gateway);
      if (!subaccounts) return run;
      await refresh(true);
      if (keyCannotList && credentials.size === 0) {
        throw new AuthError(
          'the API key cannot read the accounts list (a Standard key), so its subaccounts are unknown: ' +
            'name each as "ACsid authToken" (or "ACsid SKkey secret") in a file only you can read (chmod 600), ' +
            'given by --credentials FILE or FAX_SUNSET_CREDENTIALS=FILE (or use the main account\'s auth token)',
        );
      }
      const missing: string[] = [];
      for (const { info } of [...known.values()].sort((a, b) => a.info.sid.localeCompare(b.info.sid))) {
        if (!include(info.sid)) continue;
        if (info.status === 'closed') {
          run.skipped.push({ sid: info.sid, reason: 'closed' });
          continue;
        }
        if (info.status === 'suspended') {
          run.failed.push({ sid: info.sid, reason: 'suspended: Twilio refuses its credentials (20003) until it is reactivated' });
          continue;
        }
        const sub = gatewayOf(info);
        if (sub) run.gateways.set(info.sid, sub);
        else missing.push(info.sid);
      }
      if (missing.length > 0) {
        const why = options.mainUsesApiKey ? 'an API key never reaches its subaccounts' : 'Twilio listed them without an auth token';
        throw new AuthError(
          `no credentials for subaccount${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (${why}): ` +
            `list each as "ACsid authToken" (or "ACsid SKkey secret") in a file only you can read (chmod 600), ` +
            'given by --credentials FILE or FAX_SUNSET_CREDENTIALS=FILE',
        );
      }
      return run;
    },
    knownSecrets() {
      const secrets = [...known.values()].map(({ info }) => info.authToken).filter((t) => t !== '');
      for (const c of credentials.values()) secrets.push(c.password);
      if (options.mainAuthToken) secrets.push(options.mainAuthToken);
      return secrets;
    },
  };
}
