/**
 * The webhook's HTTP surface, spoken to directly (as Twilio, as a forger, as a proxy): signatures on
 * both routes, GET, form-only bodies, the size limit, /healthz, proxies and --public-url, the
 * insecure mode and a graceful close. A real server on a free port; the emulator answers the fetches.
 */
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseFaxTwiml } from '../../src/emulator/twiml-reply.js';
import { parsePublicUrl } from '../../src/webhook/public-url.js';
import { parseTrustedProxies } from '../../src/webhook/trusted-proxies.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startWebhookRig, waitFor, type RigConfig, type WebhookRig } from './webhook-harness.js';

let emu: TestEmulator;
let rig: WebhookRig | null = null;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 3, numbers: 3, accounts: 1, seed: 7 });
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

/** Twilio's algorithm, written out independently of the library: HMAC-SHA1(url + sorted key+value), base64. */
function sign(token: string, url: string, params: Record<string, string> = {}): string {
  const data = Object.keys(params).sort().reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

const FORM = 'application/x-www-form-urlencoded';

function incomingParams(faxSid = `FX${'a'.repeat(32)}`): Record<string, string> {
  return { FaxSid: faxSid, AccountSid: emu.accountSid, From: '+15005550006', To: '+15005550001', ApiVersion: 'v1' };
}

function existingFax(): Record<string, unknown> {
  const fax = emu.emulator.faxes(emu.accountSid).find((f) => typeof f.media_url === 'string');
  if (!fax) throw new Error('no fax with media in the emulator');
  return fax;
}

describe('signatures', () => {
  it('accepts a POST signed with the account token and answers <Receive> TwiML with the options', async () => {
    const r = await rigFor({ mediaType: 'image/tiff', pageSize: 'legal', storeMedia: false });
    const url = `${r.server.localUrl}/fax/incoming`;
    const params = incomingParams();
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, params) }, body: form(params) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(parseFaxTwiml(await response.text())).toEqual({
      verb: 'Receive', action: `${r.server.localUrl}/fax/received`, method: 'POST', mediaType: 'image/tiff', pageSize: 'legal', storeMedia: false,
    });
  });

  it('refuses a missing, a wrong and a tampered signature with 403 on both routes, logging no body', async () => {
    const r = await rigFor();
    const fax = existingFax();
    const callback = { FaxSid: String(fax.sid), AccountSid: emu.accountSid, FaxStatus: 'received', NumPages: '1', From: '+15005550006' };
    for (const route of ['/fax/incoming', '/fax/received']) {
      const url = `${r.server.localUrl}${route}`;
      const params = route === '/fax/incoming' ? incomingParams() : callback;
      const good = sign(emu.authToken, url, params);
      const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
        ['missing', {}, params],
        ['wrong token', { 'x-twilio-signature': sign('0'.repeat(32), url, params) }, params],
        ['tampered body', { 'x-twilio-signature': good }, { ...params, NumPages: '9', Extra: 'x' }],
        ['other url', { 'x-twilio-signature': sign(emu.authToken, `${url}?x=1`, params) }, params],
      ];
      for (const [label, headers, body] of cases) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body: form(body) });
        expect(response.status, `${route} ${label}`).toBe(403);
      }
    }
    // Nothing was recorded from the forged callbacks.
    expect(r.catalog.getFax(String(fax.sid))).toBeNull();
    const rejections = r.logEvents().filter((e) => e.event === 'signature-rejected');
    expect(rejections).toHaveLength(8);
    expect(rejections.filter((e) => e.reason === 'missing-signature')).toHaveLength(2);
    expect(r.logLines.join('')).not.toContain('+15005550006');
  });

  it('refuses an account that is neither the main one nor one of its subaccounts', async () => {
    const r = await rigFor();
    const url = `${r.server.localUrl}/fax/incoming`;
    const stranger = `AC${'1'.repeat(32)}`;
    const params = { ...incomingParams(), AccountSid: stranger };
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, params) }, body: form(params) });
    expect(response.status).toBe(403);
    expect(r.logEvents().find((e) => e.event === 'signature-rejected')).toMatchObject({ reason: 'unknown-account', accountSid: stranger });
  });

  it('validates a GET against the full URL with its query string', async () => {
    const r = await rigFor({ mode: 'reject' });
    const url = `${r.server.localUrl}/fax/incoming?${form(incomingParams())}`;
    const ok = await fetch(url, { headers: { 'x-twilio-signature': sign(emu.authToken, url) } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(parseFaxTwiml(await ok.text())).toEqual({ verb: 'Reject' });
    const forged = await fetch(url.replace('ApiVersion=v1', 'ApiVersion=v2'), { headers: { 'x-twilio-signature': sign(emu.authToken, url) } });
    expect(forged.status).toBe(403);
  });

  it('with --insecure-skip-signature accepts unsigned requests and says so in /healthz', async () => {
    const r = await rigFor({ verifySignatures: false });
    const response = await fetch(`${r.server.localUrl}/fax/incoming`, { method: 'POST', headers: { 'content-type': FORM }, body: form(incomingParams()) });
    expect(response.status).toBe(200);
    const health = (await (await fetch(`${r.server.localUrl}/healthz`)).json()) as { signatureCheck: boolean };
    expect(health.signatureCheck).toBe(false);
  });
});

describe('behind a proxy', () => {
  it('checks against --public-url, whether the proxy strips the path prefix or passes it', async () => {
    const r = await rigFor({ publicBase: parsePublicUrl('https://fax.example.org/hooks/') });
    const publicUrl = 'https://fax.example.org/hooks/fax/incoming';
    const params = incomingParams();
    const signature = sign(emu.authToken, publicUrl, params);
    for (const path of ['/fax/incoming', '/hooks/fax/incoming']) {
      const response = await fetch(`${r.server.localUrl}${path}`, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': signature }, body: form(params) });
      expect(response.status, path).toBe(200);
      expect(parseFaxTwiml(await response.text())).toMatchObject({ verb: 'Receive', action: 'https://fax.example.org/hooks/fax/received' });
    }
    // Signed for the local address instead: not what Twilio was configured with.
    const local = `${r.server.localUrl}/fax/incoming`;
    const refused = await fetch(local, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, local, params) }, body: form(params) });
    expect(refused.status).toBe(403);
  });

  it('without --public-url, believes X-Forwarded-Proto/Host only from a --trust-proxy peer, for the signed URL and the action URL', async () => {
    const r = await rigFor({ trustedProxies: parseTrustedProxies(['10.9.9.9', '127.0.0.0/8']) });
    const params = incomingParams();
    const signature = sign(emu.authToken, 'https://tunnel.example.net/fax/incoming', params);
    const response = await fetch(`${r.server.localUrl}/fax/incoming`, {
      method: 'POST',
      headers: { 'content-type': FORM, 'x-twilio-signature': signature, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'tunnel.example.net' },
      body: form(params),
    });
    expect(response.status).toBe(200);
    expect(parseFaxTwiml(await response.text())).toMatchObject({ action: 'https://tunnel.example.net/fax/received' });
  });

  it('a signature made for the same path on another host does not pass through forged forwarding headers (issue 13 §4)', async () => {
    const params = incomingParams();
    // What Twilio signed for another service of the same account: replayed here with headers naming that host.
    const elsewhere = 'https://other-service.example.com/fax/incoming';
    const forged = { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, elsewhere, params), 'x-forwarded-proto': 'https', 'x-forwarded-host': 'other-service.example.com' };
    const untrusted = await rigFor({ trustedProxies: parseTrustedProxies(['10.0.0.0/8']) });
    const refused = await fetch(`${untrusted.server.localUrl}/fax/incoming`, { method: 'POST', headers: forged, body: form(params) });
    expect(refused.status).toBe(403);
    // Its own answer never names the forged host either.
    const local = `${untrusted.server.localUrl}/fax/incoming`;
    const honest = await fetch(local, { method: 'POST', headers: { ...forged, 'x-twilio-signature': sign(emu.authToken, local, params) }, body: form(params) });
    expect(honest.status).toBe(200);
    expect(parseFaxTwiml(await honest.text())).toMatchObject({ action: `${untrusted.server.localUrl}/fax/received` });
    await untrusted.close();
    rig = null;
    // With --public-url, no header counts, even from a trusted peer (a config that reaches the server anyway).
    const fixed = await rigFor({ publicBase: parsePublicUrl('https://fax.example.org'), trustedProxies: parseTrustedProxies(['127.0.0.1']) });
    const alsoRefused = await fetch(`${fixed.server.localUrl}/fax/incoming`, { method: 'POST', headers: forged, body: form(params) });
    expect(alsoRefused.status).toBe(403);
    // A trusted proxy that appends to what its client sent: only its own (last) entry counts.
    await fixed.close();
    rig = null;
    const appending = await rigFor({ trustedProxies: parseTrustedProxies(['127.0.0.1']) });
    const appended = await fetch(`${appending.server.localUrl}/fax/incoming`, {
      method: 'POST',
      headers: { ...forged, 'x-forwarded-proto': 'https, http', 'x-forwarded-host': `other-service.example.com, ${new URL(appending.server.localUrl).host}` },
      body: form(params),
    });
    expect(appended.status).toBe(403);
  });

  it('refuses a body with a repeated parameter (400), however it is signed', async () => {
    const r = await rigFor();
    const url = `${r.server.localUrl}/fax/incoming`;
    const params = incomingParams();
    const body = `${form(params)}&FaxSid=FX${'e'.repeat(32)}`;
    // Twilio's scheme signs a repeated key's values sorted (and de-duplicated), so one signature covers both orders.
    const values = (key: string) => (key === 'FaxSid' ? [params.FaxSid!, `FX${'e'.repeat(32)}`].sort() : [params[key]!]);
    const data = Object.keys(params).sort().reduce((acc, key) => acc + values(key).map((v) => key + v).join(''), url);
    const signature = createHmac('sha1', emu.authToken).update(data, 'utf8').digest('base64');
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': signature }, body });
    expect(response.status).toBe(400);
    expect(r.logEvents().some((line) => line.event === 'repeated-parameter')).toBe(true);
  });
});

describe('bodies and routes', () => {
  it('accepts only form-encoded bodies (415) and refuses oversized ones (413) before any signature check', async () => {
    const r = await rigFor({ bodyLimitBytes: 1024 });
    const url = `${r.server.localUrl}/fax/incoming`;
    const params = incomingParams();
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': sign(emu.authToken, url, params) }, body: JSON.stringify(params) });
    expect(json.status).toBe(415);
    const big = { ...params, Padding: 'x'.repeat(2048) };
    const oversized = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, big) }, body: form(big) });
    expect(oversized.status).toBe(413);
    // Streamed without a Content-Length: cut off while reading.
    const chunked = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(form(big))); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('serves /healthz (GET only) and 404/405 elsewhere', async () => {
    const r = await rigFor();
    const health = await fetch(`${r.server.localUrl}/healthz`);
    expect(health.status).toBe(200);
    const report = (await health.json()) as { status: string; mode: string; queue: { depth: number; inFlight: number }; archive: { lastArchive: unknown } };
    expect(report).toMatchObject({ status: 'ok', mode: 'receive', queue: { depth: 0, inFlight: 0 }, archive: { lastArchive: null } });
    expect((await fetch(`${r.server.localUrl}/healthz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${r.server.localUrl}/fax/incoming`, { method: 'PUT' })).status).toBe(405);
    expect((await fetch(`${r.server.localUrl}/other`)).status).toBe(404);
  });

  it('records a signed action callback at once, answers empty TwiML, and archives in the background', async () => {
    const r = await rigFor();
    const fax = existingFax();
    const url = `${r.server.localUrl}/fax/received`;
    const params = { FaxSid: String(fax.sid), AccountSid: emu.accountSid, FaxStatus: 'received', NumPages: String(fax.num_pages), MediaUrl: String(fax.media_url) };
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, params) }, body: form(params) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fax-sunset-intake')).toBe('recorded');
    expect(parseFaxTwiml(await response.text())).toMatchObject({ verb: 'invalid', reason: 'empty <Response>' });
    const row = await waitFor(() => {
      const current = r.catalog.getFax(String(fax.sid));
      return current?.state === 'verified' ? current : null;
    }, 'the fax to be verified');
    // The catalog keeps the media URL without its signature.
    expect(JSON.stringify(row.raw)).not.toMatch(/Signature=|X-Amz-Signature/i);
  });

  it('answers a callback for a fax Twilio no longer has, and records that it was missing', async () => {
    const r = await rigFor();
    const missing = `FX${'b'.repeat(32)}`;
    const url = `${r.server.localUrl}/fax/received`;
    const params = { FaxSid: missing, AccountSid: emu.accountSid, FaxStatus: 'received', NumPages: '1' };
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, params) }, body: form(params) });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fax-sunset-intake')).toBe('not-found');
    expect(r.catalog.getFax(missing)).toBeNull();
    expect(r.catalog.listEvents().some((e) => e.type === 'fax-callback-not-found' && e.faxSid === missing)).toBe(true);
  });

  it('keeps retrying a callback whose fax Twilio cannot serve yet, then records and archives it', async () => {
    const proxy = await startFaultProxy({ target: emu.url, seed: 3 });
    try {
      proxy.setFaults({ rate: 1, kinds: ['503'] });
      const r = await rigFor({ twilioUrl: proxy.url, intakeRetryDelaysMs: [150, 150, 150, 150, 150, 150, 150, 150] });
      const fax = existingFax();
      const url = `${r.server.localUrl}/fax/received`;
      const params = { FaxSid: String(fax.sid), AccountSid: emu.accountSid, FaxStatus: 'received', NumPages: String(fax.num_pages) };
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, params) }, body: form(params) });
      // Twilio gets its answer at once even though the fax could not be fetched.
      expect(response.status).toBe(200);
      expect(response.headers.get('x-fax-sunset-intake')).toBe('deferred');
      expect(r.server.health().queue.pendingIntake).toBe(1);
      expect(r.catalog.getFax(String(fax.sid))).toBeNull();

      proxy.setFaults({ rate: 0, kinds: ['503'] });
      await waitFor(() => r.catalog.getFax(String(fax.sid))?.state === 'verified', 'the deferred fax to be archived');
      expect(r.server.health().queue.pendingIntake).toBe(0);
      expect(r.logEvents().some((e) => e.event === 'fax-intake-failed' && e.willRetry === true)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('lists the accounts at most once per interval however many unknown AccountSids arrive', async () => {
    const r = await rigFor();
    emu.emulator.resetStats();
    const url = `${r.server.localUrl}/fax/incoming`;
    for (let i = 0; i < 5; i++) {
      const params = { ...incomingParams(), AccountSid: `AC${String(i).repeat(32)}` };
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, 'x-twilio-signature': sign(emu.authToken, url, params) }, body: form(params) });
      expect(response.status).toBe(403);
    }
    const listings = Object.entries(emu.emulator.stats().requests).filter(([route]) => route.includes('Accounts.json'));
    expect(listings.reduce((sum, [, n]) => sum + n, 0)).toBe(1);
  });

  it('closes gracefully: stops listening and reports the queue it leaves', async () => {
    const r = await rigFor();
    const localUrl = r.server.localUrl;
    const result = await r.server.close(1_000);
    expect(result).toEqual({ abandoned: 0, queueDepth: 0 });
    await expect(fetch(`${localUrl}/healthz`)).rejects.toThrow();
  });
});
