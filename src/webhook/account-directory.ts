/**
 * Which account a webhook belongs to. A fax to a subaccount's number is signed with THAT
 * subaccount's auth token and its fax can only be fetched with its credentials, so the server keeps
 * the main account and its subaccounts (from the parent's Accounts list, which carries each
 * subaccount's token) and looks requests up by their AccountSid.
 *
 * The AccountSid comes from an unauthenticated request, so an unknown one must not make every
 * request list the accounts again: the list is refreshed at most once per `refreshIntervalMs`.
 */
import type { SubaccountInfo, TwilioGateway } from '../twilio/twilio-gateway.js';

export interface AccountDirectory {
  /** The main account's sid. */
  readonly mainAccountSid: string;
  /**
   * The auth token that signs this account's webhooks; null for an account that is neither the
   * main one nor one of its subaccounts (or when the main token is unknown). Throws when the
   * accounts list cannot be read.
   */
  authTokenFor(accountSid: string): Promise<string | null>;
  /** A gateway acting for this account with its own credentials; null for an unknown account. */
  gatewayFor(accountSid: string): Promise<TwilioGateway | null>;
  /** Every token learnt so far, to scrub from any text before it is logged or recorded. */
  knownSecrets(): string[];
  /**
   * Lists the subaccounts now, whatever the refresh interval (at start, so bad credentials fail
   * before the server listens). Returns how many subaccounts are known. Throws like the gateway.
   */
  load(): Promise<number>;
}

export interface AccountDirectoryOptions {
  gateway: TwilioGateway;
  /** The main account's auth token (TWILIO_AUTH_TOKEN); null when only an API key is configured. */
  mainAuthToken: string | null;
  refreshIntervalMs?: number;
  nowMs?: () => number;
}

export function createAccountDirectory(options: AccountDirectoryOptions): AccountDirectory {
  const { gateway } = options;
  const refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
  const nowMs = options.nowMs ?? Date.now;
  let subaccounts = new Map<string, SubaccountInfo>();
  const gateways = new Map<string, TwilioGateway>([[gateway.accountSid, gateway]]);
  let listedAt: number | null = null;
  let refreshing: Promise<void> | null = null;

  async function refresh(force = false): Promise<void> {
    if (refreshing) return refreshing;
    if (!force && listedAt !== null && nowMs() - listedAt < refreshIntervalMs) return;
    refreshing = (async () => {
      // Counted as a refresh even when it fails, so a failing Accounts API is not hammered either.
      listedAt = nowMs();
      const list = await gateway.listSubaccounts();
      const next = new Map(list.map((sub) => [sub.sid, sub]));
      for (const [sid, sub] of next) {
        const previous = subaccounts.get(sid);
        // A rotated token needs a new gateway.
        if (previous && previous.authToken !== sub.authToken) gateways.delete(sid);
      }
      subaccounts = next;
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function subaccount(accountSid: string): Promise<SubaccountInfo | null> {
    if (!subaccounts.has(accountSid)) await refresh();
    return subaccounts.get(accountSid) ?? null;
  }

  return {
    mainAccountSid: gateway.accountSid,
    async authTokenFor(accountSid) {
      if (accountSid === gateway.accountSid) return options.mainAuthToken;
      return (await subaccount(accountSid))?.authToken ?? null;
    },
    async gatewayFor(accountSid) {
      const known = gateways.get(accountSid);
      if (known) return known;
      const sub = await subaccount(accountSid);
      if (!sub) return null;
      const created = gateway.forSubaccount(sub);
      gateways.set(accountSid, created);
      return created;
    },
    async load() {
      await refresh(true);
      return subaccounts.size;
    },
    knownSecrets() {
      const secrets = [...subaccounts.values()].map((sub) => sub.authToken);
      if (options.mainAuthToken) secrets.push(options.mainAuthToken);
      return secrets;
    },
  };
}
