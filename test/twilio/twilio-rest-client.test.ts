import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvariantError } from '../../src/errors.js';
import {
  TwilioTransportError,
  createTwilioRestClient,
  isTwilioHost,
  resolveTwilioRequestUrl,
} from '../../src/twilio/twilio-rest-client.js';

const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'token-' + 'b'.repeat(26);

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** A tiny real HTTP server standing in for Twilio: answers the 2010 Accounts list over two pages. */
function startRecorder(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/2010-04-01/Accounts.json') {
      const page = url.searchParams.get('Page') ?? '0';
      const sid = 'AC' + (page === '0' ? 'c' : 'd').repeat(32);
      res.end(
        JSON.stringify({
          accounts: [{ sid, friendly_name: `page ${page}`, status: 'active', owner_account_sid: ACCOUNT }],
          page: Number(page),
          page_size: 1,
          uri: '/2010-04-01/Accounts.json?PageSize=1',
          first_page_uri: '/2010-04-01/Accounts.json?PageSize=1&Page=0',
          // Relative, as the 2010 API sends it: the library makes it absolute against api.twilio.com.
          next_page_uri: page === '0' ? '/2010-04-01/Accounts.json?PageSize=1&Page=1&PageToken=PAx' : null,
          previous_page_uri: null,
        }),
      );
      return;
    }
    res.end(JSON.stringify({ ok: true, path: url.pathname }));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

describe('resolveTwilioRequestUrl', () => {
  it('rewrites any *.twilio.com host to the emulator origin, keeping path and query', () => {
    expect(resolveTwilioRequestUrl('https://fax.twilio.com/v1/Faxes?PageSize=2&PageToken=PA1', 'http://127.0.0.1:9')).toBe(
      'http://127.0.0.1:9/v1/Faxes?PageSize=2&PageToken=PA1',
    );
    expect(resolveTwilioRequestUrl('https://api.twilio.com/2010-04-01/Accounts.json', 'http://127.0.0.1:9/')).toBe(
      'http://127.0.0.1:9/2010-04-01/Accounts.json',
    );
  });
  it('passes the emulator origin itself through', () => {
    expect(resolveTwilioRequestUrl('http://127.0.0.1:9/v1/Faxes?PageToken=x', 'http://127.0.0.1:9')).toBe(
      'http://127.0.0.1:9/v1/Faxes?PageToken=x',
    );
  });
  it('refuses hosts that are neither Twilio nor the emulator', () => {
    expect(() => resolveTwilioRequestUrl('https://evil-twilio.com/v1/Faxes', 'http://127.0.0.1:9')).toThrow(InvariantError);
    expect(() => resolveTwilioRequestUrl('http://127.0.0.1:10/v1/Faxes', 'http://127.0.0.1:9')).toThrow(InvariantError);
    expect(() => resolveTwilioRequestUrl('https://example.com/v1/Faxes')).toThrow(/example\.com/);
    // Without an emulator, Twilio itself only over https.
    expect(() => resolveTwilioRequestUrl('http://fax.twilio.com/v1/Faxes')).toThrow(InvariantError);
    expect(resolveTwilioRequestUrl('https://fax.twilio.com/v1/Faxes')).toBe('https://fax.twilio.com/v1/Faxes');
  });
  it('knows Twilio hosts by suffix, not substring', () => {
    expect(isTwilioHost('api.twilio.com')).toBe(true);
    expect(isTwilioHost('FAX.TWILIO.COM')).toBe(true);
    expect(isTwilioHost('twilio.com.evil.net')).toBe(false);
    expect(isTwilioHost('nottwilio.com')).toBe(false);
  });
});

describe('createTwilioRestClient against a real HTTP server', () => {
  let server: Awaited<ReturnType<typeof startRecorder>>;
  beforeAll(async () => {
    server = await startRecorder();
  });
  afterAll(async () => {
    await server.close();
  });

  it('sends client.request for fax.twilio.com to the emulator with Basic auth', async () => {
    const client = createTwilioRestClient({ username: ACCOUNT, password: TOKEN, accountSid: ACCOUNT, baseUrl: server.url });
    const response = await client.request({ method: 'get', uri: 'https://fax.twilio.com/v1/Faxes', params: { PageSize: 3 } });
    expect(response.statusCode).toBe(200);
    const last = server.seen.at(-1);
    expect(last?.url).toBe('/v1/Faxes?PageSize=3');
    expect(last?.authorization).toBe('Basic ' + Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64'));
  });

  it('rewrites the 2010 API relative next_page_uri on every page', async () => {
    const client = createTwilioRestClient({ username: ACCOUNT, password: TOKEN, accountSid: ACCOUNT, baseUrl: server.url });
    const before = server.seen.length;
    const accounts = await client.api.v2010.accounts.list({ pageSize: 1 });
    expect(accounts.map((a) => a.friendlyName)).toEqual(['page 0', 'page 1']);
    const paths = server.seen.slice(before).map((s) => s.url);
    expect(paths).toHaveLength(2);
    expect(paths[1]).toContain('PageToken=PAx');
  });

  it('refuses, before any byte is sent, a request to a foreign host', async () => {
    const client = createTwilioRestClient({ username: ACCOUNT, password: TOKEN, accountSid: ACCOUNT, baseUrl: server.url });
    const before = server.seen.length;
    await expect(client.request({ method: 'get', uri: 'https://example.com/steal' })).rejects.toBeInstanceOf(InvariantError);
    expect(server.seen.length).toBe(before);
  });

  it('turns a refused connection into a TwilioTransportError naming the host, not the credentials', async () => {
    const probe = http.createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
    await new Promise<void>((done) => probe.close(() => done()));
    const client = createTwilioRestClient({ username: ACCOUNT, password: TOKEN, accountSid: ACCOUNT, baseUrl: `http://127.0.0.1:${port}` });
    const error = await client.request({ method: 'get', uri: 'https://fax.twilio.com/v1/Faxes' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwilioTransportError);
    expect((error as TwilioTransportError).code).toBe('ECONNREFUSED');
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect(JSON.stringify(error) + String(error)).not.toContain(TOKEN);
    expect(JSON.stringify(error) + String(error)).not.toContain(Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64'));
  });
});
