/**
 * What the gateway does with answers the emulator never gives: a page that is not Twilio's
 * envelope, and paging that loops. A tiny real HTTP server plays Twilio here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalServiceError } from '../../src/errors.js';
import { createRequestLimiter } from '../../src/limits/request-limiter.js';
import { createConcurrencyCap } from '../../src/limits/concurrency-cap.js';
import { HelperLibraryTwilioGateway } from '../../src/twilio/helper-library-twilio-gateway.js';

const AC = 'AC' + '1'.repeat(32);
const TOKEN = 'tok' + '9'.repeat(29);

describe('gateway against a misbehaving Twilio', () => {
  const hits = new Map<string, number>();
  /** What the server answers to every request; set by each test. */
  let mode: 'garbage' | 'loop' = 'garbage';
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      hits.set(mode, (hits.get(mode) ?? 0) + 1);
      res.setHeader('content-type', 'application/json');
      if (mode === 'loop') {
        // Page 1 points at page 2, page 2 points back at page 1.
        const next = url.searchParams.get('PageToken') === 'PT2' ? `${base}/v1/Faxes?PageToken=PT1` : `${base}/v1/Faxes?PageToken=PT2`;
        res.end(JSON.stringify({ faxes: [], meta: { key: 'faxes', next_page_url: next } }));
        return;
      }
      res.end('{"faxes": [oops');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  function gateway() {
    return new HelperLibraryTwilioGateway({
      credentials: { accountSid: AC, username: AC, password: TOKEN },
      baseUrl: base,
      limiter: createRequestLimiter({ ratePerSecond: Infinity, concurrency: 2, policy: { maxAttempts: 3, baseMs: 1, capMs: 2 } }),
      mediaCap: createConcurrencyCap(1),
    });
  }

  it('retries a malformed page, then fails with a non-retryable ExternalServiceError saying so', async () => {
    mode = 'garbage';
    const pages = gateway().listFaxPages({ pageSize: 5 });
    const error = await (async () => {
      for await (const page of pages) void page;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalServiceError);
    expect((error as ExternalServiceError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/malformed response to GET \/v1\/Faxes/);
    expect((error as Error).message).not.toContain(TOKEN);
    expect(hits.get('garbage')).toBe(3);
  });

  it('stops a next_page_url that loops instead of paging forever', async () => {
    mode = 'loop';
    const error = await (async () => {
      for await (const page of gateway().listFaxPages({ pageSize: 5 })) void page;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalServiceError);
    expect((error as Error).message).toMatch(/loops/);
    expect(hits.get('loop')).toBe(3);
  });
});
