import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { schemaProblems } from './openapi-schema.js';

let emu: TestEmulator;

interface FaxJson {
  sid: string;
  account_sid: string;
  date_created: string;
  media_sid: string | null;
  media_url: string | null;
  status: string;
  from: string;
  to: string;
  [k: string]: unknown;
}
interface ListJson {
  faxes: FaxJson[];
  meta: { page: number; page_size: number; first_page_url: string; previous_page_url: string | null; url: string; next_page_url: string | null; key: string };
}

async function api(path: string, init: RequestInit & { auth?: string } = {}): Promise<Response> {
  const url = path.startsWith('http') ? path : emu.url + path;
  return fetch(url, { ...init, headers: { Authorization: init.auth ?? emu.basicAuth(), ...(init.headers as Record<string, string>) } });
}

async function listAll(first: string, auth?: string, between?: (page: ListJson) => Promise<void>): Promise<FaxJson[]> {
  const seen: FaxJson[] = [];
  let next: string | null = first;
  while (next) {
    const res: Response = await api(next, auth ? { auth } : {});
    expect(res.status).toBe(200);
    const page = (await res.json()) as ListJson;
    seen.push(...page[page.meta.key as 'faxes']);
    next = page.meta.next_page_url;
    if (between) await between(page);
  }
  return seen;
}

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 120, numbers: 4, accounts: 1, seed: 7 });
});
afterAll(() => emu.close());

describe('Fax API v1 list', () => {
  it('answers the {faxes, meta} envelope valid against the OpenAPI schema, with absolute URLs on its own origin', async () => {
    const res = await api('/v1/Faxes?PageSize=20');
    expect(res.status).toBe(200);
    expect(res.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
    const body = (await res.json()) as ListJson;
    expect(schemaProblems(body, 'ListFaxResponse')).toEqual([]);
    expect(body.faxes).toHaveLength(20);
    expect(body.meta).toMatchObject({ page: 0, page_size: 20, key: 'faxes', previous_page_url: null });
    expect(Object.keys(body.meta).sort()).toEqual(['first_page_url', 'key', 'next_page_url', 'page', 'page_size', 'previous_page_url', 'url']);
    expect(body.meta.next_page_url).toMatch(new RegExp(`^${emu.url}/v1/Faxes\\?PageSize=20&Page=1&PageToken=PT`));
    expect(body.faxes[0]?.url).toBe(`${emu.url}/v1/Faxes/${body.faxes[0]?.sid}`);
    for (const fax of body.faxes) expect(fax.account_sid).toBe(emu.accountSid);
  });

  it('lists newest first and defaults PageSize to 50', async () => {
    const body = (await (await api('/v1/Faxes')).json()) as ListJson;
    expect(body.meta.page_size).toBe(50);
    const dates = body.faxes.map((f) => Date.parse(f.date_created));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);
  });

  it('refuses PageSize outside 1..1000 with a 400 in Twilio error shape', async () => {
    for (const size of ['0', '1001', 'abc']) {
      const res = await api(`/v1/Faxes?PageSize=${size}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['code', 'message', 'more_info', 'status']);
      expect(body.status).toBe(400);
    }
  });

  it('following next_page_url visits every fax exactly once', async () => {
    const all = emu.emulator.faxes(emu.accountSid).map((f) => f.sid as string);
    const seen = (await listAll('/v1/Faxes?PageSize=7')).map((f) => f.sid);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...all].sort());
  });

  it('previous_page_url leads back to the page before', async () => {
    const first = (await (await api('/v1/Faxes?PageSize=5')).json()) as ListJson;
    const second = (await (await api(first.meta.next_page_url as string)).json()) as ListJson;
    expect(second.meta.page).toBe(1);
    const back = (await (await api(second.meta.previous_page_url as string)).json()) as ListJson;
    expect(back.faxes.map((f) => f.sid)).toEqual(first.faxes.map((f) => f.sid));
  });

  it('filters by To, DateCreatedAfter and DateCreatedOnOrBefore, echoing them in next_page_url', async () => {
    const all = emu.emulator.faxes(emu.accountSid) as FaxJson[];
    const to = all[0]?.to as string;
    const sorted = all.map((f) => f.date_created).sort();
    const after = sorted[Math.floor(sorted.length / 4)] as string;
    const onOrBefore = sorted[Math.floor((sorted.length * 3) / 4)] as string;
    const q = `To=${encodeURIComponent(to)}&DateCreatedAfter=${after}&DateCreatedOnOrBefore=${onOrBefore}`;
    const first = (await (await api(`/v1/Faxes?${q}&PageSize=2`)).json()) as ListJson;
    if (first.meta.next_page_url) expect(first.meta.next_page_url).toContain(`To=${encodeURIComponent(to)}`);
    const got = (await listAll(`/v1/Faxes?${q}&PageSize=2`)).map((f) => f.sid).sort();
    const expected = all
      .filter((f) => f.to === to && f.date_created > after && f.date_created <= onOrBefore)
      .map((f) => f.sid)
      .sort();
    expect(got).toEqual(expected);
  });

  it('visits every remaining fax exactly once while faxes are deleted between pages', async () => {
    const local = await startTestEmulator({ faxes: 150, accounts: 0, seed: 11 });
    try {
      const before = local.emulator.faxes().map((f) => f.sid as string);
      const deleted = new Set<string>();
      const seen: string[] = [];
      let next: string | null = `${local.url}/v1/Faxes?PageSize=10`;
      let round = 0;
      while (next) {
        const page = (await (await fetch(next, { headers: { Authorization: local.basicAuth() } })).json()) as ListJson;
        seen.push(...page.faxes.map((f) => f.sid));
        // Delete two faxes already seen and one not yet seen, as a concurrent archiver would.
        const victims = [page.faxes[0]?.sid, page.faxes[1]?.sid, before[before.length - 1 - round]];
        for (const sid of victims) {
          if (!sid || deleted.has(sid)) continue;
          const res = await fetch(`${local.url}/v1/Faxes/${sid}`, { method: 'DELETE', headers: { Authorization: local.basicAuth() } });
          expect(res.status).toBe(204);
          deleted.add(sid);
        }
        next = page.meta.next_page_url;
        round++;
      }
      expect(new Set(seen).size).toBe(seen.length);
      const notSeen = before.filter((sid) => !seen.includes(sid));
      // Every fax not seen was deleted before its page came; every surviving fax was seen.
      for (const sid of notSeen) expect(deleted.has(sid)).toBe(true);
      expect(local.emulator.stats().faxesLeft[local.accountSid]).toBe(before.length - deleted.size);
    } finally {
      await local.close();
    }
  });
});

describe('Fax API v1 instance and media', () => {
  it('fetches a fax valid against the schema, with a fresh pre-signed media_url on the media host', async () => {
    const fax = (emu.emulator.faxes(emu.accountSid) as FaxJson[]).find((f) => f.media_sid) as FaxJson;
    const res = await api(`/v1/Faxes/${fax.sid}`);
    const body = (await res.json()) as FaxJson;
    expect(schemaProblems(body, 'fax.v1.fax')).toEqual([]);
    expect(body.media_url).toMatch(new RegExp(`^${emu.mediaUrl}/fax/${emu.accountSid}/${fax.media_sid}\\?.*X-Amz-Expires=7200`));
    expect(typeof body.price).toBe('string');
  });

  it('lists, fetches and deletes media; the fax stays without media', async () => {
    const created = emu.emulator.createFax({ status: 'received' }) as FaxJson;
    const list = (await (await api(`/v1/Faxes/${created.sid}/Media`)).json()) as { media: Record<string, unknown>[]; meta: { key: string } };
    expect(schemaProblems(list, 'ListFaxMediaResponse')).toEqual([]);
    expect(list.meta.key).toBe('media');
    expect(list.media).toHaveLength(1);
    const one = await api(`/v1/Faxes/${created.sid}/Media/${created.media_sid}`);
    expect(schemaProblems(await one.json(), 'fax.v1.fax.fax_media')).toEqual([]);
    const del = await api(`/v1/Faxes/${created.sid}/Media/${created.media_sid}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const after = (await (await api(`/v1/Faxes/${created.sid}`)).json()) as FaxJson;
    expect(after.media_sid).toBeNull();
    expect(after.media_url).toBeNull();
  });

  it('DELETE answers 204 with no body, then 404 with code 20404', async () => {
    const created = emu.emulator.createFax({}) as FaxJson;
    const del = await api(`/v1/Faxes/${created.sid}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect(del.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
    const again = await api(`/v1/Faxes/${created.sid}`);
    expect(again.status).toBe(404);
    expect(((await again.json()) as { code: number }).code).toBe(20404);
  });

  it('POST Status=canceled cancels a sending fax and refuses a delivered one', async () => {
    const sending = emu.emulator.createFax({ direction: 'outbound', status: 'sending' }) as FaxJson;
    const form = { method: 'POST', body: new URLSearchParams({ Status: 'canceled' }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
    const res = await api(`/v1/Faxes/${sending.sid}`, form);
    expect(res.status).toBe(200);
    expect(((await res.json()) as FaxJson).status).toBe('canceled');
    const delivered = emu.emulator.createFax({ direction: 'outbound', status: 'delivered' }) as FaxJson;
    const refused = await api(`/v1/Faxes/${delivered.sid}`, form);
    expect(refused.status).toBe(400);
  });
});

describe('auth', () => {
  it('answers 401 / 20003 without or with wrong credentials, with a request id', async () => {
    const none = await fetch(`${emu.url}/v1/Faxes`);
    expect(none.status).toBe(401);
    expect(none.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
    expect(await none.json()).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    const wrong = await api('/v1/Faxes', { auth: emu.basicAuth(emu.accountSid, 'nope') });
    expect(wrong.status).toBe(401);
  });

  it('accepts an API key (SK...) acting for its account', async () => {
    const res = await api('/v1/Faxes?PageSize=1', { auth: emu.basicAuth(emu.apiKeySid, emu.apiKeySecret) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as ListJson).faxes[0]?.account_sid).toBe(emu.accountSid);
  });

  it("scopes faxes to the credentials' account: a subaccount sees only its own", async () => {
    const sub = emu.emulator.accounts[1] as { sid: string; authToken: string };
    const subAuth = emu.basicAuth(sub.sid, sub.authToken);
    const seen = await listAll('/v1/Faxes?PageSize=50', subAuth);
    expect(seen.length).toBe(emu.emulator.faxes(sub.sid).length);
    for (const fax of seen) expect(fax.account_sid).toBe(sub.sid);
    const mainFax = emu.emulator.faxes(emu.accountSid)[0] as FaxJson;
    const foreign = await api(`/v1/Faxes/${mainFax.sid}`, { auth: subAuth });
    expect(foreign.status).toBe(404);
  });
});

describe('control surface', () => {
  it('reports request counts per route and faxes left per account', async () => {
    const res = await fetch(`${emu.url}/_emulator/stats`);
    const stats = (await res.json()) as { requests: Record<string, number>; faxesLeft: Record<string, number> };
    expect(stats.requests['GET /v1/Faxes']).toBeGreaterThan(0);
    expect(stats.faxesLeft[emu.accountSid]).toBe(emu.emulator.faxes(emu.accountSid).length);
  });

  it('a late update gives a newer date_updated, and a pruned fax vanishes', async () => {
    const fax = emu.emulator.createFax({}) as FaxJson;
    const res = await fetch(`${emu.url}/_emulator/faxes/${fax.sid}`, { method: 'POST', body: JSON.stringify({ media: 'changed' }) });
    const updated = (await res.json()) as FaxJson;
    expect(Date.parse(updated.date_updated as string)).toBeGreaterThan(Date.parse(fax.date_updated as string));
    expect(updated.media_sid).not.toBe(fax.media_sid);
    const prune = await fetch(`${emu.url}/_emulator/faxes/${fax.sid}`, { method: 'DELETE' });
    expect(prune.status).toBe(204);
    expect((await api(`/v1/Faxes/${fax.sid}`)).status).toBe(404);
  });
});

describe('generated data', () => {
  it('is deterministic from the seed and realistic', async () => {
    const again = await startTestEmulator({ faxes: 120, numbers: 4, accounts: 1, seed: 7 });
    const other = await startTestEmulator({ faxes: 120, numbers: 4, accounts: 1, seed: 8 });
    try {
      expect(again.accountSid).toBe(emu.accountSid);
      expect(again.authToken).toBe(emu.authToken);
      expect(other.accountSid).not.toBe(emu.accountSid);
      const faxes = again.emulator.faxes() as FaxJson[];
      expect(faxes).toHaveLength(120);
      const statuses = new Set(faxes.map((f) => f.status));
      expect(statuses.has('delivered') || statuses.has('received')).toBe(true);
      for (const fax of faxes) {
        expect(fax.from).toMatch(/^\+1\d{10}$/);
        const ok = fax.status === 'delivered' || fax.status === 'received';
        // Media on finished faxes, and often on outbound ones that ended unsent (issue 12 §3).
        const unsent = fax.direction === 'outbound' && ['failed', 'busy', 'no-answer'].includes(fax.status);
        if (!unsent) expect(fax.media_sid !== null).toBe(ok);
        const age = Date.parse('2021-12-01T00:00:00Z') - Date.parse(fax.date_created);
        expect(age).toBeGreaterThanOrEqual(0);
        expect(age).toBeLessThanOrEqual(180 * 86_400_000);
      }
    } finally {
      await again.close();
      await other.close();
    }
  });
});
