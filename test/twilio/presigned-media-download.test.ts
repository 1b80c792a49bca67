import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalServiceError, MediaUrlExpiredError } from '../../src/errors.js';
import { createConcurrencyCap } from '../../src/limits/concurrency-cap.js';
import { defaultRetryPolicy } from '../../src/limits/retry-policy.js';
import { createMediaAgents, openPresignedMedia, type PresignedMediaOptions } from '../../src/twilio/presigned-media-download.js';

const BODY = Buffer.from('%PDF-1.4\n' + 'x'.repeat(5000));

/** A real media host: each path scripts what happens; it records the headers it was sent. */
async function startMediaHost() {
  const seen: http.IncomingHttpHeaders[] = [];
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/expired') return void res.writeHead(403).end('expired');
    if (path === '/missing') return void res.writeHead(404).end();
    if (path === '/flaky' && n < 3) return void res.writeHead(n === 1 ? 503 : 500, { 'retry-after': '0' }).end();
    if (path === '/reset' && n === 1) return void req.socket.destroy();
    if (path === '/always-500') return void res.writeHead(500).end();
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(BODY.length) });
    res.end(BODY);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('openPresignedMedia over real HTTP', () => {
  let host: Awaited<ReturnType<typeof startMediaHost>>;
  const cap = createConcurrencyCap(2);
  const options: PresignedMediaOptions = {
    userAgent: 'fax-sunset/test',
    cap,
    policy: { ...defaultRetryPolicy, maxAttempts: 4, baseMs: 1, capMs: 5 },
    random: () => 0.5,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: Date.now,
    timeoutMs: 5000,
    agents: createMediaAgents(2),
  };
  beforeAll(async () => {
    host = await startMediaHost();
  });
  afterAll(async () => {
    await host.close();
  });

  it('streams the body with a User-Agent and no Authorization, and frees the cap slot when read', async () => {
    const download = await openPresignedMedia(`${host.base}/ok?X-Amz-Signature=abc`, options);
    expect(download.httpStatus).toBe(200);
    expect(download.contentType).toBe('application/pdf');
    expect(download.contentLength).toBe(BODY.length);
    expect(cap.active).toBe(1);
    expect((await readAll(download.body)).equals(BODY)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(cap.active).toBe(0);
    const headers = host.seen.at(-1)!;
    expect(headers['user-agent']).toBe('fax-sunset/test');
    expect(headers.authorization).toBeUndefined();
  });

  it('403 means expired: MediaUrlExpiredError, not retried, and the message hides the signature', async () => {
    const error = await openPresignedMedia(`${host.base}/expired?X-Amz-Signature=SECRETSIG`, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaUrlExpiredError);
    expect(String(error)).not.toContain('SECRETSIG');
    expect(host.hits.get('/expired')).toBe(1);
    expect(cap.active).toBe(0);
  });

  it('retries 5xx and a connection reset before the body starts', async () => {
    const flaky = await openPresignedMedia(`${host.base}/flaky`, options);
    expect((await readAll(flaky.body)).length).toBe(BODY.length);
    expect(host.hits.get('/flaky')).toBe(3);
    const reset = await openPresignedMedia(`${host.base}/reset`, options);
    expect((await readAll(reset.body)).length).toBe(BODY.length);
    expect(host.hits.get('/reset')).toBe(2);
  });

  it('gives up with ExternalServiceError after the policy attempts, and on 404 at once', async () => {
    const error = await openPresignedMedia(`${host.base}/always-500`, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalServiceError);
    expect((error as ExternalServiceError).status).toBe(500);
    expect(host.hits.get('/always-500')).toBe(4);
    const missing = await openPresignedMedia(`${host.base}/missing`, options).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ExternalServiceError);
    expect((missing as ExternalServiceError).retryable).toBe(false);
    expect(cap.active).toBe(0);
  });

  it('refuses URLs with userinfo or a strange scheme without sending anything', async () => {
    const before = host.seen.length;
    await expect(openPresignedMedia(`http://user:pw@127.0.0.1:1/x`, options)).rejects.toBeInstanceOf(ExternalServiceError);
    await expect(openPresignedMedia(`file:///etc/passwd`, options)).rejects.toBeInstanceOf(ExternalServiceError);
    expect(host.seen.length).toBe(before);
  });
});
