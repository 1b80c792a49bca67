/**
 * The Twilio emulator's public face: `startEmulator(options)` starts the API host (Fax v1, 2010
 * Accounts/IncomingPhoneNumbers, `/_emulator/` control surface) and the media host on a second
 * port, both on loopback by default. It imports nothing from the rest of fax-sunset.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandler } from './api-server.js';
import { accountsSummary, createControlHandler } from './control-routes.js';
import { EmulatorClock, mediaUrlFor, type EmulatorContext } from './emulator-context.js';
import { createFax, pruneFax, updateFax, type FaxChange, type NewFaxInput } from './emulator-hooks.js';
import { resolveEmulatorOptions, type EmulatorOptions } from './emulator-options.js';
import { EmulatorState } from './emulator-state.js';
import type { AccountStatus, ApiKeyKind } from './emulator-records.js';
import { EmulatorStats, type EmulatorStatsSnapshot } from './emulator-stats.js';
import { FaultPlan } from './fault-plan.js';
import { deliverInboundFax, type InboundFaxInput, type InboundFaxResult } from './inbound-fax.js';
import { MediaSigner } from './media-signer.js';
import { ClockEffects } from './clock-effects.js';
import { createMediaHandler } from './media-server.js';
import { RequestLimits } from './request-limits.js';
import { faxJson, phoneNumberJson } from './twilio-json.js';

export { DEFAULT_EMULATOR_NOW, FAULT_KINDS, type EmulatorOptions, type FaultKind } from './emulator-options.js';
export type { EmulatorStatsSnapshot } from './emulator-stats.js';
export { API_KEY_KINDS, type AccountStatus, type ApiKeyKind } from './emulator-records.js';
export { DEFAULT_WORLD_BEHAVIOURS, type WorldBehaviourOptions } from './world-behaviours.js';
export type { FaxChange, NewFaxInput } from './emulator-hooks.js';
export type { InboundFaxInput, InboundFaxResult, WebhookCall } from './inbound-fax.js';
export { twilioSignature } from './webhook-signature.js';
export { parseFaxTwiml, type TwimlReply } from './twiml-reply.js';

export interface EmulatorAccountInfo {
  sid: string;
  /** A secret. */
  authToken: string;
  friendlyName: string;
}

export interface EmulatorApiKey {
  accountSid: string;
  sid: string;
  /** A secret. */
  secret: string;
  /** `standard` cannot read /2010-04-01/Accounts; `main` can (without auth tokens). Neither reaches a subaccount. */
  kind: ApiKeyKind;
}

export interface RunningEmulator {
  /** API origin, e.g. http://127.0.0.1:41234 (Fax v1, 2010 API and /_emulator/). */
  url: string;
  /** Media host origin (pre-signed media URLs point here). */
  mediaUrl: string;
  /** The main account first, then its subaccounts. */
  accounts: EmulatorAccountInfo[];
  mainAccount: EmulatorAccountInfo;
  /** One API key (SK...) per account, in the order of `accounts`. */
  apiKeys: EmulatorApiKey[];
  /**
   * The start-up line the CLI prints:
   * `{"url","mediaUrl","accounts":[{sid,authToken,friendlyName,status}],"apiKeys":[{accountSid,sid,secret,kind}]}`.
   */
  startupLine(): string;
  stats(): EmulatorStatsSnapshot;
  resetStats(): void;
  /** Current faxes (of one account, or all) as Fax API JSON, in list order, with fresh media URLs. */
  faxes(accountSid?: string): Record<string, unknown>[];
  /** Numbers (of one account, or all) as 2010 API JSON. */
  numbers(accountSid?: string): Record<string, unknown>[];
  createFax(input?: NewFaxInput): Record<string, unknown>;
  /** Null when there is no such fax. */
  updateFax(faxSid: string, change: FaxChange): Record<string, unknown> | null;
  /** The fax vanishes (Twilio's 180-day pruning); false when there was none. */
  pruneFax(faxSid: string): boolean;
  inboundFax(input: InboundFaxInput): Promise<InboundFaxResult>;
  /** Moves the emulator's clock forward (e.g. past a media URL's expiry). */
  advanceClock(seconds: number): void;
  /** Suspends, reinstates or closes a subaccount mid-run (closing starts its 30 days). */
  setAccountStatus(accountSid: string, status: AccountStatus): void;
  /** An account's status now. */
  accountStatus(accountSid: string): AccountStatus | undefined;
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function origin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = resolveEmulatorOptions(options);
  const state = new EmulatorState(resolved);
  const ctx: EmulatorContext = {
    options: resolved,
    state,
    stats: new EmulatorStats(),
    clock: new EmulatorClock(resolved.nowMs, resolved.clockSpeed),
    // Derived from the seed, so URLs handed out before a restart still verify after it.
    signer: new MediaSigner(createHash('sha256').update(`media-url-key:${resolved.seed}`).digest('hex'), resolved.mediaTtlSeconds, resolved.mediaTokenTtlSeconds),
    clockEffects: new ClockEffects(state, resolved.pruning),
    faults: new FaultPlan(resolved.seed, resolved.faultRate, resolved.faultKinds),
    limits: new RequestLimits(resolved.concurrencyLimit, resolved.rps),
    apiOrigin: '',
    mediaOrigin: '',
  };
  const apiServer = http.createServer(withClockDate(ctx, createApiHandler(ctx, createControlHandler(ctx))));
  const mediaServer = http.createServer(withClockDate(ctx, createMediaHandler(ctx)));
  // Many keep-alive clients at once (the archiver's concurrency) must not queue on the listener.
  apiServer.keepAliveTimeout = 30_000;
  mediaServer.keepAliveTimeout = 30_000;
  try {
    ctx.apiOrigin = origin(resolved.host, await listen(apiServer, resolved.port, resolved.host));
    ctx.mediaOrigin = origin(resolved.host, await listen(mediaServer, resolved.mediaPort, resolved.host));
  } catch (error) {
    await Promise.all([closeServer(apiServer), closeServer(mediaServer)]);
    state.close();
    throw error;
  }

  const accounts = accountsSummary(ctx).map(({ sid, authToken, friendlyName }) => ({ sid, authToken, friendlyName }));
  const apiKeys = state.accounts.map((a) => ({ accountSid: a.sid, sid: a.apiKeySid, secret: a.apiKeySecret, kind: a.apiKeyKind }));
  let closed = false;
  const render = (fax: Parameters<typeof faxJson>[0]) => faxJson(fax, ctx.apiOrigin, mediaUrlFor(ctx, fax));
  return {
    url: ctx.apiOrigin,
    mediaUrl: ctx.mediaOrigin,
    accounts,
    mainAccount: accounts[0] as EmulatorAccountInfo,
    apiKeys,
    startupLine: () => JSON.stringify({
      url: ctx.apiOrigin,
      mediaUrl: ctx.mediaOrigin,
      accounts: state.accounts.map((a) => ({ sid: a.sid, authToken: a.authToken, friendlyName: a.friendlyName, status: a.status })),
      apiKeys,
    }),
    stats: () => ctx.stats.snapshot(state.faxes.counts()),
    resetStats: () => ctx.stats.reset(),
    faxes: (accountSid) => state.faxes.all(accountSid).map(render),
    numbers: (accountSid) => (accountSid === undefined ? state.numbers : state.numbersOf(accountSid)).map(phoneNumberJson),
    createFax: (input = {}) => render(createFax(ctx, input)),
    updateFax: (faxSid, change) => {
      const fax = updateFax(ctx, faxSid, change);
      return fax ? render(fax) : null;
    },
    pruneFax: (faxSid) => pruneFax(ctx, faxSid),
    inboundFax: (input) => deliverInboundFax(ctx, input),
    advanceClock: (seconds) => ctx.clock.advance(seconds * 1000),
    setAccountStatus: (accountSid, status) => {
      state.setAccountStatus(accountSid, status, ctx.clock.now());
    },
    accountStatus: (accountSid) => state.account(accountSid)?.status,
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([closeServer(apiServer), closeServer(mediaServer)]);
      state.close();
    },
  };
}

/**
 * Every response's `Date` header tells the emulator's own clock (its world is in 2021), as Twilio's
 * tells Twilio's: the archiver measures retention and listing coverage by that header.
 */
function withClockDate(ctx: EmulatorContext, handler: http.RequestListener): http.RequestListener {
  return (req, res) => {
    res.setHeader('Date', new Date(ctx.clock.now()).toUTCString());
    return handler(req, res);
  };
}
