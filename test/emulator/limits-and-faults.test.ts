/**
 * The emulator's limits (--concurrency-limit, --rps, --latency-ms) and every fault kind, each
 * against its own small in-process emulator. Faults are drawn with faultRate 1 over a single kind
 * so each test meets exactly the fault it names; reproducibility is shown with a mixed rate.
 * No timing assertions beyond "took at least the configured delay".
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { EmulatorOptions, EmulatorStatsSnapshot, FaultKind } from '../../src/emulator/index.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

const UA = { 'User-Agent': 'fax-sunset-test/1.0' };

interface FaxJson {
  sid: string;
  media_url: string | null;
  account_sid: string;
}

async function withEmulator(options: EmulatorOptions, run: (emu: TestEmulator) => Promise<void>): Promise<void> {
  const emu = await startTestEmulator({ faxes: 12, numbers: 2, accounts: 0, seed: 21, ...options });
  try {
    await run(emu);
  } finally {
    await emu.close();
  }
}

/** Counters as the control surface reports them (not the in-process accessor): what tests and benchmarks read. */
async function controlStats(emu: TestEmulator): Promise<EmulatorStatsSnapshot> {
  const res = await fetch(`${emu.url}/_emulator/stats`);
  expect(res.status).toBe(200);
  return (await res.json()) as EmulatorStatsSnapshot;
}

function listFaxes(emu: TestEmulator): Promise<Response> {
  return fetch(`${emu.url}/v1/Faxes?PageSize=2`, { headers: { Authorization: emu.basicAuth() } });
}

/** A fax of the main account that has media (the world is deterministic for a seed). */
function faxWithMedia(emu: TestEmulator, index = 0): FaxJson {
  const faxes = (emu.emulator.faxes(emu.accountSid) as unknown as FaxJson[]).filter((f) => f.media_url !== null);
  const fax = faxes[index];
  if (!fax) throw new Error('no fax with media in the generated world');
  return fax;
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Twilio's error body: exactly code, message, more_info, status. */
function expectTwilioError(body: Record<string, unknown>, status: number, code: number): void {
  expect(Object.keys(body).sort()).toEqual(['code', 'message', 'more_info', 'status']);
  expect(body).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
}

/** A raw GET (node:http, so a short body is observable rather than an exception): bytes received vs Content-Length. */
function rawGet(url: string): Promise<{ status: number; contentLength: number; received: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: UA, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A body cut short ends in 'aborted'/'error' on the response, then 'close'; a whole one in 'end', then 'close'.
      res.on('error', () => undefined);
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentLength: Number(res.headers['content-length']),
          received: Buffer.concat(chunks),
          complete: res.complete,
        }),
      );
    });
    req.on('error', reject);
  });
}

/**
 * What a client observes for one request: the status (and, with `hashBody`, the body's length and
 * hash), 'reset' (no answer) or 'cut' (body short of its Content-Length).
 */
async function observe(url: string, headers: Record<string, string>, hashBody: boolean): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { headers });
  } catch {
    return 'reset';
  }
  try {
    const body = Buffer.from(await res.arrayBuffer());
    return hashBody ? `${res.status}:${body.length}:${sha256(body).slice(0, 12)}` : `${res.status}:`;
  } catch {
    return `${res.status}:cut`;
  }
}

describe('limits', () => {
  it('--concurrency-limit: requests beyond N in flight answer 429 / 20429 with Twilio-Concurrent-Requests', async () => {
    // The latency holds the admitted requests in flight while the rest arrive.
    await withEmulator({ concurrencyLimit: 2, latencyMs: 1000 }, async (emu) => {
      const responses = await Promise.all(Array.from({ length: 6 }, () => listFaxes(emu)));
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as Record<string, unknown>[];
      const ok = responses.filter((r) => r.status === 200);
      const refused = responses.map((r, i) => ({ r, body: bodies[i] as Record<string, unknown> })).filter(({ r }) => r.status === 429);
      expect(ok).toHaveLength(2);
      expect(refused).toHaveLength(4);
      for (const { r, body } of refused) {
        expectTwilioError(body, 429, 20429);
        expect(Number(r.headers.get('twilio-concurrent-requests'))).toBeGreaterThan(2);
        expect(r.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
      }
      const stats = await controlStats(emu);
      expect(stats.throttled).toBe(4);
      expect(stats.peakInFlight).toBe(2);
      expect(stats.requests['GET /v1/Faxes']).toBe(6);

      // Once the admitted ones answered, the slots are free again.
      expect((await listFaxes(emu)).status).toBe(200);
      expect((await controlStats(emu)).throttled).toBe(4);
    });
  });

  it('--rps: a burst beyond the rate gets 429s; after a pause requests pass again', async () => {
    await withEmulator({ rps: 2 }, async (emu) => {
      const responses = await Promise.all(Array.from({ length: 12 }, () => listFaxes(emu)));
      await Promise.all(responses.map((r) => r.arrayBuffer()));
      const ok = responses.filter((r) => r.status === 200).length;
      const refused = responses.filter((r) => r.status === 429);
      // The bucket holds one second's worth (2): the burst's head passes, most of the rest is refused.
      expect(ok).toBeGreaterThanOrEqual(2);
      expect(refused.length).toBeGreaterThanOrEqual(6);
      expect(ok + refused.length).toBe(12);
      expect((await controlStats(emu)).throttled).toBe(refused.length);

      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await listFaxes(emu)).status).toBe(200);
    });
  });

  it('--rps unset and no concurrency limit: the same burst is never refused', async () => {
    await withEmulator({}, async (emu) => {
      const responses = await Promise.all(Array.from({ length: 12 }, () => listFaxes(emu)));
      await Promise.all(responses.map((r) => r.arrayBuffer()));
      expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect((await controlStats(emu)).throttled).toBe(0);
    });
  });

  it('--latency-ms: every API answer takes at least the latency, and still answers correctly', async () => {
    await withEmulator({ latencyMs: 250 }, async (emu) => {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const res = await listFaxes(emu);
        const body = (await res.json()) as { faxes: unknown[] };
        expect(performance.now() - started).toBeGreaterThanOrEqual(245);
        expect(res.status).toBe(200);
        expect(body.faxes).toHaveLength(2);
      }
    });
  });
});

describe('faults (faultRate 1 over one kind)', () => {
  const only = (kind: FaultKind, extra: EmulatorOptions = {}): EmulatorOptions => ({ faultRate: 1, faultKinds: [kind], ...extra });

  for (const [kind, code, mediaCode] of [['500', 20500, 'InternalError'], ['503', 20503, 'SlowDown']] as const) {
    it(`'${kind}': the API answers ${kind} in Twilio's error JSON; the media host answers ${kind} in S3's XML`, async () => {
      await withEmulator(only(kind), async (emu) => {
        const res = await listFaxes(emu);
        expect(res.status).toBe(Number(kind));
        expectTwilioError((await res.json()) as Record<string, unknown>, Number(kind), code);
        const media = await fetch(faxWithMedia(emu).media_url as string, { headers: UA });
        expect(media.status).toBe(Number(kind));
        expect(await media.text()).toContain(`<Code>${mediaCode}</Code>`);
        const stats = await controlStats(emu);
        expect(stats.faults[kind]).toBe(2);
        expect(stats.requests['GET /v1/Faxes']).toBe(1);
      });
    });
  }

  it("'reset': the connection is destroyed without an answer (fetch rejects), on the API and the media host", async () => {
    await withEmulator(only('reset'), async (emu) => {
      await expect(listFaxes(emu)).rejects.toThrow();
      await expect(fetch(faxWithMedia(emu).media_url as string, { headers: UA })).rejects.toThrow();
      const stats = await controlStats(emu);
      expect(stats.faults.reset).toBe(2);
      expect(stats.mediaBytesServed).toBe(0);
    });
  });

  it("'reset' on a DELETE: the write happens but its answer is lost (the client must reconcile)", async () => {
    await withEmulator(only('reset'), async (emu) => {
      const fax = faxWithMedia(emu);
      await expect(
        fetch(`${emu.url}/v1/Faxes/${fax.sid}`, { method: 'DELETE', headers: { Authorization: emu.basicAuth() } }),
      ).rejects.toThrow();
      expect(emu.emulator.faxes().some((f) => f.sid === fax.sid)).toBe(false);
    });
  });

  it("'truncate': the media body stops short of its Content-Length; API answers are untouched", async () => {
    await withEmulator(only('truncate'), async (emu) => {
      expect((await listFaxes(emu)).status).toBe(200);
      const fax = faxWithMedia(emu);
      const raw = await rawGet(fax.media_url as string);
      expect(raw.status).toBe(200);
      expect(raw.contentLength).toBeGreaterThan(0);
      expect(raw.received.length).toBeLessThan(raw.contentLength);
      expect(raw.complete).toBe(false);
      // The same through fetch: reading the body fails rather than yielding a short buffer.
      const res = await fetch(fax.media_url as string, { headers: UA });
      await expect(res.arrayBuffer()).rejects.toThrow();
      const stats = await controlStats(emu);
      expect(stats.faults.truncate).toBe(2);
      expect(stats.mediaBytesServed).toBeLessThan(2 * raw.contentLength);
    });
  });

  it("'corrupt': the media body has its full length but other bytes than the clean media", async () => {
    const clean = await startTestEmulator({ faxes: 12, numbers: 2, accounts: 0, seed: 21 });
    try {
      await withEmulator(only('corrupt'), async (emu) => {
        const fax = faxWithMedia(emu);
        const cleanFax = faxWithMedia(clean);
        expect(cleanFax.sid).toBe(fax.sid); // same seed, same world
        const good = Buffer.from(await (await fetch(cleanFax.media_url as string, { headers: UA })).arrayBuffer());
        const res = await fetch(fax.media_url as string, { headers: UA });
        expect(res.status).toBe(200);
        const bad = Buffer.from(await res.arrayBuffer());
        expect(Number(res.headers.get('content-length'))).toBe(good.length);
        expect(bad.length).toBe(good.length);
        expect(bad.equals(good)).toBe(false);
        // Like S3, the ETag is the MD5 of the stored (clean) bytes: the corruption is detectable.
        const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
        expect(res.headers.get('etag')).toBe(`"${md5(good)}"`);
        expect(md5(bad)).not.toBe(md5(good));
        expect((await controlStats(emu)).faults.corrupt).toBe(1);
      });
    } finally {
      await clean.close();
    }
  });

  it("'slow': API and media answers stall at least slowMs, then answer in full", async () => {
    await withEmulator(only('slow', { slowMs: 300 }), async (emu) => {
      let started = performance.now();
      const res = await listFaxes(emu);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { faxes: unknown[] }).faxes).toHaveLength(2);
      expect(performance.now() - started).toBeGreaterThanOrEqual(295);

      started = performance.now();
      const media = await fetch(faxWithMedia(emu).media_url as string, { headers: UA });
      const body = Buffer.from(await media.arrayBuffer());
      expect(performance.now() - started).toBeGreaterThanOrEqual(295);
      expect(media.status).toBe(200);
      expect(body.length).toBe(Number(media.headers.get('content-length')));
      expect((await controlStats(emu)).faults.slow).toBe(2);
    });
  });

  it('with no kind applicable to the API (truncate/corrupt only), API answers are never faulted', async () => {
    await withEmulator({ faultRate: 1, faultKinds: ['truncate', 'corrupt'] }, async (emu) => {
      for (let i = 0; i < 5; i++) expect((await listFaxes(emu)).status).toBe(200);
      const stats = await controlStats(emu);
      expect(stats.faults.truncate + stats.faults.corrupt).toBe(0);
    });
  });
});

describe('fault reproducibility', () => {
  /** The same sequence of API and media requests, as a client observes it. */
  async function sequence(seed: number): Promise<{ seen: string[]; faults: EmulatorStatsSnapshot['faults'] }> {
    const seen: string[] = [];
    let faults: EmulatorStatsSnapshot['faults'] | undefined;
    const kinds: FaultKind[] = ['500', '503', 'reset', 'truncate', 'corrupt'];
    await withEmulator({ seed, faultRate: 0.5, faultKinds: kinds }, async (emu) => {
      const sids = (emu.emulator.faxes(emu.accountSid) as unknown as FaxJson[]).map((f) => f.sid);
      const media = [faxWithMedia(emu, 0), faxWithMedia(emu, 1)];
      for (let i = 0; i < 24; i++) {
        // Fax JSON embeds the origin (a free port) and a signed URL dated by the moving clock: compare statuses only.
        seen.push(`api ${await observe(`${emu.url}/v1/Faxes/${sids[i % 3]}`, { Authorization: emu.basicAuth() }, false)}`);
        // Media bytes follow from the seed alone: a corrupted body shows as another hash.
        seen.push(`media ${await observe((media[i % 2] as FaxJson).media_url as string, UA, true)}`);
      }
      faults = (await controlStats(emu)).faults;
    });
    return { seen, faults: faults as EmulatorStatsSnapshot['faults'] };
  }

  it('the same seed meets the same faults in the same order; another seed meets others', async () => {
    const first = await sequence(31);
    const again = await sequence(31);
    const other = await sequence(32);
    expect(again.seen).toEqual(first.seen);
    expect(again.faults).toEqual(first.faults);
    expect(other.seen).not.toEqual(first.seen);
    // The mix really contains faults and clean answers, and the control surface counted what was seen.
    expect(first.seen.some((s) => s.startsWith('api 200:'))).toBe(true);
    expect(first.seen.some((s) => s === 'api reset' || s === 'media reset')).toBe(first.faults.reset > 0);
    const faulted = first.faults['500'] + first.faults['503'] + first.faults.reset + first.faults.truncate + first.faults.corrupt;
    expect(faulted).toBeGreaterThan(5);
    expect(first.seen.filter((s) => s.startsWith('media 200:') && s.endsWith(':cut')).length).toBe(first.faults.truncate);
    expect(first.seen.filter((s) => / (500|503):/.test(s)).length).toBe(first.faults['500'] + first.faults['503']);
  });
});
