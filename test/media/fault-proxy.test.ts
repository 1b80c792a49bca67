import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A tiny echo server: records each request and answers with a checksum of what it received. */
let echo: http.Server;
let echoUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  echo = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex'), length: body.length });
      res.writeHead(200, { 'content-type': 'application/json', etag: '"abc123"', 'x-amz-request-id': 'ECHO1', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});

afterAll(async () => {
  echo.closeAllConnections();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  received.length = 0;
});

async function proxy(seed?: number): Promise<FaultProxy> {
  const p = await startFaultProxy({ target: echoUrl, ...(seed === undefined ? {} : { seed }) });
  proxies.push(p);
  return p;
}

interface Sent {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer;
  /** Send the body in pieces without Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

function send(baseUrl: string, sent: Sent): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(sent.path ?? '/', baseUrl);
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { ...sent.headers };
    if (sent.body && !sent.chunked) headers['content-length'] = sent.body.length;
    const req = http.request(url, { method: sent.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (sent.body && sent.chunked) {
      for (let i = 0; i < sent.body.length; i += 10_000) req.write(sent.body.subarray(i, i + 10_000));
      req.end();
    } else {
      req.end(sent.body);
    }
  });
}

function differingBytes(a: Buffer, b: Buffer): number[] {
  expect(b.length).toBe(a.length);
  const positions: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) positions.push(i);
  return positions;
}

describe('fault proxy without faults', () => {
  it('forwards method, path, query, headers and the original Host, and answers with the target response', async () => {
    const p = await proxy();
    const host = new URL(p.url).host;
    const response = await send(p.url, {
      path: '/bucket/AC1/2021/06/FX1.pdf?x-id=GetObject&partNumber=1',
      headers: { 'x-amz-date': '20210630T200000Z', authorization: 'AWS4-HMAC-SHA256 Credential=test' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"abc123"');
    expect(response.headers['x-amz-request-id']).toBe('ECHO1');
    expect(JSON.parse(response.body.toString()).length).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/bucket/AC1/2021/06/FX1.pdf?x-id=GetObject&partNumber=1');
    expect(received[0]!.headers.host).toBe(host);
    expect(received[0]!.headers['x-amz-date']).toBe('20210630T200000Z');
    expect(received[0]!.headers.authorization).toBe('AWS4-HMAC-SHA256 Credential=test');
    expect(p.stats()).toEqual({ requests: 1, injected: { '500': 0, '503': 0, reset: 0, flip: 0 } });
  });

  it('streams a PUT body through intact, with and without Content-Length', async () => {
    const p = await proxy();
    const body = randomBytes(300_000);
    const plain = await send(p.url, { method: 'PUT', path: '/b/k', body });
    const chunked = await send(p.url, { method: 'PUT', path: '/b/k2', body, chunked: true });
    const sha = createHash('sha256').update(body).digest('hex');
    expect(JSON.parse(plain.body.toString()).sha256).toBe(sha);
    expect(JSON.parse(chunked.body.toString()).sha256).toBe(sha);
    expect(received.map((r) => r.body.length)).toEqual([300_000, 300_000]);
  });

  it('answers 502 when the target is down', async () => {
    const down = http.createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const p = await startFaultProxy({ target: `http://127.0.0.1:${port}` });
    proxies.push(p);
    const response = await send(p.url, { path: '/b/k' });
    expect(response.status).toBe(502);
  });
});

describe('injected faults', () => {
  for (const [kind, code] of [['500', 'InternalError'], ['503', 'SlowDown']] as const) {
    it(`'${kind}' answers an S3 XML error without forwarding`, async () => {
      const p = await proxy();
      p.setFaults({ rate: 1, kinds: [kind] });
      const response = await send(p.url, { method: 'PUT', path: '/b/k', body: randomBytes(50_000) });
      expect(response.status).toBe(Number(kind));
      expect(response.headers['content-type']).toBe('application/xml');
      expect(response.body.toString()).toContain(`<Code>${code}</Code>`);
      expect(received).toHaveLength(0);
      expect(p.stats().injected[kind]).toBe(1);
    });
  }

  it("'reset' drops the connection without forwarding", async () => {
    const p = await proxy();
    p.setFaults({ rate: 1, kinds: ['reset'] });
    await expect(send(p.url, { path: '/b/k' })).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    expect(received).toHaveLength(0);
    expect(p.stats()).toMatchObject({ requests: 1, injected: { reset: 1 } });
  });

  it("'flip' forwards a PUT with exactly one byte of its body changed", async () => {
    const p = await proxy(7);
    p.setFaults({ rate: 1, kinds: ['flip'] });
    const body = randomBytes(200_000);
    const response = await send(p.url, { method: 'PUT', path: '/b/k', body });
    expect(response.status).toBe(200);
    expect(differingBytes(body, received[0]!.body)).toHaveLength(1);
    const chunkedBody = randomBytes(50_000);
    await send(p.url, { method: 'PUT', path: '/b/k', body: chunkedBody, chunked: true });
    expect(differingBytes(chunkedBody, received[1]!.body)).toHaveLength(1);
    expect(p.stats().injected.flip).toBe(2);
  });

  it("'flip' leaves requests without a PUT body alone", async () => {
    const p = await proxy();
    p.setFaults({ rate: 1, kinds: ['flip'] });
    const body = randomBytes(1000);
    await send(p.url, { method: 'POST', path: '/b/k?uploads', body });
    await send(p.url, { method: 'GET', path: '/b/k' });
    await send(p.url, { method: 'PUT', path: '/b/empty', body: Buffer.alloc(0) });
    expect(received).toHaveLength(3);
    expect(received[0]!.body.equals(body)).toBe(true);
    expect(p.stats().injected.flip).toBe(0);
  });

  it('only faults the methods it is told to', async () => {
    const p = await proxy();
    p.setFaults({ rate: 1, kinds: ['503'], methods: ['put'] });
    expect((await send(p.url, { method: 'GET', path: '/b/k' })).status).toBe(200);
    expect((await send(p.url, { method: 'HEAD', path: '/b/k' })).status).toBe(200);
    expect((await send(p.url, { method: 'PUT', path: '/b/k', body: Buffer.from('x') })).status).toBe(503);
    expect(p.stats()).toEqual({ requests: 3, injected: { '500': 0, '503': 1, reset: 0, flip: 0 } });
  });

  it('injects at roughly the asked rate, reproducibly from the seed, and can be switched off', async () => {
    async function pattern(seed: number): Promise<number[]> {
      const p = await proxy(seed);
      p.setFaults({ rate: 0.5, kinds: ['500', '503'] });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await send(p.url, { path: `/b/${i}` })).status);
      const stats = p.stats();
      expect(stats.requests).toBe(40);
      expect(stats.injected['500']! + stats.injected['503']!).toBe(statuses.filter((s) => s !== 200).length);
      p.setFaults({ rate: 0, kinds: ['500'] });
      expect((await send(p.url, { path: '/b/after' })).status).toBe(200);
      return statuses;
    }
    const first = await pattern(11);
    const faulted = first.filter((s) => s !== 200).length;
    expect(faulted).toBeGreaterThan(5);
    expect(faulted).toBeLessThan(35);
    expect(first).toContain(500);
    expect(first).toContain(503);
    expect(await pattern(11)).toEqual(first);
  });

  it('refuses a rate outside 0..1', async () => {
    const p = await proxy();
    expect(() => p.setFaults({ rate: 1.5, kinds: ['500'] })).toThrow(RangeError);
  });
});
