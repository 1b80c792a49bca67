/**
 * The emulator as hard as Twilio was (issue 12 §3-§5): every behaviour can be asked for by a test,
 * the always-true ones are on in the default world, and every record still validates against
 * Twilio's OpenAPI spec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { schemaProblems } from './openapi-schema.js';

const UA = { 'User-Agent': 'fax-sunset-test/1.0' };
type Fax = Record<string, unknown> & { sid: string; status: string; direction: string; media_sid: string | null; media_url: string | null };
const DAY = 86_400;

async function api(emu: TestEmulator, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emu.url}${path}`, { headers: { Authorization: emu.basicAuth() } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listAll(emu: TestEmulator): Promise<Fax[]> {
  const out: Fax[] = [];
  let next: string | null = `${emu.url}/v1/Faxes?PageSize=1000`;
  while (next) {
    const res = await fetch(next, { headers: { Authorization: emu.basicAuth() } });
    const page = (await res.json()) as { faxes: Fax[]; meta: { next_page_url: string | null } };
    out.push(...page.faxes);
    next = page.meta.next_page_url;
  }
  return out;
}

describe('the default world (always-true behaviours on)', () => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({ faxes: 400, accounts: 0, seed: 3 });
  });
  afterAll(() => emu.close());

  it('outbound faxes that ended unsent often carry media; busy has no duration; no price, no price_unit', async () => {
    const faxes = await listAll(emu);
    const unsent = faxes.filter((f) => f.direction === 'outbound' && ['failed', 'busy', 'no-answer'].includes(f.status));
    const withMedia = unsent.filter((f) => f.media_sid !== null);
    expect(unsent.length).toBeGreaterThan(20);
    expect(withMedia.length / unsent.length).toBeGreaterThan(0.35);
    expect(withMedia.length / unsent.length).toBeLessThan(0.95);
    expect(withMedia.length).toBeLessThan(unsent.length);
    for (const f of faxes) {
      if (f.status === 'busy') expect(f.duration).toBeNull();
      expect(f.price_unit).toBe(f.price === null ? null : 'USD');
    }
    // The document of an unsent fax is served whole: more pages than it sent.
    const failed = withMedia.find((f) => f.status === 'failed')!;
    const res = await fetch(failed.media_url!, { headers: UA });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
  });

  it('media URLs have the S3 SigV4 shape of temporary credentials (X-Amz-Security-Token); a few are served as octet-stream', async () => {
    const faxes = (await listAll(emu)).filter((f) => f.media_url !== null);
    const url = new URL(faxes[0]!.media_url!);
    expect([...url.searchParams.keys()].sort()).toEqual(
      ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Security-Token', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].sort(),
    );
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIA[0-9A-Z]{16}\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    const types = new Map<string, number>();
    for (const fax of faxes.slice(0, 80)) {
      const res = await fetch(fax.media_url!, { method: 'HEAD', headers: UA });
      const type = res.headers.get('content-type') ?? '';
      types.set(type, (types.get(type) ?? 0) + 1);
    }
    const inexact = (types.get('application/octet-stream') ?? 0) + (types.get('binary/octet-stream') ?? 0);
    expect(inexact).toBeGreaterThan(0);
    expect(inexact).toBeLessThan(20);
  });

  it("prunes faxes at 180 days as the clock moves: gone from the list, a fetch and the media host", async () => {
    const before = await listAll(emu);
    const oldest = before.reduce((a, b) => (Date.parse(a.date_created as string) < Date.parse(b.date_created as string) ? a : b));
    const ageDays = (Date.parse('2021-12-01T00:00:00Z') - Date.parse(oldest.date_created as string)) / (DAY * 1000);
    const mediaUrl = before.find((f) => f.sid === oldest.sid)!.media_url;
    emu.emulator.advanceClock(Math.ceil((180 - ageDays) * DAY) + 60);
    const after = await listAll(emu);
    expect(after.length).toBeLessThan(before.length);
    expect(after.some((f) => f.sid === oldest.sid)).toBe(false);
    expect((await api(emu, `/v1/Faxes/${oldest.sid}`)).status).toBe(404);
    if (mediaUrl) expect((await fetch(mediaUrl, { headers: UA })).status).toBeGreaterThanOrEqual(400);
    for (const f of after) expect(Date.parse(f.date_created as string)).toBeGreaterThan(Date.parse('2021-12-01T00:00:00Z') + (Math.ceil((180 - ageDays) * DAY) + 60) * 1000 - 180 * DAY * 1000);
  });
});

describe('conditions behind flags', () => {
  it('contradictory records: media_sid without media_url (canceled when outbound), media_url without media_sid; all valid against the spec', async () => {
    const emu = await startTestEmulator({ faxes: 120, accounts: 0, seed: 4, world: { contradictoryMedia: 0.5 } });
    try {
      const faxes = await listAll(emu);
      const sidOnly = faxes.filter((f) => f.media_sid !== null && f.media_url === null);
      const urlOnly = faxes.filter((f) => f.media_sid === null && f.media_url !== null);
      expect(sidOnly.length).toBeGreaterThan(5);
      expect(urlOnly.length).toBeGreaterThan(5);
      expect(sidOnly.some((f) => f.status === 'canceled' && f.direction === 'outbound')).toBe(true);
      // A media_url without a media_sid is a working URL; FaxMedia still lists the media of a sid-only record.
      expect((await fetch(urlOnly[0]!.media_url!, { headers: UA })).status).toBe(200);
      const media = await api(emu, `/v1/Faxes/${sidOnly[0]!.sid}/Media`);
      expect((media.body.media as unknown[]).length).toBe(1);
      for (const f of faxes) expect(schemaProblems(f, 'fax.v1.fax'), f.sid).toEqual([]);
      for (const item of media.body.media as unknown[]) expect(schemaProblems(item, 'fax.v1.fax.fax_media')).toEqual([]);
    } finally {
      await emu.close();
    }
  });

  it('in-progress faxes (queued, processing, sending, receiving) become final as the clock moves', async () => {
    const emu = await startTestEmulator({ faxes: 80, accounts: 0, seed: 6, world: { inProgress: 0.25 } });
    try {
      const pending = (await listAll(emu)).filter((f) => ['queued', 'processing', 'sending', 'receiving'].includes(f.status));
      expect(pending.length).toBeGreaterThan(8);
      expect(new Set(pending.map((f) => f.status)).size).toBeGreaterThanOrEqual(3);
      for (const f of pending) {
        expect(f.media_url).toBeNull();
        expect(f.num_pages).toBeNull();
        expect(f.price_unit).toBeNull();
        expect(schemaProblems(f, 'fax.v1.fax')).toEqual([]);
      }
      emu.emulator.advanceClock(31 * 60);
      const settled = (await listAll(emu)).filter((f) => pending.some((p) => p.sid === f.sid));
      expect(settled).toHaveLength(pending.length);
      for (const f of settled) {
        expect(['queued', 'processing', 'sending', 'receiving']).not.toContain(f.status);
        expect(Date.parse(f.date_updated as string)).toBeGreaterThan(Date.parse(pending.find((p) => p.sid === f.sid)!.date_updated as string));
      }
      expect(settled.some((f) => f.media_url !== null)).toBe(true);
    } finally {
      await emu.close();
    }
  });

  it('a session token that expired before X-Amz-Expires answers 400 ExpiredToken; after X-Amz-Expires, 403 AccessDenied', async () => {
    const emu = await startTestEmulator({ faxes: 20, accounts: 0, seed: 7, mediaTtlSeconds: 3600, mediaTokenTtlSeconds: 600, world: { expiredTokenInListings: 0.5 } });
    try {
      const listed = (await listAll(emu)).filter((f) => f.media_url !== null);
      const answers = await Promise.all(listed.map(async (f) => {
        const res = await fetch(f.media_url!, { headers: UA });
        return { sid: f.sid, status: res.status, body: await res.text() };
      }));
      const expiredToken = answers.filter((a) => a.status === 400);
      expect(expiredToken.length).toBeGreaterThan(0);
      expect(answers.some((a) => a.status === 200)).toBe(true);
      expect(expiredToken[0]!.body).toMatch(/^<\?xml[^]*<Error><Code>ExpiredToken<\/Code><Message>The provided token has expired\.<\/Message>/);
      // A fetch of the fax gives a working URL.
      const fresh = (await api(emu, `/v1/Faxes/${expiredToken[0]!.sid}`)).body as Fax;
      expect((await fetch(fresh.media_url!, { headers: UA })).status).toBe(200);
      // Its token lives 600 s: at 601 s the same URL is ExpiredToken, past 3600 s AccessDenied.
      emu.emulator.advanceClock(601);
      const early = await fetch(fresh.media_url!, { headers: UA });
      expect([early.status, await early.text()]).toEqual([400, expect.stringContaining('<Code>ExpiredToken</Code>')]);
      emu.emulator.advanceClock(3000);
      const late = await fetch(fresh.media_url!, { headers: UA });
      expect([late.status, await late.text()]).toEqual([403, expect.stringContaining('<Code>AccessDenied</Code>')]);
    } finally {
      await emu.close();
    }
  });
});
