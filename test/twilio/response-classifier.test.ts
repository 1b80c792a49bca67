/**
 * Issue 14 §5: one classifier of Twilio's responses. The media download retried every status from
 * 500 up and the numbers adapter marked them all retryable, while the API gateway excluded 501:
 * 501 Not Implemented says the server cannot do this at all, so it is never retried anywhere (the
 * S3 store's error mapping asks the same function).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalServiceError, isRetryable } from '../../src/errors.js';
import { createConcurrencyCap } from '../../src/limits/concurrency-cap.js';
import { defaultRetryPolicy, isRetryableStatus, shouldRetry } from '../../src/limits/retry-policy.js';
import { mapS3Error } from '../../src/store/s3-error.js';
import { toTypedError } from '../../src/twilio/helper-library-number-directory.js';
import { createMediaAgents, openPresignedMedia } from '../../src/twilio/presigned-media-download.js';

describe('isRetryableStatus', () => {
  it('retries 429 and 5xx except 501; nothing else', () => {
    for (const status of [429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(status), String(status)).toBe(true);
    for (const status of [200, 301, 400, 401, 403, 404, 409, 501, 600]) expect(isRetryableStatus(status), String(status)).toBe(false);
    expect(shouldRetry({ kind: 'http', status: 501 })).toBe(false);
    expect(shouldRetry({ kind: 'http', status: 503 })).toBe(true);
  });

  it('the S3 store maps an answer the same way', () => {
    const where = { operation: 'upload', where: 's3://bucket/key.pdf' };
    const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(mapS3Error(sdkError('NotImplemented', 501), where).retryable).toBe(false);
    expect(mapS3Error(sdkError('InternalError', 500), where).retryable).toBe(true);
    expect(mapS3Error(sdkError('BadGateway', 502), where).retryable).toBe(true);
  });

  it('the numbers adapter reads a library error the same way', () => {
    expect(isRetryable(toTypedError(Object.assign(new Error('Not Implemented'), { status: 501 })))).toBe(false);
    expect(isRetryable(toTypedError(Object.assign(new Error('Service Unavailable'), { status: 503 })))).toBe(true);
    expect(isRetryable(toTypedError(Object.assign(new Error('Too Many Requests'), { status: 429 })))).toBe(true);
  });
});

describe('the media download over real HTTP', () => {
  const hits = new Map<string, number>();
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      res.writeHead(path === '/not-implemented' ? 501 : 502, { 'retry-after': '0' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const options = {
    userAgent: 'fax-sunset/test',
    cap: createConcurrencyCap(2),
    policy: { ...defaultRetryPolicy, maxAttempts: 3, baseMs: 1, capMs: 2 },
    random: () => 0.5,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    now: Date.now,
    timeoutMs: 5000,
    agents: createMediaAgents(2),
  };

  it('asks once on 501 and fails as not retryable; a 502 is asked again', async () => {
    const notImplemented = await openPresignedMedia(`${base}/not-implemented`, options).catch((e: unknown) => e);
    expect(notImplemented).toBeInstanceOf(ExternalServiceError);
    expect((notImplemented as ExternalServiceError).retryable).toBe(false);
    expect(hits.get('/not-implemented')).toBe(1);

    const badGateway = await openPresignedMedia(`${base}/bad-gateway`, options).catch((e: unknown) => e);
    expect(badGateway).toBeInstanceOf(ExternalServiceError);
    expect(hits.get('/bad-gateway')).toBe(3);
  });
});
