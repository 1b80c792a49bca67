/**
 * `fax-sunset serve`: the TwiML fax webhook for the migration window. Parses flags, wires the
 * catalog (locked for the server's whole life), store, gateway and account directory, starts the
 * server and runs until SIGTERM/SIGINT, then stops gracefully: new requests are refused, archives
 * in flight get `--grace-seconds`, and whatever is unfinished stays queued in the catalog.
 *
 * Exit code after a graceful stop is 0 even with work still queued: the queue is durable, and a
 * service manager should not count a requested stop as a failure. Startup problems exit 2 (usage,
 * configuration, credentials) or 3 (catalog lock held by another run).
 */
import { Command } from 'commander';
import { ConfigurationError, UsageError } from '../errors.js';
import { FAX_MEDIA_TYPES, FAX_PAGE_SIZES, WEBHOOK_MODES, type FaxMediaType, type FaxPageSize, type WebhookMode } from '../webhook/fax-twiml.js';
import { startFaxWebhookServer, type FaxWebhookConfig, type FaxWebhookServer } from '../webhook/fax-webhook-server.js';
import { FAX_INCOMING_PATH, FAX_RECEIVED_PATH, HEALTH_PATH, parsePublicUrl, publicUrlOf } from '../webhook/public-url.js';
import { createWebhookLog, type WebhookLog } from '../webhook/webhook-log.js';
import { parseFullListingEvery } from './full-listing-option.js';
import { parseTrustedProxies } from '../webhook/trusted-proxies.js';
import { parseInterval, startPeriodicListing, type PeriodicListing } from '../pipeline/periodic-listing.js';
import { spoolDirFor } from '../archive/run-spool.js';
import { addStoreOptions, mainAuthTokenFrom, markGivenOptions, openArchiveResources, type ArchiveFlags } from './archive-resources.js';
import { parseDuration } from '../duration.js';
import { CREDENTIALS_HINT } from './credentials.js';
import { addSharedOptions, optionDefault, parsePositiveInt } from './shared-options.js';
import { withRun } from './run-lifecycle.js';

export interface ServeFlags extends ArchiveFlags {
  port: string;
  host: string;
  publicUrl?: string;
  /** `--trust-proxy`, repeatable, each an address, CIDR or comma list. */
  trustProxy?: string[];
  mode: string;
  mediaType: string;
  pageSize: string;
  storeMedia: string;
  insecureSkipSignature?: boolean;
  workers: string;
  maxAttempts: string;
  verify: string;
  graceSeconds: string;
  syncEvery?: string;
  lookback?: string;
  fullListingEvery?: string;
  subaccounts?: boolean;
  quiet?: boolean;
}

/** Flags to the server's config (everything but wiring). Pure: throws UsageError naming the bad flag. */
export function serveConfigFromFlags(flags: ServeFlags): FaxWebhookConfig & { graceMs: number } {
  const storeMedia = String(flags.storeMedia).toLowerCase();
  if (storeMedia !== 'true' && storeMedia !== 'false') throw new UsageError(`--store-media must be true or false, got ${JSON.stringify(flags.storeMedia)}`);
  const oneOf = <T extends string>(value: string, allowed: readonly T[], flag: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  };
  const trustedProxies = parseTrustedProxies(flags.trustProxy ?? []);
  if (flags.publicUrl && trustedProxies.entries.length > 0) {
    throw new UsageError('--trust-proxy has no effect with --public-url (the signed URL is then the public URL, whatever a proxy says): give one or the other');
  }
  return {
    host: flags.host,
    port: parsePositiveInt(flags.port, '--port', { allowZero: true }),
    publicBase: flags.publicUrl ? parsePublicUrl(flags.publicUrl) : null,
    trustedProxies,
    mode: oneOf<WebhookMode>(flags.mode, WEBHOOK_MODES, '--mode'),
    mediaType: oneOf<FaxMediaType>(flags.mediaType, FAX_MEDIA_TYPES, '--media-type'),
    pageSize: oneOf<FaxPageSize>(flags.pageSize, FAX_PAGE_SIZES, '--page-size'),
    storeMedia: storeMedia === 'true',
    verifySignatures: !flags.insecureSkipSignature,
    workers: parsePositiveInt(flags.workers, '--workers'),
    maxAttempts: parsePositiveInt(flags.maxAttempts, '--max-attempts'),
    forceFullVerify: flags.verify === 'full',
    spoolDir: spoolDirFor(String(flags.catalog)),
    graceMs: parsePositiveInt(flags.graceSeconds, '--grace-seconds', { allowZero: true }) * 1000,
  };
}

export function serveCommand(): Command {
  const command = new Command('serve')
    .description("The TwiML fax webhook for the migration window: point the fax numbers' FaxUrl at /fax/incoming");
  addSharedOptions(command, [
    'port', 'host', 'publicUrl', 'trustProxy', 'mode', 'mediaType', 'pageSize', 'storeMedia', 'insecureSkipSignature', 'serveWorkers', 'maxAttempts', 'verify',
    'graceSeconds', 'syncEvery', 'lookback', 'serveSubaccounts', 'fullListingEvery',
    'catalog', 'store', 'twilioUrl', 'credentials', 'concurrency', 'rps', 'json', 'quiet',
  ]);
  addStoreOptions(command);
  command.action(async (flags: ServeFlags, self: Command) => {
    process.exitCode = await serveAction(markGivenOptions(flags, self));
    // An archive abandoned after --grace-seconds may still hold a socket to S3 or Twilio; its row is
    // queued in the catalog for the next start, so there is nothing left to wait for. (Unref'd: a
    // process with nothing pending exits at once without it.)
    setTimeout(() => process.exit(), 2000).unref();
  });
  return command;
}

export async function serveAction(flags: ServeFlags): Promise<number> {
  const config = serveConfigFromFlags(flags);
  const syncEveryMs = flags.syncEvery === undefined ? null : parseInterval(String(flags.syncEvery), '--sync-every');
  const lookbackMs = parseDuration(String(flags.lookback ?? optionDefault('lookback')), '--lookback');
  const fullListingEveryMs = parseFullListingEvery(flags.fullListingEvery);
  if (syncEveryMs === null && flags.subaccounts) throw new UsageError('--subaccounts only makes sense with --sync-every');
  const mainAuthToken = mainAuthTokenFrom();
  if (config.verifySignatures && !mainAuthToken) {
    // Twilio signs webhooks with the auth token, never with an API key secret: without it every request would get 403.
    throw new ConfigurationError('signature checks need TWILIO_AUTH_TOKEN (Twilio signs webhooks with it); set it, or use --insecure-skip-signature for a local trial');
  }
  return withRun(() => openArchiveResources(flags, 'serve'), async (resources, run) => {
    const directory = resources.directory;
    const secrets = () => [...resources.secrets, ...(mainAuthToken ? [mainAuthToken] : []), ...directory.knownSecrets()];
    const fullLog = createWebhookLog({ sink: process.stdout, format: flags.json ? 'json' : 'text', knownSecrets: secrets });
    // --quiet: warnings, errors, and the start and stop lines (where it listens, what it left queued).
    const log: WebhookLog = flags.quiet
      ? { write: (level, event, fields) => (level !== 'info' || event === 'serve-started' || event === 'serve-stopped' ? fullLog.write(level, event, fields) : undefined) }
      : fullLog;
    let server: FaxWebhookServer | null = null;
    let listing: PeriodicListing | null = null;
    try {
      // Lists the subaccounts (and proves the credentials) before anything listens.
      const subaccounts = await directory.load();
      // --sync-every --subaccounts acts for every subaccount: one without credentials is named now, exit 2.
      if (syncEveryMs !== null && flags.subaccounts) await directory.accountsForRun({ subaccounts: true });
      for (const warning of directory.warnings()) log.write('warn', 'accounts-list', { warning });
      if (config.verifySignatures) {
        // Twilio signs a subaccount's webhooks with ITS auth token: without it, that account's faxes
        // would be answered 403 forever. Said once, at start-up, naming the accounts.
        const unsigned: string[] = [];
        for (const sub of directory.subaccounts()) {
          if (sub.status === 'closed' || sub.status === 'suspended') continue; // no webhooks come from those
          if ((await directory.authTokenFor(sub.sid)) === null) unsigned.push(sub.sid);
        }
        if (unsigned.length > 0) {
          log.write('warn', 'no-auth-token', {
            accounts: unsigned.join(','),
            hint: `webhooks of these subaccounts cannot be checked and are refused (403) until their auth tokens are given: ${CREDENTIALS_HINT}`,
          });
        }
      }
      if (!config.verifySignatures) warnInsecure(log);
      const runId = run.start('serve', {
        mode: config.mode,
        mediaType: config.mediaType,
        pageSize: config.pageSize,
        storeMedia: config.storeMedia,
        signatureCheck: config.verifySignatures,
        publicUrl: flags.publicUrl ?? null,
        store: resources.store.displayUrl,
      });
      // Armed before the start-up line: a supervisor may signal as soon as it reads it.
      const stopSignal = waitForStopSignal(log);
      try {
        server = await startFaxWebhookServer(config, { catalog: resources.catalog, store: resources.store, directory, runId, log });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new ConfigurationError(`cannot listen on ${config.host}:${config.port}: ${code}`);
        }
        throw error;
      }
      if (syncEveryMs !== null) {
        const running = server;
        listing = startPeriodicListing({
          catalog: resources.catalog,
          accounts: async () => (await directory.accountsForRun({ subaccounts: Boolean(flags.subaccounts) })).gateways,
          intervalMs: syncEveryMs,
          lookbackMs,
          ...(fullListingEveryMs !== undefined ? { fullListingEveryMs } : {}),
          runId,
          log,
          onRecorded: () => running.workQueued(),
          knownSecrets: secrets,
        });
      }
      const base = config.publicBase ?? parsePublicUrl(server.localUrl);
      const health = server.health();
      log.write('info', 'serve-started', {
        listening: server.localUrl,
        port: server.port,
        faxUrl: publicUrlOf(base, FAX_INCOMING_PATH),
        actionUrl: publicUrlOf(base, FAX_RECEIVED_PATH),
        healthUrl: `${server.localUrl}${HEALTH_PATH}`,
        mode: config.mode,
        mediaType: config.mediaType,
        signatureCheck: config.verifySignatures,
        trustProxy: config.trustedProxies?.entries.join(',') || null,
        syncEverySeconds: syncEveryMs === null ? null : syncEveryMs / 1000,
        subaccounts,
        queueDepth: health.queue.depth,
        catalog: resources.catalog.path,
        store: resources.store.displayUrl,
      });
      const signal = await stopSignal;
      log.write('info', 'serve-stopping', { signal, graceSeconds: config.graceMs / 1000 });
      await listing?.stop();
      const { abandoned, queueDepth } = await server.close(config.graceMs);
      const archive = server.health().archive;
      run.finish(0, { ...archiveCounts(archive), abandoned, queueDepth });
      log.write('info', 'serve-stopped', { abandoned, queueDepth, ...archiveCounts(archive) });
      return 0;
    } catch (error) {
      await listing?.stop().catch(() => undefined);
      if (server) await server.close(0).catch(() => undefined);
      throw error;
    }
  }, { secrets: (resources) => [...resources.secrets, ...(mainAuthToken ? [mainAuthToken] : []), ...resources.directory.knownSecrets()] });
}

function archiveCounts(archive: { archived: number; metadataOnly: number; failed: number; lost: number }) {
  return { archived: archive.archived, metadataOnly: archive.metadataOnly, failed: archive.failed, lost: archive.lost };
}

function warnInsecure(log: WebhookLog): void {
  // Loud on purpose: anyone who can reach the port can now queue work and see how the server answers.
  process.stderr.write(
    '\n*** WARNING: --insecure-skip-signature: X-Twilio-Signature is NOT checked. Any client can call this webhook.\n' +
      '*** Use it only for local trials, never on a reachable address.\n\n',
  );
  log.write('warn', 'signature-check-disabled', { hint: 'never use --insecure-skip-signature on a reachable address' });
}

/** Resolves on the first SIGTERM/SIGINT; a second one ends the process at once (the catalog is crash-safe). */
function waitForStopSignal(log: WebhookLog): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      const again = (second: NodeJS.Signals) => {
        log.write('warn', 'serve-killed', { signal: second, hint: 'unfinished work stays queued in the catalog' });
        process.exit(130);
      };
      process.once('SIGTERM', again);
      process.once('SIGINT', again);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
