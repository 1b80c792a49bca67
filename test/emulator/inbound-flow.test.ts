/**
 * The inbound fax flow from the seed documents ("TwiML for Programmable Fax", "Receiving Faxes"),
 * against a real HTTP server in this test standing in for the customer's fax webhook: the signed
 * webhook and its parameters, <Receive> with its attributes and the action callback, <Reject>,
 * bad TwiML (34106), and a number in voice mode taking no fax.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundFaxResult } from '../../src/emulator/index.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { pdfPageCount, tiffPageCount } from './media-pages.js';
import { schemaProblems } from './openapi-schema.js';

/** One request the webhook server received. */
interface Hit {
  method: string;
  /** The full URL as Twilio signed it (origin + path + query). */
  url: string;
  path: string;
  signature: string | undefined;
  contentType: string | undefined;
  /** POST form fields, or the query for a GET. */
  params: Record<string, string>;
}

/** The customer's fax app: answers each path with the reply set for it, records every request. */
class WebhookServer {
  readonly hits: Hit[] = [];
  private readonly replies = new Map<string, { status: number; body: string }>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.origin);
      const params = req.method === 'POST'
        ? Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
        : Object.fromEntries(url.searchParams);
      this.hits.push({
        method: req.method ?? '',
        url: url.href,
        path: url.pathname,
        signature: req.headers['x-twilio-signature'] as string | undefined,
        contentType: req.headers['content-type'],
        params,
      });
      const reply = this.replies.get(url.pathname) ?? { status: 200, body: '' };
      res.writeHead(reply.status, { 'Content-Type': 'text/xml' });
      res.end(reply.body);
    });
  });
  origin = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reply(path: string, body: string, status = 200): string {
    this.replies.set(path, { status, body });
    return this.origin + path;
  }

  hitsTo(path: string): Hit[] {
    return this.hits.filter((h) => h.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

interface NumberJson {
  sid: string;
  account_sid: string;
  phone_number: string;
  voice_receive_mode: string;
}
interface FaxJson {
  sid: string;
  account_sid: string;
  status: string;
  direction: string;
  from: string;
  to: string;
  num_pages: number | null;
  media_sid: string | null;
  media_url: string | null;
  price: string | null;
  [k: string]: unknown;
}

const UA = { 'User-Agent': 'fax-sunset-test/1.0' };
const twiml = (verb: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${verb}</Response>`;

let emu: TestEmulator;
let app: WebhookServer;

beforeAll(async () => {
  // Numbers go round-robin to main, sub, main, sub...; every third (index 2, 5) starts in voice mode.
  emu = await startTestEmulator({ faxes: 4, numbers: 6, accounts: 1, seed: 4 });
  app = new WebhookServer();
  await app.start();
});
afterAll(async () => {
  await app?.close();
  await emu?.close();
});
beforeEach(() => {
  app.hits.length = 0;
});

function tokenOf(accountSid: string): string {
  const account = emu.emulator.accounts.find((a) => a.sid === accountSid);
  if (!account) throw new Error(`no account ${accountSid}`);
  return account.authToken;
}

function numbersIn(mode: 'fax' | 'voice', accountSid?: string): NumberJson[] {
  return (emu.emulator.numbers(accountSid) as unknown as NumberJson[]).filter((n) => n.voice_receive_mode === mode);
}

/** Configures a number through the 2010 API, as the customer did in the Console or with the REST API. */
async function configureNumber(n: NumberJson, fields: Record<string, string>): Promise<void> {
  const res = await fetch(`${emu.url}/2010-04-01/Accounts/${n.account_sid}/IncomingPhoneNumbers/${n.sid}.json`, {
    method: 'POST',
    headers: { Authorization: emu.basicAuth(n.account_sid, tokenOf(n.account_sid)), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

async function fetchFax(sid: string, accountSid: string): Promise<FaxJson> {
  const res = await fetch(`${emu.url}/v1/Faxes/${sid}`, { headers: { Authorization: emu.basicAuth(accountSid, tokenOf(accountSid)) } });
  expect(res.status).toBe(200);
  return (await res.json()) as FaxJson;
}

async function mediaContentType(fax: FaxJson): Promise<string> {
  const res = await fetch(`${emu.url}/v1/Faxes/${fax.sid}/Media`, {
    headers: { Authorization: emu.basicAuth(fax.account_sid, tokenOf(fax.account_sid)) },
  });
  const body = (await res.json()) as { media: { content_type: string }[] };
  expect(body.media).toHaveLength(1);
  return (body.media[0] as { content_type: string }).content_type;
}

function expectSigned(hit: Hit, authToken: string, params: Record<string, string>): void {
  expect(hit.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
  expect(twilio.validateRequest(authToken, hit.signature as string, hit.url, params)).toBe(true);
  // Signed with this account's token and these parameters, not anything else.
  expect(twilio.validateRequest('0'.repeat(32), hit.signature as string, hit.url, params)).toBe(false);
  expect(twilio.validateRequest(authToken, hit.signature as string, hit.url, { ...params, Extra: '1' })).toBe(false);
}

describe('inbound fax to a number in fax mode', () => {
  it('<Receive action method mediaType=image/tiff pageSize storeMedia>: signed webhook, received TIFF fax, documented action call', async () => {
    const number = numbersIn('fax', emu.accountSid)[0] as NumberJson;
    const voiceUrl = app.reply(
      '/fax/incoming',
      twiml('<Receive action="/fax/received" method="POST" mediaType="image/tiff" pageSize="a4" storeMedia="true"/>'),
    );
    app.reply('/fax/received', '');
    await configureNumber(number, { VoiceUrl: voiceUrl, VoiceMethod: 'POST' });

    // Delivered through the control surface, as scripts and the demo do.
    const res = await fetch(`${emu.url}/_emulator/inbound`, {
      method: 'POST',
      body: JSON.stringify({ to: number.phone_number, from: '+14155550100', numPages: 3, remoteStationId: 'CLINIC-FAX-1' }),
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as InboundFaxResult;
    expect(result).toMatchObject({ outcome: 'received', status: 'received', errorCode: null });
    expect(result.faxSid).toMatch(/^FX[0-9a-f]{32}$/);
    const faxSid = result.faxSid as string;

    // The webhook: one form POST, exactly the documented parameters, signed with the number's account token.
    const [hook, ...moreHooks] = app.hitsTo('/fax/incoming');
    expect(moreHooks).toHaveLength(0);
    expect(hook?.method).toBe('POST');
    expect(hook?.contentType).toContain('application/x-www-form-urlencoded');
    const base = { FaxSid: faxSid, AccountSid: emu.accountSid, From: '+14155550100', To: number.phone_number, ApiVersion: 'v1' };
    expect(hook?.params).toEqual(base);
    expectSigned(hook as Hit, emu.authToken, base);

    // The fax exists as Twilio would show it.
    const fax = await fetchFax(faxSid, emu.accountSid);
    expect(schemaProblems(fax, 'fax.v1.fax')).toEqual([]);
    expect(fax).toMatchObject({ status: 'received', direction: 'inbound', from: '+14155550100', to: number.phone_number, num_pages: 3 });
    expect(typeof fax.price).toBe('string');
    expect(fax.media_sid).toMatch(/^ME[0-9a-f]{32}$/);
    expect(await mediaContentType(fax)).toBe('image/tiff');

    // The action URL (relative, resolved against the webhook's) gets the documented parameters.
    const [action, ...moreActions] = app.hitsTo('/fax/received');
    expect(moreActions).toHaveLength(0);
    expect(action?.method).toBe('POST');
    expect(action?.url).toBe(`${app.origin}/fax/received`);
    const params = action?.params as Record<string, string>;
    expect(Object.keys(params).sort()).toEqual(
      ['AccountSid', 'ApiVersion', 'FaxSid', 'FaxStatus', 'From', 'MediaUrl', 'NumPages', 'RemoteStationId', 'To'].sort(),
    );
    expect(params).toMatchObject({ ...base, FaxStatus: 'received', NumPages: '3', RemoteStationId: 'CLINIC-FAX-1' });
    expectSigned(action as Hit, emu.authToken, params);
    expect(result.action).toMatchObject({ method: 'POST', status: 200 });

    // MediaUrl is the pre-signed media: a TIFF with NumPages pages, fetched without credentials.
    expect(params.MediaUrl?.startsWith(emu.mediaUrl)).toBe(true);
    const media = await fetch(params.MediaUrl as string, { headers: UA });
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('image/tiff');
    expect(tiffPageCount(Buffer.from(await media.arrayBuffer()))).toBe(3);
  });

  it('a subaccount number with VoiceMethod=GET and <Receive action method=GET storeMedia=false>: GET calls signed with the subaccount token, no media kept', async () => {
    const sub = emu.emulator.accounts[1]?.sid as string;
    const number = numbersIn('fax', sub)[0] as NumberJson;
    const voiceUrl = app.reply('/sub/incoming', twiml(`<Receive action="${app.origin}/sub/done?clinic=2" method="GET" storeMedia="false"/>`));
    app.reply('/sub/done', '');
    await configureNumber(number, { VoiceUrl: voiceUrl, VoiceMethod: 'GET' });

    const result = await emu.emulator.inboundFax({ to: number.phone_number, numPages: 2 });
    expect(result).toMatchObject({ outcome: 'received', status: 'received' });

    // GET: parameters in the query; the signature covers the full URL alone.
    const [hook] = app.hitsTo('/sub/incoming');
    expect(hook?.method).toBe('GET');
    expect(hook?.params).toMatchObject({ FaxSid: result.faxSid, AccountSid: sub, To: number.phone_number, ApiVersion: 'v1' });
    expectSigned(hook as Hit, tokenOf(sub), {});
    expect(twilio.validateRequest(emu.authToken, hook?.signature as string, hook?.url as string, {})).toBe(false);

    const [action] = app.hitsTo('/sub/done');
    expect(action?.method).toBe('GET');
    expect(action?.params).toMatchObject({ clinic: '2', FaxSid: result.faxSid, AccountSid: sub, FaxStatus: 'received', NumPages: '2' });
    expect(action?.params).not.toHaveProperty('MediaUrl');
    expectSigned(action as Hit, tokenOf(sub), {});

    const fax = await fetchFax(result.faxSid as string, sub);
    expect(fax).toMatchObject({ status: 'received', num_pages: 2, media_sid: null, media_url: null });
    // Owned by the subaccount: the parent's credentials do not see it in the Fax API.
    const asParent = await fetch(`${emu.url}/v1/Faxes/${fax.sid}`, { headers: { Authorization: emu.basicAuth() } });
    expect(asParent.status).toBe(404);
  });

  it('<Receive/> without attributes: the defaults (PDF, media stored), no action call', async () => {
    const number = numbersIn('fax', emu.accountSid)[1] as NumberJson;
    await configureNumber(number, { VoiceUrl: app.reply('/plain/incoming', twiml('<Receive/>')), VoiceMethod: 'POST' });
    const result = await emu.emulator.inboundFax({ to: number.phone_number, numPages: 2 });
    expect(result).toMatchObject({ outcome: 'received', action: null });
    expect(app.hits.map((h) => h.path)).toEqual(['/plain/incoming']);
    const fax = await fetchFax(result.faxSid as string, emu.accountSid);
    expect(await mediaContentType(fax)).toBe('application/pdf');
    const media = await fetch(fax.media_url as string, { headers: UA });
    expect(pdfPageCount(Buffer.from(await media.arrayBuffer()))).toBe(2);
  });

  it('<Reject/>: a canceled fax without media, no action call', async () => {
    const number = numbersIn('fax', emu.accountSid)[0] as NumberJson;
    await configureNumber(number, { VoiceUrl: app.reply('/reject/incoming', twiml('<Reject/>')), VoiceMethod: 'POST' });
    const result = await emu.emulator.inboundFax({ to: number.phone_number });
    expect(result).toMatchObject({ outcome: 'rejected', status: 'canceled', action: null, errorCode: null });
    expect(app.hits.map((h) => h.path)).toEqual(['/reject/incoming']);
    const fax = await fetchFax(result.faxSid as string, emu.accountSid);
    expect(fax).toMatchObject({ status: 'canceled', direction: 'inbound', media_sid: null, media_url: null, price: null });
  });

  const BAD_TWIML: [string, string][] = [
    ['a voice verb', twiml('<Say>Hello</Say>')],
    ['verbs are case sensitive', twiml('<receive/>')],
    ['attribute values are checked', twiml('<Receive mediaType="image/png"/>')],
    ['an empty <Response>', twiml('')],
    ['two verbs', twiml('<Receive/><Reject/>')],
    ['not XML at all', 'OK'],
  ];
  for (const [what, body] of BAD_TWIML) {
    it(`bad TwiML (${what}): the fax fails with 34106`, async () => {
      const number = numbersIn('fax', emu.accountSid)[0] as NumberJson;
      await configureNumber(number, { VoiceUrl: app.reply('/bad/incoming', body), VoiceMethod: 'POST' });
      const result = await emu.emulator.inboundFax({ to: number.phone_number });
      expect(result).toMatchObject({ outcome: 'failed', status: 'failed', errorCode: 34106, action: null });
      expect(app.hits).toHaveLength(1);
      expect((await fetchFax(result.faxSid as string, emu.accountSid)).status).toBe('failed');
    });
  }

  it('a webhook answering 500: the fax fails with 11200 (HTTP retrieval failure)', async () => {
    const number = numbersIn('fax', emu.accountSid)[0] as NumberJson;
    await configureNumber(number, { VoiceUrl: app.reply('/down/incoming', twiml('<Receive/>'), 500), VoiceMethod: 'POST' });
    const result = await emu.emulator.inboundFax({ to: number.phone_number });
    expect(result).toMatchObject({ outcome: 'failed', status: 'failed', errorCode: 11200 });
    expect(result.webhook).toMatchObject({ status: 500 });
  });
});

describe('inbound fax to a number not taking faxes', () => {
  it('a number in voice mode takes no fax: no webhook, no fax created', async () => {
    const number = numbersIn('voice', emu.accountSid)[0] as NumberJson;
    // Even with a reachable app that would accept it.
    await configureNumber(number, { VoiceUrl: app.reply('/voice/incoming', twiml('<Receive/>')), VoiceMethod: 'POST' });
    const before = emu.emulator.faxes().length;
    const result = await emu.emulator.inboundFax({ to: number.phone_number });
    expect(result).toMatchObject({ outcome: 'voice-mode', faxSid: null, webhook: null });
    expect(app.hits).toHaveLength(0);
    expect(emu.emulator.faxes()).toHaveLength(before);
  });

  it('switching a fax number to VoiceReceiveMode=voice silences it (the migration\'s point)', async () => {
    const number = numbersIn('fax', emu.accountSid)[1] as NumberJson;
    await configureNumber(number, { VoiceUrl: app.reply('/switch/incoming', twiml('<Receive/>')), VoiceMethod: 'POST' });
    expect((await emu.emulator.inboundFax({ to: number.phone_number })).outcome).toBe('received');
    expect(app.hits).toHaveLength(1);
    await configureNumber(number, { VoiceReceiveMode: 'voice' });
    const before = emu.emulator.faxes().length;
    expect((await emu.emulator.inboundFax({ to: number.phone_number })).outcome).toBe('voice-mode');
    expect(app.hits).toHaveLength(1);
    expect(emu.emulator.faxes()).toHaveLength(before);
    await configureNumber(number, { VoiceReceiveMode: 'fax' });
  });

  it('a number the emulator does not have: nothing happens', async () => {
    const before = emu.emulator.faxes().length;
    const result = await emu.emulator.inboundFax({ to: '+15005550000' });
    expect(result).toMatchObject({ outcome: 'unknown-number', faxSid: null });
    expect(app.hits).toHaveLength(0);
    expect(emu.emulator.faxes()).toHaveLength(before);
  });
});
