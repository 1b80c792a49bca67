import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { schemaProblems } from './openapi-schema.js';

/**
 * The official helper library against the emulator: a RequestClient that rewrites
 * https://*.twilio.com to the emulator's origin on EVERY request (the 2010 API's relative
 * next_page_uri is made absolute against api.twilio.com by the library).
 */
class EmulatorRequestClient extends twilio.RequestClient {
  constructor(private readonly origin: string) {
    super({ autoRetry: false });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    expect(target.hostname.endsWith('twilio.com') || target.origin === this.origin).toBe(true);
    return super.request({ ...opts, uri: `${this.origin}${target.pathname}${target.search}` });
  }
}

let emu: TestEmulator;
let client: ReturnType<typeof twilio>;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 10, numbers: 12, accounts: 2, seed: 3 });
  client = twilio(emu.accountSid, emu.authToken, { httpClient: new EmulatorRequestClient(emu.url) });
});
afterAll(() => emu.close());

async function getJson(path: string, auth = emu.basicAuth()): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(emu.url + path, { headers: { Authorization: auth } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('2010 API through the twilio helper library', () => {
  it('pages accounts: the main account first, then its subaccounts, each with its own auth token', async () => {
    const accounts = await client.api.v2010.accounts.list({ pageSize: 1 });
    expect(accounts.map((a) => a.sid)).toEqual(emu.emulator.accounts.map((a) => a.sid));
    expect(accounts.map((a) => a.authToken)).toEqual(emu.emulator.accounts.map((a) => a.authToken));
    for (const a of accounts) expect(a.ownerAccountSid).toBe(emu.accountSid);
  });

  it("lists the main account's numbers over several pages, and a subaccount's through the parent's credentials", async () => {
    const own = await client.api.v2010.account.incomingPhoneNumbers.list({ pageSize: 2 });
    expect(own.map((n) => n.sid).sort()).toEqual(emu.emulator.numbers(emu.accountSid).map((n) => n.sid as string).sort());
    expect(own.length).toBe(4);
    const sub = emu.emulator.accounts[1]?.sid as string;
    const subNumbers = await client.api.v2010.accounts(sub).incomingPhoneNumbers.list({ pageSize: 3 });
    expect(subNumbers.length).toBe(4);
    for (const n of subNumbers) expect(n.accountSid).toBe(sub);
  });

  it('updates VoiceReceiveMode, VoiceUrl, VoiceMethod, VoiceFallbackUrl, VoiceApplicationSid and FriendlyName', async () => {
    const target = emu.emulator.numbers(emu.accountSid).find((n) => n.voice_receive_mode === 'fax') as { sid: string };
    const updated = await client.api.v2010.account.incomingPhoneNumbers(target.sid).update({
      voiceReceiveMode: 'voice',
      voiceUrl: 'https://voice.example.org/answer',
      voiceMethod: 'GET',
      voiceFallbackUrl: 'https://voice.example.org/fallback',
      voiceApplicationSid: 'AP' + 'c'.repeat(32),
      friendlyName: 'Reverted',
    });
    expect(updated.voiceReceiveMode).toBe('voice');
    expect(updated.voiceUrl).toBe('https://voice.example.org/answer');
    expect(updated.voiceMethod).toBe('GET');
    expect(updated.voiceFallbackUrl).toBe('https://voice.example.org/fallback');
    expect(updated.voiceApplicationSid).toBe('AP' + 'c'.repeat(32));
    expect(updated.friendlyName).toBe('Reverted');
    const fetched = await client.api.v2010.account.incomingPhoneNumbers(target.sid).fetch();
    expect(fetched.voiceReceiveMode).toBe('voice');
  });

  it('refuses an invalid VoiceReceiveMode with a 400', async () => {
    const target = emu.emulator.numbers(emu.accountSid)[0] as { sid: string };
    await expect(client.api.v2010.account.incomingPhoneNumbers(target.sid).update({ voiceReceiveMode: 'telex' as 'voice' })).rejects.toMatchObject({ status: 400 });
  });
});

describe('2010 API wire format', () => {
  it('the numbers list validates against the OpenAPI schema and pages with RELATIVE *_uri links', async () => {
    const { status, body } = await getJson(`/2010-04-01/Accounts/${emu.accountSid}/IncomingPhoneNumbers.json?PageSize=3`);
    expect(status).toBe(200);
    expect(schemaProblems(body, 'ListIncomingPhoneNumberResponse')).toEqual([]);
    expect(body).toMatchObject({ page: 0, page_size: 3, start: 0, end: 2, previous_page_uri: null });
    expect(body.next_page_uri).toMatch(new RegExp(`^/2010-04-01/Accounts/${emu.accountSid}/IncomingPhoneNumbers\\.json\\?PageSize=3&Page=1&PageToken=PA`));
    expect(body.first_page_uri).toMatch(/^\/2010-04-01\//);
    const next = await getJson(body.next_page_uri as string);
    expect(next.body).toMatchObject({ page: 1, start: 3 });
    expect(next.body.next_page_uri).toBeNull();
  });

  it('accounts list and instance validate against the OpenAPI schema', async () => {
    const list = await getJson('/2010-04-01/Accounts.json');
    expect(schemaProblems(list.body, 'ListAccountResponse')).toEqual([]);
    const one = await getJson(`/2010-04-01/Accounts/${emu.accountSid}.json`);
    expect(schemaProblems(one.body, 'api.v2010.account')).toEqual([]);
    const number = emu.emulator.numbers(emu.accountSid)[0] as { sid: string };
    const n = await getJson(`/2010-04-01/Accounts/${emu.accountSid}/IncomingPhoneNumbers/${number.sid}.json`);
    expect(schemaProblems(n.body, 'api.v2010.account.incoming_phone_number')).toEqual([]);
  });

  it("a subaccount's credentials see only itself: not the parent's numbers, not a sibling", async () => {
    const [, sub, sibling] = emu.emulator.accounts as { sid: string; authToken: string }[];
    const auth = emu.basicAuth(sub?.sid, sub?.authToken);
    const accounts = await getJson('/2010-04-01/Accounts.json', auth);
    expect((accounts.body.accounts as { sid: string }[]).map((a) => a.sid)).toEqual([sub?.sid]);
    const parent = await getJson(`/2010-04-01/Accounts/${emu.accountSid}/IncomingPhoneNumbers.json`, auth);
    expect(parent.status).toBe(401);
    expect(parent.body.code).toBe(20003);
    const other = await getJson(`/2010-04-01/Accounts/${sibling?.sid}/IncomingPhoneNumbers.json`, auth);
    expect(other.status).toBe(401);
  });

  it('an unknown number answers 404 / 20404', async () => {
    const { status, body } = await getJson(`/2010-04-01/Accounts/${emu.accountSid}/IncomingPhoneNumbers/PN${'0'.repeat(32)}.json`);
    expect(status).toBe(404);
    expect(body.code).toBe(20404);
  });
});
