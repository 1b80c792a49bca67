/**
 * `serve` end to end, in-process: the emulator's inbound fax flow calls the running webhook over
 * HTTP (signed, as Twilio does), the webhook answers TwiML, records the fax in a real SQLite catalog
 * and archives it to a filesystem store through the archive pipeline. The "Done means" of issue 6.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { sanitizeFaxJson } from '../../src/archive/fax-metadata.js';
import { openMediaStore } from '../../src/store/open-media-store.js';
import { createAccountDirectory } from '../../src/twilio/account-directory.js';
import { startFaxWebhookServer } from '../../src/webhook/fax-webhook-server.js';
import { validatePdf, validateTiff } from '../media/media-validators.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import {
  emulatorFax,
  emulatorMedia,
  fastGateway,
  faxNumberOf,
  memoryLog,
  pointNumberAt,
  readStream,
  sha256Hex,
  startWebhookRig,
  waitFor,
  waitForState,
  type RigConfig,
  type WebhookRig,
} from './webhook-harness.js';

let emu: TestEmulator;
let rig: WebhookRig | null = null;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 2, numbers: 6, accounts: 1, seed: 6 });
});
afterAll(async () => {
  await emu?.close();
});
afterEach(async () => {
  await rig?.close();
  rig = null;
});

async function rigFor(overrides: RigConfig = {}): Promise<WebhookRig> {
  rig = await startWebhookRig(emu, overrides);
  return rig;
}

async function storedMedia(r: WebhookRig, faxSid: string): Promise<{ key: string; bytes: Buffer }> {
  const row = r.catalog.getFax(faxSid);
  const media = row?.objects.find((o) => o.kind === 'media');
  if (!media) throw new Error(`${faxSid} has no media object`);
  const stream = await r.store.read(media.key);
  if (!stream) throw new Error(`${media.key} is not in the store`);
  return { key: media.key, bytes: await readStream(stream) };
}

describe('serve: receive mode', () => {
  it('answers <Receive>, the fax is received in Twilio, archived and verified within seconds (PDF)', async () => {
    const r = await rigFor({ mediaType: 'application/pdf' });
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`);

    const result = await emu.emulator.inboundFax({ to: number.phoneNumber, numPages: 2 });
    expect(result.outcome).toBe('received');
    expect(result.webhook?.status).toBe(200);
    expect(result.action?.status).toBe(200);
    expect(result.action?.url).toBe(`${r.server.localUrl}/fax/received`);
    const faxSid = result.faxSid!;
    expect(emulatorFax(emu, faxSid)?.status).toBe('received');

    const row = await waitForState(r.catalog, faxSid, ['verified']);
    expect(row.accountSid).toBe(emu.accountSid);
    expect(row.status).toBe('received');
    expect(row.objects.map((o) => o.kind).sort()).toEqual(['media', 'sidecar']);
    expect(row.objects.every((o) => o.verifiedAt !== null && o.verificationMethod !== null)).toBe(true);

    const { key, bytes } = await storedMedia(r, faxSid);
    expect(key.endsWith(`${faxSid}.pdf`)).toBe(true);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(sha256Hex(bytes)).toBe(sha256Hex(await emulatorMedia(emu, faxSid)));
    expect(sha256Hex(bytes)).toBe(row.media?.sha256Hex);
    expect(validatePdf(bytes).pages).toBe(2);

    const health = r.server.health();
    expect(health.archive.lastArchive?.faxSid).toBe(faxSid);
    expect(health.queue.depth).toBe(0);
    // The structured log names the fax but never its numbers (personal data) nor the media URL.
    const log = r.logLines.join('');
    expect(log).toContain(faxSid);
    expect(log).not.toContain(number.phoneNumber);
    expect(log).not.toContain('Signature=');
  });

  it('receives TIFF media intact when --media-type image/tiff', async () => {
    const r = await rigFor({ mediaType: 'image/tiff', pageSize: 'a4' });
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`);

    const result = await emu.emulator.inboundFax({ to: number.phoneNumber, numPages: 3 });
    expect(result.outcome).toBe('received');
    const faxSid = result.faxSid!;
    const row = await waitForState(r.catalog, faxSid, ['verified']);
    expect(row.media?.contentType).toBe('image/tiff');

    const { key, bytes } = await storedMedia(r, faxSid);
    expect(key.endsWith(`${faxSid}.tiff`)).toBe(true);
    const magic = bytes.subarray(0, 4).toString('latin1');
    expect(['II*\0', 'MM\0*']).toContain(magic);
    expect(sha256Hex(bytes)).toBe(sha256Hex(await emulatorMedia(emu, faxSid)));
    expect(validateTiff(bytes)).toHaveLength(3);
  });

  it('validates a subaccount\'s fax with the subaccount\'s own token and archives it with its credentials', async () => {
    const r = await rigFor();
    const sub = emu.emulator.accounts[1]!;
    const number = faxNumberOf(emu, sub.sid);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`);

    const result = await emu.emulator.inboundFax({ to: number.phoneNumber, numPages: 1 });
    expect(result.webhook?.status).toBe(200);
    expect(result.outcome).toBe('received');
    const row = await waitForState(r.catalog, result.faxSid!, ['verified']);
    expect(row.accountSid).toBe(sub.sid);
    expect(row.objects.find((o) => o.kind === 'media')?.key.startsWith(`${sub.sid}/`)).toBe(true);
    // The subaccount's token was learnt, so it is scrubbed from logs, and never written there.
    expect(r.directory.knownSecrets()).toContain(sub.authToken);
    expect(r.logLines.join('')).not.toContain(sub.authToken);
  });

  it('records a failed receive with its error, metadata only', async () => {
    const r = await rigFor();
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`);

    const result = await emu.emulator.inboundFax({ to: number.phoneNumber, transmissionFails: true });
    expect(result.outcome).toBe('failed');
    expect(result.action?.status).toBe(200);
    const faxSid = result.faxSid!;
    const row = await waitForState(r.catalog, faxSid, ['metadata-only']);
    expect(row.status).toBe('failed');
    expect(row.objects.map((o) => o.kind)).toEqual(['sidecar']);
    const event = r.catalog.listEvents().find((e) => e.type === 'fax-receive-failed' && e.faxSid === faxSid);
    expect(event?.data).toMatchObject({ ErrorCode: '34107', ErrorMessage: 'Fax transmission failed (emulated)' });
  });

  it('answers a GET FaxUrl (VoiceMethod GET) and, with --store-media false, archives metadata only', async () => {
    const r = await rigFor({ storeMedia: false });
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`, 'GET');
    try {
      const result = await emu.emulator.inboundFax({ to: number.phoneNumber, numPages: 1 });
      expect(result.webhook?.method).toBe('GET');
      expect(result.webhook?.status).toBe(200);
      expect(result.outcome).toBe('received');
      expect(emulatorFax(emu, result.faxSid!)?.media_url ?? null).toBeNull();
      const row = await waitForState(r.catalog, result.faxSid!, ['metadata-only']);
      expect(row.objects.map((o) => o.kind)).toEqual(['sidecar']);
    } finally {
      await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`, 'POST');
    }
  });

  it('archives, at start, what an earlier run left unfinished in the catalog (the queue survives restarts)', async () => {
    // A fax recorded `listed` by a server that died before archiving it: the catalog IS the queue.
    const dir = await mkdtemp(join(tmpdir(), 'fax-sunset-queue-'));
    const fax = emu.emulator.faxes(emu.accountSid).find((f) => typeof f.media_url === 'string');
    expect(fax).toBeDefined();
    const faxSid = String(fax!.sid);
    const path = join(dir, 'catalog.sqlite');
    const earlier = openCatalog(path);
    earlier.recordListed([sanitizeFaxJson(fax!)], null);
    expect(earlier.getFax(faxSid)?.state).toBe('listed');
    earlier.close();

    const catalog = openCatalog(path);
    const store = openMediaStore(join(dir, 'media'));
    const server = await startFaxWebhookServer(
      {
        host: '127.0.0.1', port: 0, publicBase: null, mode: 'receive', mediaType: 'application/pdf', pageSize: 'letter',
        storeMedia: true, verifySignatures: true, workers: 1, maxAttempts: 3, forceFullVerify: true, spoolDir: join(dir, '.spool'),
      },
      { catalog, store, directory: createAccountDirectory({ gateway: fastGateway(emu), mainAuthToken: emu.authToken }), runId: null, log: memoryLog().log },
    );
    try {
      const row = await waitForState(catalog, faxSid, ['verified']);
      expect(row.objects.find((o) => o.kind === 'media')?.verificationMethod).toBe('full');
      // The engine notes its last archive after the catalog commit that waitForState saw, so
      // health may lag that commit by a tick: wait for it rather than read it once.
      const last = await waitFor(() => server.health().archive.lastArchive ?? null, 'health to show the last archive');
      expect(last.faxSid).toBe(faxSid);
    } finally {
      await server.close(1_000);
      catalog.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('serve: reject mode', () => {
  it('answers <Reject/>: the fax ends canceled and nothing is recorded or stored', async () => {
    const r = await rigFor({ mode: 'reject' });
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`);

    const result = await emu.emulator.inboundFax({ to: number.phoneNumber, numPages: 2 });
    expect(result.webhook?.status).toBe(200);
    expect(result.outcome).toBe('rejected');
    expect(result.action).toBeNull();
    expect(emulatorFax(emu, result.faxSid!)?.status).toBe('canceled');
    expect(r.catalog.getFax(result.faxSid!)).toBeNull();
    const keys: string[] = [];
    for await (const item of r.store.list('')) keys.push(item.key);
    expect(keys).toEqual([]);
    expect(r.logEvents().some((e) => e.event === 'fax-incoming' && e.mode === 'reject' && e.faxSid === result.faxSid)).toBe(true);
  });
});

describe('serve: signatures', () => {
  it('refuses the webhook when signed with another token: 403, the fax fails in Twilio, nothing is archived', async () => {
    const r = await rigFor({ mainAuthToken: 'f'.repeat(32) });
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `${r.server.localUrl}/fax/incoming`);

    const result = await emu.emulator.inboundFax({ to: number.phoneNumber });
    expect(result.webhook?.status).toBe(403);
    expect(result.outcome).toBe('failed');
    expect(result.errorCode).toBe(11200);
    expect(r.catalog.getFax(result.faxSid!)).toBeNull();
    const rejected = await waitFor(() => r.logEvents().find((e) => e.event === 'signature-rejected'), 'the rejection log line');
    expect(rejected).toMatchObject({ level: 'warn', reason: 'invalid-signature', accountSid: emu.accountSid, route: '/fax/incoming' });
    // Logged without the body: no phone numbers from it.
    expect(r.logLines.join('')).not.toContain(number.phoneNumber);
  });
});
