/**
 * Wiring for the commands that touch the archive: credentials from the environment, the store from
 * `--store`, the catalog behind its lock, the Twilio gateway behind the shared limiter. This is the
 * one place implementations are chosen; use cases receive interfaces.
 *
 * Order matters: everything that can be refused for bad usage or configuration is checked before the
 * lock is taken and before anything is written, so a typo never leaves partial state behind.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import type { Catalog } from '../catalog/catalog.js';
import { acquireCatalogLock } from '../catalog/catalog-lock.js';
import { openCatalog } from '../catalog/sqlite-catalog.js';
import { ConfigurationError, UsageError } from '../errors.js';
import { createRequestLimiter } from '../limits/request-limiter.js';
import { createConcurrencyCap } from '../limits/concurrency-cap.js';
import type { MediaStore } from '../store/media-store.js';
import { openMediaStore, type OpenMediaStoreOptions } from '../store/open-media-store.js';
import { createTwilioGateway } from '../twilio/helper-library-twilio-gateway.js';
import type { TwilioGateway } from '../twilio/twilio-gateway.js';
import { createAccountDirectory, type AccountDirectory } from '../twilio/account-directory.js';
import { credentialsFromFile, twilioCredentialsFromEnv } from './credentials.js';
import { parsePositiveInt, parsePositiveNumber } from './shared-options.js';

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
}

export function addStoreOptions(command: Command): Command {
  return command
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// store (default AWS_ENDPOINT_URL_S3, else AWS)')
    .addOption(new Option('--sse <mode>', 'server-side encryption for S3 objects').choices(['AES256', 'aws:kms']))
    .option('--kms-key-id <id>', 'KMS key for --sse aws:kms')
    .option('--retain-until <date>', 'S3 Object Lock retention date for every object written (needs --lock-mode)')
    .addOption(new Option('--lock-mode <mode>', 'S3 Object Lock mode').choices(['compliance', 'governance']))
    .option('--storage-class <class>', 'S3 storage class, e.g. STANDARD_IA, GLACIER_IR')
    .option('--media-concurrency <n>', 'media downloads at once', '16');
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

export function createGatewayFromFlags(flags: ArchiveFlags): { gateway: TwilioGateway; directory: AccountDirectory; secrets: string[] } {
  const credentials = twilioCredentialsFromEnv();
  const perAccount = credentialsFromFile(flags.credentials);
  const limiter = createRequestLimiter({
    ratePerSecond: parsePositiveNumber(flags.rps ?? '50', '--rps'),
    concurrency: parsePositiveInt(flags.concurrency ?? '8', '--concurrency'),
  });
  const gateway = createTwilioGateway({
    credentials,
    ...(flags.twilioUrl ? { baseUrl: flags.twilioUrl } : {}),
    limiter,
    mediaCap: createConcurrencyCap(parsePositiveInt(flags.mediaConcurrency ?? '16', '--media-concurrency')),
    userAgent: USER_AGENT,
  });
  const mainUsesApiKey = credentials.username !== credentials.accountSid;
  const mainAuthToken = mainUsesApiKey ? process.env.TWILIO_AUTH_TOKEN?.trim() || null : credentials.password;
  const directory = createAccountDirectory({
    gateway, mainAuthToken, mainUsesApiKey, credentials: perAccount,
    mainCredentials: { username: credentials.username, password: credentials.password },
  });
  const secrets = [credentials.password, ...[...perAccount.values()].map((c) => c.password)];
  return { gateway, directory, secrets };
}

/**
 * Opens store, catalog (locked) and gateway, or throws a typed error having written nothing.
 * `beforeCatalog` runs once the gateway exists and before the catalog is touched: checks that need
 * Twilio (every subaccount has a credential) refuse there, leaving no catalog behind.
 */
export async function openArchiveResources(
  flags: ArchiveFlags,
  command: string,
  beforeCatalog?: (directory: AccountDirectory) => Promise<void>,
): Promise<ArchiveResources> {
  const { gateway, directory, secrets } = createGatewayFromFlags(flags);
  await beforeCatalog?.(directory);
  const { catalog, store, close } = await openCatalogAndStore(flags, command);
  return { catalog, store, gateway, directory, secrets, close };
}

/** The catalog behind its lock, and the store: for commands that do not talk to Twilio (verify). */
export async function openCatalogAndStore(
  flags: ArchiveFlags,
  command: string,
): Promise<{ catalog: Catalog; store: MediaStore; close(): Promise<void> }> {
  const store = openMediaStore(String(flags.store), storeOptionsFrom(flags));
  const catalogPath = String(flags.catalog);
  try {
    mkdirSync(dirname(catalogPath), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigurationError(`cannot create the catalog folder ${dirname(catalogPath)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!flags.dryRun) await store.check();
  const lock = acquireCatalogLock(catalogPath, { command });
  let catalog: Catalog;
  try {
    catalog = openCatalog(catalogPath);
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    catalog,
    store,
    async close() {
      catalog.close();
      lock.release();
      await store.close();
    },
  };
}
