/**
 * `fax-sunset serve`: the endpoint fax numbers point at during the migration window (seeds 001 and
 * 003). Twilio asks `FAX_INCOMING_PATH` what to do with an incoming fax and gets `<Receive>` (or
 * `<Reject/>` during the freeze); after receiving, it calls `FAX_RECEIVED_PATH`, which records the
 * fax in the catalog and hands its sid to the archive engine (src/archive/). Twilio gets its answer at once; the archiving
 * happens in the background from the catalog, so a restart loses nothing.
 *
 * Every webhook must carry a valid `X-Twilio-Signature` for its account (403 otherwise, logged
 * without the body); only form-encoded bodies up to a small limit are read. `/healthz` reports the
 * queue depth and the last archive.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Catalog } from '../catalog/catalog.js';
import { describeError } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';
import type { AccountDirectory } from '../twilio/account-directory.js';
import { ArchiveEngine, type ArchiveEngineStatus } from '../archive/archive-engine.js';
import { emptyTwiml, receiveTwiml, rejectTwiml, type FaxMediaType, type FaxPageSize, type WebhookMode } from './fax-twiml.js';
import { FaxIntake, parseFaxCallback } from './fax-intake.js';
import { DEFAULT_BODY_LIMIT_BYTES, param, parseForm, readFormBody, WebhookRequestError, type WebhookParams } from './form-body.js';
import {
  FAX_INCOMING_PATH,
  FAX_RECEIVED_PATH,
  HEALTH_PATH,
  publicBaseFor,
  publicUrlOf,
  routeOf,
  signedUrlFor,
  splitRequestTarget,
  type PublicBase,
} from './public-url.js';
import { checkSignature } from './signature-check.js';
import { NO_TRUSTED_PROXIES, type TrustedProxies } from './trusted-proxies.js';
import type { WebhookLog } from './webhook-log.js';

export interface FaxWebhookConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** `--public-url`; null derives it from each request's Host (or a trusted proxy's X-Forwarded-*) headers. */
  publicBase: PublicBase | null;
  /** `--trust-proxy`: peers whose X-Forwarded-Proto/Host are believed (never with a public URL). Default none. */
  trustedProxies?: TrustedProxies;
  mode: WebhookMode;
  mediaType: FaxMediaType;
  pageSize: FaxPageSize;
  storeMedia: boolean;
  /** false only with `--insecure-skip-signature`: any client can then queue work. */
  verifySignatures: boolean;
  bodyLimitBytes?: number;
  /** Archive engine settings. */
  workers: number;
  maxAttempts: number;
  forceFullVerify: boolean;
  spoolDir: string;
  retryDelayMs?: (attempts: number) => number;
  intakeRetryDelaysMs?: readonly number[];
}

export interface FaxWebhookDependencies {
  catalog: Catalog;
  store: MediaStore;
  directory: AccountDirectory;
  /** The catalog run this server records its faxes under. */
  runId: number | null;
  log: WebhookLog;
  now?: () => Date;
}

export interface HealthReport {
  status: 'ok' | 'stopping';
  mode: WebhookMode;
  signatureCheck: boolean;
  startedAt: string;
  queue: {
    /** Faxes the catalog holds unfinished (listed, fetched, stored, failed): the durable queue. */
    depth: number;
    byState: { listed: number; fetched: number; stored: number; failed: number };
    inFlight: number;
    /** Callbacks whose fax could not be fetched from Twilio yet. */
    pendingIntake: number;
  };
  archive: Omit<ArchiveEngineStatus, 'running' | 'inFlight'>;
}

export interface FaxWebhookServer {
  /** Where this server listens, e.g. http://127.0.0.1:8080. */
  readonly localUrl: string;
  readonly port: number;
  health(): HealthReport;
  /** Rows were queued in the catalog by someone else (the periodic listing): archive them now. */
  workQueued(): void;
  /**
   * Graceful stop: refuses new requests, lets those in progress finish, then gives the archives in
   * flight up to `graceMs`; anything unfinished stays queued in the catalog for the next start.
   */
  close(graceMs?: number): Promise<{ abandoned: number; queueDepth: number }>;
}

const TWIML_HEADERS = {
  'content-type': 'text/xml; charset=utf-8',
  // Twilio caches GET answers like a browser (seed 001); a cached <Receive> would outlive a switch to reject mode.
  'cache-control': 'no-store',
};

export async function startFaxWebhookServer(config: FaxWebhookConfig, deps: FaxWebhookDependencies): Promise<FaxWebhookServer> {
  const { catalog, directory, log } = deps;
  const startedAt = (deps.now?.() ?? new Date()).toISOString();
  const bodyLimit = config.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const trustedProxies = config.publicBase ? NO_TRUSTED_PROXIES : (config.trustedProxies ?? NO_TRUSTED_PROXIES);
  // The archive engine works in the background; this server only hands it the faxes it records.
  const engine = new ArchiveEngine({
    catalog,
    store: deps.store,
    accounts: directory,
    spoolDir: config.spoolDir,
    limits: { workers: config.workers, uploadConcurrency: config.workers, maxAttempts: config.maxAttempts },
    forceFullVerify: config.forceFullVerify,
    storeMediaFalse: !config.storeMedia,
    log,
    ...(deps.now ? { now: deps.now } : {}),
    ...(config.retryDelayMs ? { retryDelayMs: config.retryDelayMs } : {}),
  });
  const intake = new FaxIntake({
    catalog,
    directory,
    queue: engine,
    runId: deps.runId,
    log,
    ...(config.intakeRetryDelaysMs ? { retryDelaysMs: config.intakeRetryDelaysMs } : {}),
  });
  let stopping = false;
  let activeRequests = 0;
  let requestsDrained: (() => void) | null = null;

  function health(): HealthReport {
    const counts = catalog.countByState();
    const byState = { listed: counts.listed, fetched: counts.fetched, stored: counts.stored, failed: counts.failed };
    const { running: _running, inFlight, ...archive } = engine.status();
    return {
      status: stopping ? 'stopping' : 'ok',
      mode: config.mode,
      signatureCheck: config.verifySignatures,
      startedAt,
      queue: {
        depth: byState.listed + byState.fetched + byState.stored + byState.failed,
        byState,
        inFlight,
        pendingIntake: intake.pendingCount,
      },
      archive,
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const forwardedTrusted = config.publicBase === null && trustedProxies.trusts(req.socket.remoteAddress);
    const base = publicBaseFor(req.headers, config.publicBase, forwardedTrusted);
    const { pathname, search } = splitRequestTarget(target);
    const route = routeOf(pathname, base.basePath);

    if (route === HEALTH_PATH) {
      if (method !== 'GET' && method !== 'HEAD') throw new WebhookRequestError(405, 'use GET');
      const report = health();
      res.writeHead(stopping ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : JSON.stringify(report));
      return;
    }
    if (route !== FAX_INCOMING_PATH && route !== FAX_RECEIVED_PATH) throw new WebhookRequestError(404, 'not found');
    if (method !== 'GET' && method !== 'POST') throw new WebhookRequestError(405, 'use POST or GET');
    if (stopping) throw new WebhookRequestError(503, 'shutting down');

    const queryParams = parseForm(search.slice(1));
    const bodyParams: WebhookParams = method === 'POST' ? await readFormBody(req, bodyLimit) : {};
    // The signature covers body parameters sorted, repeated values too, so it cannot say which of
    // two values was meant; Twilio never repeats one. Refused, whatever the signature says.
    if (Object.values(bodyParams).some(Array.isArray)) {
      log.write('warn', 'repeated-parameter', { route, method });
      throw new WebhookRequestError(400, 'a body parameter is repeated: refused');
    }
    const params: WebhookParams = { ...queryParams, ...bodyParams };
    const accountSid = param(params, 'AccountSid');

    if (config.verifySignatures) {
      const header = req.headers['x-twilio-signature'];
      const verdict = await checkSignature(directory, {
        signature: Array.isArray(header) ? header[0] : header,
        url: signedUrlFor(target, req.headers, config.publicBase, forwardedTrusted),
        bodyParams,
        accountSid,
      });
      if (!verdict.ok) {
        // The body is not logged: it may be a forgery, and it carries phone numbers either way.
        log.write('warn', 'signature-rejected', { route, method, reason: verdict.reason, accountSid: verdict.accountSid });
        throw new WebhookRequestError(403, 'invalid or missing X-Twilio-Signature');
      }
    }

    if (route === FAX_INCOMING_PATH) {
      const faxSid = param(params, 'FaxSid');
      log.write('info', 'fax-incoming', { faxSid, accountSid, mode: config.mode, method });
      const twiml =
        config.mode === 'reject'
          ? rejectTwiml()
          : receiveTwiml({
              actionUrl: publicUrlOf(base, FAX_RECEIVED_PATH),
              mediaType: config.mediaType,
              pageSize: config.pageSize,
              storeMedia: config.storeMedia,
            });
      res.writeHead(200, TWIML_HEADERS);
      res.end(twiml);
      return;
    }

    const callback = parseFaxCallback(params);
    log.write('info', 'fax-callback', {
      faxSid: callback.faxSid,
      accountSid: callback.accountSid,
      faxStatus: callback.faxStatus,
      numPages: callback.numPages,
      errorCode: callback.errorCode,
    });
    const outcome = await intake.accept(callback);
    res.writeHead(200, { ...TWIML_HEADERS, 'x-fax-sunset-intake': outcome });
    res.end(emptyTwiml());
  }

  const server = http.createServer((req, res) => {
    activeRequests++;
    handle(req, res)
      .catch((error: unknown) => {
        let status = 500;
        let message = 'internal error';
        if (error instanceof WebhookRequestError) {
          status = error.status;
          message = error.message;
        } else {
          log.write('error', 'request-error', { method: req.method, error: describeError(error, directory.knownSecrets()) });
        }
        if (!res.headersSent) {
          const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8' };
          // After an oversized body or during shutdown, do not keep the connection for another request.
          if (status === 413 || status === 503) headers.connection = 'close';
          res.writeHead(status, headers);
        }
        res.end(`${message}\n`);
      })
      .finally(() => {
        activeRequests--;
        if (activeRequests === 0) requestsDrained?.();
      });
  });
  // Twilio gives up on a webhook after 15 s; nobody legitimate needs longer to send a few hundred bytes.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await engine.start();

  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const localUrl = `http://${hostForUrl}:${address.port}`;

  return {
    localUrl,
    port: address.port,
    health,
    workQueued: () => engine.kick(),
    async close(graceMs = 25_000) {
      if (!stopping) {
        stopping = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (activeRequests > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            new Promise<void>((resolve) => {
              requestsDrained = resolve;
            }),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, graceMs);
            }),
          ]);
          clearTimeout(timer);
        }
        server.closeAllConnections();
        await closed;
      }
      intake.stop();
      const { abandoned } = await engine.stop(graceMs);
      return { abandoned, queueDepth: health().queue.depth };
    },
  };
}
