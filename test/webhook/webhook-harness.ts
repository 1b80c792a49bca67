/**
 * Real parts for the webhook tests: the emulator (whose inbound flow calls the webhook over HTTP),
 * a real SQLite catalog and a filesystem store in a temp folder, a gateway over the helper library,
 * and `startFaxWebhookServer` in-process. Fast retries so failures surface within a test's time.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Catalog, FaxRow } from '../../src/catalog/catalog.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { createConcurrencyCap } from '../../src/limits/concurrency-cap.js';
import { createRequestLimiter } from '../../src/limits/request-limiter.js';
import type { MediaStore } from '../../src/store/media-store.js';
import { openMediaStore } from '../../src/store/open-media-store.js';
import { HelperLibraryTwilioGateway } from '../../src/twilio/helper-library-twilio-gateway.js';
import { createAccountDirectory, type AccountDirectory } from '../../src/twilio/account-directory.js';
import { startFaxWebhookServer, type FaxWebhookConfig, type FaxWebhookServer } from '../../src/webhook/fax-webhook-server.js';
import { createWebhookLog, type WebhookLog } from '../../src/webhook/webhook-log.js';
import type { TestEmulator } from '../support/emulator.js';

export interface EmulatorNumber {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  faxMode: boolean;
}

/** Numbers as the emulator's 2010 API shows them. */
export function emulatorNumbers(emu: TestEmulator): EmulatorNumber[] {
  return emu.emulator.numbers().map((n) => ({
    sid: String(n.sid),
    accountSid: String(n.account_sid),
    phoneNumber: String(n.phone_number),
    faxMode: n.voice_receive_mode === 'fax',
  }));
}

/** A fax-mode number of the given account (main by default). */
export function faxNumberOf(emu: TestEmulator, accountSid = emu.accountSid): EmulatorNumber {
  const number = emulatorNumbers(emu).find((n) => n.faxMode && n.accountSid === accountSid);
  if (!number) throw new Error(`the emulator has no fax-mode number for ${accountSid}`);
  return number;
}

/** Points a number's FaxUrl (its VoiceUrl in fax mode) at `url` through the 2010 API, as an operator would. */
export async function pointNumberAt(emu: TestEmulator, number: EmulatorNumber, url: string, method: 'GET' | 'POST' = 'POST'): Promise<void> {
  const account = emu.emulator.accounts.find((a) => a.sid === number.accountSid);
  if (!account) throw new Error(`unknown account ${number.accountSid}`);
  const response = await fetch(`${emu.url}/2010-04-01/Accounts/${number.accountSid}/IncomingPhoneNumbers/${number.sid}.json`, {
    method: 'POST',
    headers: { authorization: emu.basicAuth(account.sid, account.authToken), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ VoiceUrl: url, VoiceMethod: method }).toString(),
  });
  if (response.status !== 200) throw new Error(`updating ${number.sid} answered ${response.status}: ${await response.text()}`);
}

export function fastGateway(emu: TestEmulator, token = emu.authToken, baseUrl = emu.url): HelperLibraryTwilioGateway {
  return new HelperLibraryTwilioGateway({
    credentials: { accountSid: emu.accountSid, username: emu.accountSid, password: token },
    baseUrl,
    limiter: createRequestLimiter({ ratePerSecond: Infinity, concurrency: 8, policy: { maxAttempts: 4, baseMs: 2, capMs: 20 } }),
    mediaCap: createConcurrencyCap(4),
    userAgent: 'fax-sunset/webhook-test',
    mediaRetryPolicy: { maxAttempts: 4, baseMs: 2, capMs: 20 },
  });
}

/** Log lines kept in memory, parsed, for assertions about what was (not) logged. */
export function memoryLog(knownSecrets: () => readonly string[] = () => []): { log: WebhookLog; lines: string[]; events(): Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = createWebhookLog({ sink: { write: (line: string) => lines.push(line) }, format: 'json', knownSecrets });
  return { log, lines, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export interface WebhookRig {
  emu: TestEmulator;
  dir: string;
  catalog: Catalog;
  store: MediaStore;
  directory: AccountDirectory;
  server: FaxWebhookServer;
  logLines: string[];
  logEvents(): Record<string, unknown>[];
  /** Stops the server (graceful), closes catalog and store, removes the folder. The emulator stays. */
  close(): Promise<void>;
}

export type RigConfig = Partial<FaxWebhookConfig> & {
  mainAuthToken?: string | null;
  /** Where the server's gateway sends Twilio API calls (e.g. a fault proxy); default the emulator. */
  twilioUrl?: string;
};

export async function startWebhookRig(emu: TestEmulator, overrides: RigConfig = {}): Promise<WebhookRig> {
  const dir = await mkdtemp(join(tmpdir(), 'fax-sunset-webhook-'));
  const catalog = openCatalog(join(dir, 'catalog.sqlite'));
  const store = openMediaStore(join(dir, 'media'));
  await store.check();
  const { mainAuthToken, twilioUrl, ...configOverrides } = overrides;
  const directory = createAccountDirectory({
    gateway: fastGateway(emu, emu.authToken, twilioUrl ?? emu.url),
    mainAuthToken: mainAuthToken === undefined ? emu.authToken : mainAuthToken,
  });
  const memory = memoryLog(() => [emu.authToken, ...directory.knownSecrets()]);
  const config: FaxWebhookConfig = {
    host: '127.0.0.1',
    port: 0,
    publicBase: null,
    mode: 'receive',
    mediaType: 'application/pdf',
    pageSize: 'letter',
    storeMedia: true,
    verifySignatures: true,
    workers: 2,
    maxAttempts: 5,
    forceFullVerify: false,
    spoolDir: join(dir, '.spool'),
    retryDelayMs: () => 100,
    intakeRetryDelaysMs: [50, 100],
    ...configOverrides,
  };
  const runId = catalog.startRun('serve', { test: true });
  const server = await startFaxWebhookServer(config, { catalog, store, directory, runId, log: memory.log });
  return {
    emu,
    dir,
    catalog,
    store,
    directory,
    server,
    logLines: memory.lines,
    logEvents: memory.events,
    async close() {
      await server.close(2_000);
      catalog.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `probe` returns a value (not undefined/null/false), or throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits for the fax to reach one of `states` in the catalog. */
export function waitForState(catalog: Catalog, faxSid: string, states: readonly FaxRow['state'][], timeoutMs?: number): Promise<FaxRow> {
  return waitFor(() => {
    const row = catalog.getFax(faxSid);
    return row && states.includes(row.state) ? row : null;
  }, `${faxSid} to reach ${states.join('/')}`, timeoutMs);
}

export async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The fax's media bytes straight from the emulator's media host (a fresh pre-signed URL). */
export async function emulatorMedia(emu: TestEmulator, faxSid: string): Promise<Buffer> {
  const fax = emu.emulator.faxes().find((f) => f.sid === faxSid);
  const url = fax?.media_url;
  if (typeof url !== 'string') throw new Error(`${faxSid} has no media_url in the emulator`);
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`media host answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** The emulator's current JSON of one fax. */
export function emulatorFax(emu: TestEmulator, faxSid: string): Record<string, unknown> | undefined {
  return emu.emulator.faxes().find((f) => f.sid === faxSid);
}
