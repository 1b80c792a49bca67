/**
 * The TwilioGateway contract, run against the emulator over real HTTP (the emulator is the only
 * Twilio left). Small data so the suite stays fast; every test asserts an outcome that can fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ExternalServiceError, MediaUrlExpiredError } from '../../src/errors.js';
import { startEmulator } from '../../src/emulator/index.js';
import { createConcurrencyCap } from '../../src/limits/concurrency-cap.js';
import { createRequestLimiter, type RequestLimiter } from '../../src/limits/request-limiter.js';
import { HelperLibraryTwilioGateway } from '../../src/twilio/helper-library-twilio-gateway.js';
import type { TwilioFax, TwilioGateway } from '../../src/twilio/twilio-gateway.js';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/** Fast retries: the contract is about outcomes, not waiting. */
function limiter(concurrency = 4): RequestLimiter {
  return createRequestLimiter({ ratePerSecond: Infinity, concurrency, policy: { maxAttempts: 10, baseMs: 2, capMs: 20 } });
}

function gatewayFor(emulator: Emulator, options: { token?: string; limiter?: RequestLimiter } = {}): HelperLibraryTwilioGateway {
  const main = emulator.accounts[0]!;
  return new HelperLibraryTwilioGateway({
    credentials: { accountSid: main.sid, username: main.sid, password: options.token ?? main.authToken },
    baseUrl: emulator.url,
    limiter: options.limiter ?? limiter(),
    mediaCap: createConcurrencyCap(4),
    userAgent: 'fax-sunset/contract-test',
    mediaRetryPolicy: { maxAttempts: 10, baseMs: 2, capMs: 20 },
  });
}

async function listAll(gateway: TwilioGateway, pageSize?: number): Promise<{ pages: number; faxes: TwilioFax[] }> {
  let pages = 0;
  const faxes: TwilioFax[] = [];
  for await (const page of gateway.listFaxPages({ pageSize })) {
    pages += 1;
    faxes.push(...page);
  }
  return { pages, faxes };
}

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

describe('TwilioGateway contract (emulator over HTTP)', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ faxes: 45, accounts: 2, numbers: 2, seed: 7 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('lists every fax of the account exactly once across small pages', async () => {
    const gateway = gatewayFor(emulator);
    const small = await listAll(gateway, 4);
    const whole = await listAll(gateway, 1000);
    const sids = new Set(small.faxes.map((f) => f.sid));
    expect(small.pages).toBeGreaterThan(2);
    expect(sids.size).toBe(small.faxes.length);
    expect([...sids].sort()).toEqual(whole.faxes.map((f) => f.sid).sort());
    expect(sids.size).toBeGreaterThan(0);
    for (const fax of small.faxes) expect(fax.account_sid).toBe(gateway.accountSid);
  });

  it('filters by creation date', async () => {
    const gateway = gatewayFor(emulator);
    const { faxes } = await listAll(gateway);
    const dates = faxes.map((f) => Date.parse(f.date_created!)).sort((a, b) => a - b);
    const cut = new Date(dates[Math.floor(dates.length / 2)]!);
    const after: TwilioFax[] = [];
    for await (const page of gateway.listFaxPages({ createdAfter: cut, pageSize: 5 })) after.push(...page);
    expect(after.length).toBe(dates.filter((d) => d > cut.getTime()).length);
    expect(after.length).toBeGreaterThan(0);
    for (const fax of after) expect(Date.parse(fax.date_created!)).toBeGreaterThan(cut.getTime());
  });

  it('fetches a fax with a fresh media_url, and answers null for one that does not exist', async () => {
    const gateway = gatewayFor(emulator);
    const { faxes } = await listAll(gateway);
    const withMedia = faxes.find((f) => f.media_url)!;
    const fetched = await gateway.fetchFax(withMedia.sid);
    expect(fetched?.sid).toBe(withMedia.sid);
    expect(fetched?.media_url).toMatch(/^http/);
    expect(await gateway.fetchFax('FX' + '0'.repeat(32))).toBeNull();
  });

  it('deletes with a receipt carrying Twilio-Request-Id; a second delete is a 404 receipt', async () => {
    const gateway = gatewayFor(emulator);
    const { faxes } = await listAll(gateway);
    const victim = faxes.at(-1)!;
    const receipt = await gateway.deleteFax(victim.sid);
    expect(receipt.httpStatus).toBe(204);
    expect(receipt.requestId).toMatch(/^RQ[0-9a-f]{32}$/);
    expect(await gateway.fetchFax(victim.sid)).toBeNull();
    const again = await gateway.deleteFax(victim.sid);
    expect(again.httpStatus).toBe(404);
    const after = await listAll(gateway);
    expect(after.faxes.map((f) => f.sid)).not.toContain(victim.sid);
  });

  it('streams media with a User-Agent and no Authorization (the emulator refuses otherwise)', async () => {
    const gateway = gatewayFor(emulator);
    const { faxes } = await listAll(gateway);
    const fax = faxes.find((f) => f.media_url)!;
    const download = await gateway.openMedia(fax.media_url!);
    expect(download.httpStatus).toBe(200);
    expect(['application/pdf', 'image/tiff']).toContain(download.contentType);
    expect(download.contentLength).toBeGreaterThan(0);
    expect(await drain(download.body)).toBe(download.contentLength);
  });

  it('refuses bad credentials with AuthError naming the account, not the token', async () => {
    const wrong = 'f'.repeat(32);
    const gateway = gatewayFor(emulator, { token: wrong });
    const error = await listAll(gateway).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toContain(gateway.accountSid);
    expect((error as Error).message).toContain('20003');
    expect((error as Error).message).not.toContain(wrong);
  });

  it('lists subaccounts with their tokens, and acts as each one', async () => {
    const gateway = gatewayFor(emulator);
    const subs = await gateway.listSubaccounts();
    const expected = emulator.accounts.slice(1);
    expect(subs.map((s) => s.sid).sort()).toEqual(expected.map((a) => a.sid).sort());
    for (const sub of subs) expect(sub.authToken).toBe(expected.find((a) => a.sid === sub.sid)!.authToken);
    const sub = gateway.forSubaccount(subs[0]!);
    expect(sub.accountSid).toBe(subs[0]!.sid);
    const { faxes } = await listAll(sub, 10);
    expect(faxes.length).toBeGreaterThan(0);
    for (const fax of faxes) expect(fax.account_sid).toBe(sub.accountSid);
    expect(await sub.listSubaccounts()).toEqual([]);
  });

  it('names the host, not the credentials, when Twilio cannot be reached', async () => {
    const probe = http.createServer();
    const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as AddressInfo).port)));
    await new Promise<void>((r) => probe.close(() => r()));
    const main = emulator.accounts[0]!;
    const gateway = new HelperLibraryTwilioGateway({
      credentials: { accountSid: main.sid, username: main.sid, password: main.authToken },
      baseUrl: `http://127.0.0.1:${port}`,
      limiter: createRequestLimiter({ ratePerSecond: Infinity, concurrency: 1, policy: { maxAttempts: 3, baseMs: 1, capMs: 2 } }),
      mediaCap: createConcurrencyCap(1),
    });
    const error = await gateway.fetchFax('FX' + '1'.repeat(32)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalServiceError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain(main.authToken);
  });
});

describe('TwilioGateway under the emulator limits and faults', () => {
  it('retries 429s under the concurrency limit until every request succeeds', async () => {
    const emulator = await startEmulator({ faxes: 30, accounts: 0, numbers: 0, seed: 3, concurrencyLimit: 2, latencyMs: 15 });
    try {
      // A finite rate, as in real use: the bucket's cut on 429 is what brings 8 workers down to what
      // the account allows; with no rate at all only the retries would, and they could run out.
      const shared = createRequestLimiter({ ratePerSecond: 100, concurrency: 8, policy: { maxAttempts: 10, baseMs: 5, capMs: 100 } });
      const gateway = gatewayFor(emulator, { limiter: shared });
      const { faxes } = await listAll(gateway, 1000);
      const fetched = await Promise.all(faxes.map((f) => gateway.fetchFax(f.sid)));
      expect(fetched.map((f) => f?.sid)).toEqual(faxes.map((f) => f.sid));
      expect(shared.stats().throttled).toBeGreaterThan(0);
      expect(shared.stats().failures).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  it('retries 500, 503 and connection resets on the API and the media host', async () => {
    const emulator = await startEmulator({ faxes: 30, accounts: 0, numbers: 0, seed: 11, faultRate: 0.3, faultKinds: ['500', '503', 'reset'] });
    try {
      const shared = limiter(4);
      const gateway = gatewayFor(emulator, { limiter: shared });
      const { faxes } = await listAll(gateway, 5);
      expect(new Set(faxes.map((f) => f.sid)).size).toBe(faxes.length);
      const fetched = await Promise.all(faxes.map((f) => gateway.fetchFax(f.sid)));
      expect(fetched.every((f) => f !== null)).toBe(true);
      const withMedia = fetched.filter((f) => f?.media_url).slice(0, 6);
      for (const fax of withMedia) {
        const download = await gateway.openMedia(fax!.media_url!);
        expect(download.httpStatus).toBe(200);
        await drain(download.body);
      }
      expect(shared.stats().retries).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  it('turns an expired media URL into MediaUrlExpiredError', async () => {
    const emulator = await startEmulator({ faxes: 10, accounts: 0, numbers: 0, seed: 5, mediaTtlSeconds: 0 });
    try {
      const gateway = gatewayFor(emulator);
      const { faxes } = await listAll(gateway);
      const fax = faxes.find((f) => f.media_url)!;
      await new Promise((r) => setTimeout(r, 5));
      await expect(gateway.openMedia(fax.media_url!)).rejects.toBeInstanceOf(MediaUrlExpiredError);
    } finally {
      await emulator.close();
    }
  });

  it('turns 400 ExpiredToken (the session token of the URL ran out before X-Amz-Expires) into MediaUrlExpiredError; a fresh fetch gives a URL that works', async () => {
    const emulator = await startEmulator({ faxes: 10, accounts: 0, numbers: 0, seed: 5, mediaTtlSeconds: 7200, mediaTokenTtlSeconds: 60, world: { expiredTokenInListings: 1 } });
    try {
      const gateway = gatewayFor(emulator);
      const { faxes } = await listAll(gateway);
      const fax = faxes.find((f) => f.media_url)!;
      const error = await gateway.openMedia(fax.media_url!).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MediaUrlExpiredError);
      expect(String((error as Error).message)).toMatch(/400 ExpiredToken/);
      const fresh = (await gateway.fetchFax(fax.sid))!;
      const download = await gateway.openMedia(fresh.media_url!);
      expect(download.httpStatus).toBe(200);
      expect(await drain(download.body)).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  it("lists a fax's FaxMedia subresource: its media item, none without media, null when the fax is gone", async () => {
    const emulator = await startEmulator({ faxes: 20, accounts: 0, numbers: 0, seed: 8 });
    const gateway = gatewayFor(emulator);
    const { faxes } = await listAll(gateway);
    const withMedia = faxes.find((f) => f.media_sid)!;
    expect(await gateway.listFaxMedia(withMedia.sid)).toEqual([{ sid: withMedia.media_sid, contentType: expect.stringMatching(/^(application\/pdf|image\/tiff)$/), url: expect.stringContaining(`/v1/Faxes/${withMedia.sid}/Media/${withMedia.media_sid}`) }]);
    const without = emulator.createFax({ status: 'failed', withMedia: false });
    expect(await gateway.listFaxMedia(String(without.sid))).toEqual([]);
    expect(await gateway.listFaxMedia('FX' + '0'.repeat(32))).toBeNull();
    await emulator.close();
  });
});
