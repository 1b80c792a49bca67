/**
 * The composition root of every command (issue 14 §4): credentials from the environment, the store
 * from `--store` or the one the catalog recorded, the catalog behind its lock, the Twilio gateway and
 * account directory behind the one request limiter, and the limits parsed from their flags. This is
 * the one place implementations are chosen; use cases receive interfaces. Commands never construct
 * a store, a limiter or a Twilio client themselves.
 *
 * Order matters: everything that can be refused for bad usage or configuration is checked before the
 * lock is taken and before anything is written, so a typo never leaves partial state behind.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Catalog, CatalogIdentity } from '../catalog/catalog.js';
import { acquireCatalogLock } from '../catalog/catalog-lock.js';
import { decideIdentity, readCatalogIdentity } from '../catalog/catalog-identity.js';
import { openCatalog } from '../catalog/sqlite-catalog.js';
import { AuthError, ConfigurationError, describeError, ExternalServiceError, InvariantError, redactSecrets, UsageError } from '../errors.js';
import { createRequestLimiter, type RequestLimiter } from '../limits/request-limiter.js';
import { createConcurrencyCap } from '../limits/concurrency-cap.js';
import type { MediaStore } from '../store/media-store.js';
import { openMediaStore, type OpenMediaStoreOptions } from '../store/open-media-store.js';
import { createTwilioGateway } from '../twilio/helper-library-twilio-gateway.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import { createAccountDirectory, type AccountDirectory } from '../twilio/account-directory.js';
import { credentialsFromFile, twilioCredentialsFromEnv } from './credentials.js';
import { addSharedOptions, optionDefault, parsePositiveInt, parsePositiveNumber } from './shared-options.js';

export interface ArchiveFlags {
  catalog?: string;
  store?: string;
  twilioUrl?: string;
  concurrency?: string;
  rps?: string;
  mediaConcurrency?: string;
  s3Endpoint?: string;
  sse?: string;
  kmsKeyId?: string;
  retainUntil?: string;
  lockMode?: string;
  storageClass?: string;
  /** `--credentials FILE` (or FAX_SUNSET_CREDENTIALS): each subaccount's own credentials. */
  credentials?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  /** --store (or FAX_SUNSET_STORE) was given: use it rather than the store the catalog recorded. */
  storeGiven?: boolean;
  /** --catalog-moved: the recorded store/account may change (recorded as an event). */
  catalogMoved?: boolean;
}

/**
 * The store flags. Each has an environment variable (issue 17 §10), so a runbook exports them once
 * instead of repeating a $STORE_FLAGS on every line. `verify` takes only the ones that matter to a
 * reader (`readOnly`): encryption, retention and storage class only mean something to a writer.
 */
export function addStoreOptions(command: Command, { readOnly = false }: { readOnly?: boolean } = {}): Command {
  addSharedOptions(command, ['s3Endpoint', 'catalogMoved']);
  if (readOnly) return command;
  return addSharedOptions(command, ['sse', 'kmsKeyId', 'retainUntil', 'lockMode', 'storageClass', 'mediaConcurrency']);
}

/** Whether the operator gave --store (flag or FAX_SUNSET_STORE) rather than leaving its default. */
export function storeGiven(command: Command): boolean {
  const source = command.getOptionValueSource('store');
  return source === 'cli' || source === 'env';
}

/** Notes which flags the operator gave (not defaults): --store given means "not the recorded store". */
export function markGivenOptions<T extends ArchiveFlags>(flags: T, command: Command): T {
  flags.storeGiven = storeGiven(command);
  return flags;
}

/**
 * The store a reading command (report, restore, export) reads from: the one the catalog recorded
 * (catalog_identity, with its S3 endpoint) unless --store (or FAX_SUNSET_STORE) names another, such
 * as a replica bucket after the primary was lost. Returns the recorded identity beside it.
 */
export function openRecordedStore(catalogPath: string, flags: { store: string; storeGiven: boolean }): { store: MediaStore; recorded: CatalogIdentity | null } {
  const recorded = readCatalogIdentity(catalogPath);
  const useRecorded = recorded !== null && !flags.storeGiven;
  const endpoint = useRecorded && !process.env.AWS_ENDPOINT_URL_S3 ? recorded.storeEndpoint : null;
  return { store: openMediaStore(useRecorded ? recorded.store : flags.store, endpoint ? { endpoint } : {}), recorded };
}

export function storeOptionsFrom(flags: ArchiveFlags, env: NodeJS.ProcessEnv = process.env): OpenMediaStoreOptions {
  const options: OpenMediaStoreOptions = {};
  // The flag on a folder store is a mistake worth refusing; the environment variable is not: an
  // operator with AWS_ENDPOINT_URL_S3 set for other tools may still archive to a folder.
  const endpoint = flags.s3Endpoint ?? (String(flags.store ?? '').startsWith('s3://') ? env.AWS_ENDPOINT_URL_S3 : undefined);
  if (endpoint) options.endpoint = endpoint;
  if (flags.sse) options.sse = flags.sse as NonNullable<OpenMediaStoreOptions['sse']>;
  if (flags.kmsKeyId) options.kmsKeyId = flags.kmsKeyId;
  if (flags.storageClass) options.storageClass = flags.storageClass;
  if (flags.retainUntil) {
    const date = new Date(flags.retainUntil);
    if (Number.isNaN(date.getTime())) throw new UsageError(`--retain-until must be a date, got ${JSON.stringify(flags.retainUntil)}`);
    options.retainUntil = date;
  }
  if (flags.lockMode) options.lockMode = flags.lockMode.toUpperCase() as NonNullable<OpenMediaStoreOptions['lockMode']>;
  return options;
}

export interface ArchiveResources {
  catalog: Catalog;
  store: MediaStore;
  gateway: TwilioGateway;
  /** Which accounts a run acts for, with which credentials, in which status. */
  directory: AccountDirectory;
  /** Secret values to scrub from any text before it is printed or recorded. */
  secrets: string[];
  close(): Promise<void>;
}

export const USER_AGENT = 'fax-sunset/0.1.0';

/** How hard a run may press on Twilio, from --rps, --concurrency and --media-concurrency. */
export interface RequestLimits {
  ratePerSecond: number;
  concurrency: number;
  mediaConcurrency: number;
}

/** The limits a command's flags ask for; a flag a command does not take gets its table default. */
export function requestLimitsFrom(flags: Pick<ArchiveFlags, 'rps' | 'concurrency' | 'mediaConcurrency'>): RequestLimits {
  return {
    ratePerSecond: parsePositiveNumber(flags.rps ?? optionDefault('rps'), '--rps'),
    concurrency: parsePositiveInt(flags.concurrency ?? optionDefault('concurrency'), '--concurrency'),
    mediaConcurrency: parsePositiveInt(flags.mediaConcurrency ?? optionDefault('mediaConcurrency'), '--media-concurrency'),
  };
}

export interface TwilioEdges {
  gateway: TwilioGateway;
  directory: AccountDirectory;
  /** The one limiter every Twilio request of this process goes through (numbers' client too). */
  limiter: RequestLimiter;
  limits: RequestLimits;
  secrets: string[];
}

/** The main account's auth token (what Twilio signs webhooks with): TWILIO_AUTH_TOKEN also when an API key is the API credential. */
export function mainAuthTokenFrom(credentials: ReturnType<typeof twilioCredentialsFromEnv> = twilioCredentialsFromEnv()): string | null {
  if (credentials.username === credentials.accountSid) return credentials.password;
  return process.env.TWILIO_AUTH_TOKEN?.trim() || null;
}

export function createGatewayFromFlags(flags: ArchiveFlags): TwilioEdges {
  const credentials = twilioCredentialsFromEnv();
  const perAccount = credentialsFromFile(flags.credentials);
  const limits = requestLimitsFrom(flags);
  const limiter = createRequestLimiter({ ratePerSecond: limits.ratePerSecond, concurrency: limits.concurrency });
  const gateway = createTwilioGateway({
    credentials,
    ...(flags.twilioUrl ? { baseUrl: flags.twilioUrl } : {}),
    limiter,
    mediaCap: createConcurrencyCap(limits.mediaConcurrency),
    userAgent: USER_AGENT,
  });
  const mainUsesApiKey = credentials.username !== credentials.accountSid;
  const mainAuthToken = mainAuthTokenFrom(credentials);
  const directory = createAccountDirectory({
    gateway, mainAuthToken, mainUsesApiKey, credentials: perAccount,
    mainCredentials: { username: credentials.username, password: credentials.password },
  });
  const secrets = [credentials.password, ...[...perAccount.values()].map((c) => c.password)];
  return { gateway, directory, limiter, limits, secrets };
}

/**
 * Opens gateway, store and catalog (locked), or throws a typed error having written nothing. Order
 * (issue 17 §7): credentials and the catalog's recorded identity first, then one Twilio request
 * (a wrong token or an unreachable Twilio is refused here, before any file exists), then
 * `beforeCatalog` (checks that need Twilio: every subaccount has a credential), then the store,
 * and only then the catalog folder, the lock and the catalog.
 */
export async function openArchiveResources(
  flags: ArchiveFlags,
  command: string,
  beforeCatalog?: (directory: AccountDirectory) => Promise<void>,
): Promise<ArchiveResources> {
  const { gateway, directory, secrets } = createGatewayFromFlags(flags);
  const { catalog, store, close } = await openCatalogAndStore(flags, command, {
    accountSid: gateway.accountSid,
    mustExist: false,
    preflight: async () => {
      await checkTwilioReachable(gateway, flags.twilioUrl);
      await beforeCatalog?.(directory);
    },
  });
  return { catalog, store, gateway, directory, secrets, close };
}

export interface OpenCatalogOptions {
  /** The main account of this run (null for commands that do not talk to Twilio). */
  accountSid: string | null;
  /** Refuse a catalog that does not exist instead of creating one (verify and every read-only command). */
  mustExist: boolean;
  /** Checks run after the flags and the catalog's identity, before anything is written. */
  preflight?: () => Promise<void>;
}

/**
 * The catalog behind its lock, and the store. The store is the one the catalog recorded at its first
 * run unless --store (or FAX_SUNSET_STORE) says otherwise; a different store or account is refused
 * unless --catalog-moved (issue 17 §1). A dry run writes nothing (issue 13 §6): an existing catalog
 * is opened read-only without the lock, a missing one is an empty catalog in memory.
 */
export async function openCatalogAndStore(
  flags: ArchiveFlags,
  command: string,
  options: OpenCatalogOptions = { accountSid: null, mustExist: true },
): Promise<{ catalog: Catalog; store: MediaStore; recordMove(): void; close(): Promise<void> }> {
  const catalogPath = resolve(String(flags.catalog));
  const exists = existsSync(catalogPath);
  if (options.mustExist && !exists) throw new ConfigurationError(`no catalog at ${catalogPath} (run archive first, or check --catalog)`);
  const recorded = readCatalogIdentity(catalogPath);
  const useRecorded = recorded !== null && !flags.storeGiven;
  const storeFlags: ArchiveFlags = useRecorded
    ? {
        ...flags,
        store: recorded.store,
        ...(flags.s3Endpoint === undefined && !process.env.AWS_ENDPOINT_URL_S3 && recorded.storeEndpoint ? { s3Endpoint: recorded.storeEndpoint } : {}),
      }
    : flags;
  const storeOptions = storeOptionsFrom(storeFlags);
  const store = openMediaStore(String(storeFlags.store), storeOptions);
  const decision = decideIdentity(catalogPath, recorded, { store: store.displayUrl, accountSid: options.accountSid }, { moved: Boolean(flags.catalogMoved) });
  try {
    await options.preflight?.();
    if (flags.dryRun) {
      const catalog = exists ? openCatalog(catalogPath, { readonly: true }) : openCatalog(catalogPath, { memory: true });
      return { catalog, store, recordMove: () => undefined, close: async () => { catalog.close(); await store.close(); } };
    }
    // The store before the catalog folder: a missing bucket or an unreachable endpoint leaves nothing.
    await checkStore(store, storeOptions.endpoint);
    try {
      mkdirSync(dirname(catalogPath), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ConfigurationError(`cannot create the catalog folder ${dirname(catalogPath)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const lock = acquireCatalogLock(catalogPath, { command });
  let catalog: Catalog;
  try {
    catalog = openCatalog(catalogPath);
    if (options.accountSid !== null && decision !== 'same') {
      catalog.recordIdentity(
        { store: store.displayUrl, storeEndpoint: store.displayUrl.startsWith('s3://') ? storeOptions.endpoint ?? null : null, accountSid: options.accountSid },
        { moved: decision === 'moved' },
      );
    }
  } catch (error) {
    lock.release();
    await store.close();
    throw error;
  }
  return {
    catalog,
    store,
    // verify --catalog-moved: recorded only once the new store proved to hold the archive.
    recordMove: () => {
      if (decision !== 'moved' || options.accountSid !== null || !recorded) return;
      catalog.recordIdentity({ store: store.displayUrl, storeEndpoint: storeOptions.endpoint ?? null, accountSid: recorded.accountSid }, { moved: true });
    },
    async close() {
      // The lock goes whatever closing the catalog or the store says: a held lock blocks the next run.
      try {
        catalog.close();
      } finally {
        lock.release();
        await store.close();
      }
    },
  };
}

/**
 * The store's own check, with "cannot reach" made a configuration error naming the endpoint: an S3
 * endpoint that refuses connections or does not resolve is a wrong setting, not an item to retry.
 */
async function checkStore(store: MediaStore, endpoint: string | undefined): Promise<void> {
  try {
    await store.check();
  } catch (error) {
    if (error instanceof ExternalServiceError && error.status === undefined) {
      const where = endpoint ? `the S3 endpoint ${redactSecrets(endpoint)}` : 'S3 (the AWS default endpoint)';
      throw new ConfigurationError(`cannot reach ${where} for the store ${store.displayUrl}: ${describeError(error)}; check --s3-endpoint / AWS_ENDPOINT_URL_S3`, { cause: error });
    }
    // Name the endpoint in the store's own refusals too: "bucket x does not exist" where?
    if (endpoint && (error instanceof ConfigurationError || error instanceof AuthError)) {
      const Same = error instanceof AuthError ? AuthError : ConfigurationError;
      throw new Same(`${describeError(error)} (S3 endpoint ${redactSecrets(endpoint)})`, { cause: error });
    }
    throw error;
  }
}

/**
 * One cheap Twilio request (the first fax page, one fax) before anything is written: a wrong token is
 * refused with exit 2 (AuthError), and so is a Twilio that cannot be reached at all (refused, unknown
 * host, TLS to a plain port), since that is a wrong --twilio-url or network, not an item to retry.
 */
export async function checkTwilioReachable(gateway: TwilioGateway, twilioUrl: string | undefined): Promise<void> {
  try {
    for await (const page of gateway.listFaxPages({ pageSize: 1 })) {
      void page;
      break;
    }
  } catch (error) {
    const refused = unreachableAsConfiguration(error, twilioUrl);
    // Refused credentials and a Twilio that does not answer at all stop here (exit 2). Anything else
    // (a 5xx storm, a malformed page) came from a Twilio that answered: it is the main account's own
    // trouble, which its listing meets and reports like any account's (issue 11 §4), not a reason
    // to write nothing.
    if (refused !== error || error instanceof AuthError || error instanceof InvariantError) throw refused;
  }
}

/**
 * A Twilio call that got no response at all once its retries were spent (refused, unknown host, TLS
 * to a plain port) is a wrong --twilio-url or network: exit 2, not "items left to retry" (1).
 */
export function unreachableAsConfiguration(error: unknown, twilioUrl: string | undefined): unknown {
  if (error instanceof ExternalServiceError && error.status === undefined) {
    const hint = twilioUrl ? 'check --twilio-url / FAX_SUNSET_TWILIO_URL' : 'check the network';
    return new ConfigurationError(`${describeError(error)}; ${hint}`, { cause: error });
  }
  return error;
}
