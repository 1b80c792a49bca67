import type { ApiKeyKind } from './emulator-records.js';

/** What `startEmulator` accepts, and the defaults that make its data deterministic. */
import { DEFAULT_WORLD_BEHAVIOURS, type WorldBehaviourOptions } from './world-behaviours.js';

export type FaultKind = '500' | '503' | 'reset' | 'truncate' | 'corrupt' | 'slow';
export const FAULT_KINDS: readonly FaultKind[] = ['500', '503', 'reset', 'truncate', 'corrupt', 'slow'];

export interface EmulatorOptions {
  /** Faxes generated at start-up, spread over the main account (twice the share) and subaccounts. Default 200. */
  faxes?: number;
  /** Incoming phone numbers, dealt round-robin to the accounts; two in three in fax mode. Default 6. */
  numbers?: number;
  /** Subaccounts besides the main account. Default 2. */
  accounts?: number;
  /** Everything generated (sids, tokens, dates, media bytes, fault decisions) follows from it. Default 1. */
  seed?: number;
  /** The emulator's "now" at start-up; data spreads over the 180 days before it. Default 2021-12-01T00:00:00Z. */
  now?: Date;
  /** API port (0 = a free port). Default 0. */
  port?: number;
  /** Media host port (0 = a free port). Default 0. */
  mediaPort?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Lifetime of pre-signed media URLs. Default 7200 (Twilio's two hours). */
  mediaTtlSeconds?: number;
  /** Append-only JSON-lines journal of changes, replayed at start-up so changes survive restarts and kills. */
  stateFile?: string;
  /** API requests in flight at once; more answer 429 / 20429. Default unlimited. */
  concurrencyLimit?: number;
  /** API requests per second (a token bucket holding one second's worth); more answer 429 / 20429. Default unlimited. */
  rps?: number;
  /** Added to every API response. Default 0. */
  latencyMs?: number;
  /** Probability that a request gets a fault. Default 0. */
  faultRate?: number;
  /** Fault kinds to draw from. API requests can get 500/503/reset/slow; media requests any kind. Default all. */
  faultKinds?: readonly FaultKind[];
  /** How long a 'slow' fault stalls the response. Default 5000 ms. */
  slowMs?: number;
  /**
   * The kind of each account's API key: one kind for every account, or one per account (main
   * first). `standard` cannot read /2010-04-01/Accounts; `main` can, but sees no auth tokens.
   * Default `standard` (Twilio's default, and the harder one on a client).
   */
  apiKeys?: ApiKeyKind | readonly ApiKeyKind[];
  /** Subaccounts suspended at start-up (taken after the closed ones, from the end). Default 0. */
  suspendedAccounts?: number;
  /** Subaccounts closed at start-up (the last ones); their data goes 30 days later. Default 0. */
  closedAccounts?: number;
  /** Emulator seconds per real second (the clock also moves by POST /_emulator/clock). Default 1. */
  clockSpeed?: number;
  /** Twilio's 180-day pruning as the clock moves (clock-effects.ts). Default true. */
  pruning?: boolean;
  /**
   * Lifetime of the temporary credentials (X-Amz-Security-Token) a media URL is signed with: past it
   * and before X-Amz-Expires the media host answers 400 ExpiredToken. Default: mediaTtlSeconds (never early).
   */
  mediaTokenTtlSeconds?: number;
  /** The fax world as it was (world-behaviours.ts); unset fields take their defaults. */
  world?: Partial<WorldBehaviourOptions>;
}

export interface ResolvedEmulatorOptions {
  faxes: number;
  numbers: number;
  accounts: number;
  seed: number;
  nowMs: number;
  port: number;
  mediaPort: number;
  host: string;
  mediaTtlSeconds: number;
  stateFile: string | undefined;
  concurrencyLimit: number;
  rps: number;
  latencyMs: number;
  faultRate: number;
  faultKinds: readonly FaultKind[];
  slowMs: number;
  /** One kind per account, main first. */
  apiKeys: readonly ApiKeyKind[];
  suspendedAccounts: number;
  closedAccounts: number;
  clockSpeed: number;
  pruning: boolean;
  mediaTokenTtlSeconds: number;
  world: WorldBehaviourOptions;
}

export const DEFAULT_EMULATOR_NOW = new Date('2021-12-01T00:00:00Z');

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}

export function resolveEmulatorOptions(options: EmulatorOptions): ResolvedEmulatorOptions {
  const faultRate = options.faultRate ?? 0;
  if (!(faultRate >= 0 && faultRate <= 1)) throw new RangeError(`faultRate must be within 0..1, got ${faultRate}`);
  const kinds = options.faultKinds ?? FAULT_KINDS;
  for (const kind of kinds) if (!FAULT_KINDS.includes(kind)) throw new RangeError(`unknown fault kind ${kind}`);
  const rps = options.rps ?? 0;
  if (!(rps >= 0) || !Number.isFinite(rps)) throw new RangeError(`rps must be a non-negative number, got ${rps}`);
  const accounts = nonNegativeInt(options.accounts, 2, 'accounts');
  const suspendedAccounts = nonNegativeInt(options.suspendedAccounts, 0, 'suspendedAccounts');
  const closedAccounts = nonNegativeInt(options.closedAccounts, 0, 'closedAccounts');
  if (suspendedAccounts + closedAccounts > accounts) {
    throw new RangeError(`suspendedAccounts + closedAccounts (${suspendedAccounts + closedAccounts}) exceed the ${accounts} subaccounts`);
  }
  const nowMs = (options.now ?? DEFAULT_EMULATOR_NOW).getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a valid date');
  const clockSpeed = options.clockSpeed ?? 1;
  if (!(clockSpeed > 0) || !Number.isFinite(clockSpeed)) throw new RangeError(`clockSpeed must be a positive number, got ${clockSpeed}`);
  const world = { ...DEFAULT_WORLD_BEHAVIOURS, ...options.world };
  for (const name of ['inexactContentTypes', 'contradictoryMedia', 'inProgress', 'expiredTokenInListings', 'realWorldFiles'] as const) {
    if (!(world[name] >= 0 && world[name] <= 1)) throw new RangeError(`world.${name} must be a share within 0..1, got ${world[name]}`);
  }
  const mediaTtlSeconds = nonNegativeInt(options.mediaTtlSeconds, 7200, 'mediaTtlSeconds');
  return {
    clockSpeed,
    pruning: options.pruning ?? true,
    mediaTokenTtlSeconds: nonNegativeInt(options.mediaTokenTtlSeconds, mediaTtlSeconds, 'mediaTokenTtlSeconds'),
    world,
    faxes: nonNegativeInt(options.faxes, 200, 'faxes'),
    numbers: nonNegativeInt(options.numbers, 6, 'numbers'),
    accounts,
    seed: options.seed ?? 1,
    nowMs: Math.floor(nowMs / 1000) * 1000,
    port: nonNegativeInt(options.port, 0, 'port'),
    mediaPort: nonNegativeInt(options.mediaPort, 0, 'mediaPort'),
    host: options.host ?? '127.0.0.1',
    mediaTtlSeconds: nonNegativeInt(options.mediaTtlSeconds, 7200, 'mediaTtlSeconds'),
    stateFile: options.stateFile,
    concurrencyLimit: nonNegativeInt(options.concurrencyLimit, 0, 'concurrencyLimit'),
    rps,
    latencyMs: nonNegativeInt(options.latencyMs, 0, 'latencyMs'),
    faultRate,
    faultKinds: [...kinds],
    slowMs: nonNegativeInt(options.slowMs, 5000, 'slowMs'),
    apiKeys: apiKeyKinds(options.apiKeys, accounts),
    suspendedAccounts,
    closedAccounts,
  };
}

function apiKeyKinds(value: EmulatorOptions['apiKeys'], subaccounts: number): ApiKeyKind[] {
  const count = subaccounts + 1;
  const kinds: ApiKeyKind[] = typeof value === 'string' || value === undefined
    ? Array.from({ length: count }, () => (value ?? 'standard') as ApiKeyKind)
    : [...value];
  if (kinds.length !== count) throw new RangeError(`apiKeys names ${kinds.length} kinds for ${count} accounts`);
  for (const kind of kinds) if (kind !== 'standard' && kind !== 'main') throw new RangeError(`unknown API key kind ${String(kind)}`);
  return kinds;
}
