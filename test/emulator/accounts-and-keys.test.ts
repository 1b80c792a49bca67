/**
 * Issue 12 §1-2: credentials as Twilio scoped them, and account status. A Standard API key cannot
 * read /2010-04-01/Accounts; a Main key can, but sees every auth_token empty; no key of the parent
 * reaches a subaccount (401 / 20003); the Fax API shows each account its own faxes only. Suspended
 * and closed subaccounts refuse their own credentials; closed ones stay listed and their data goes
 * 30 days after closure; the Accounts `Status` filter works.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorOptionsFromFlags } from '../../src/commands/emulator-command.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

let emu: RunningEmulator;
beforeAll(async () => {
  // Keys: the main account's is a Main key, each subaccount's Standard; the last subaccount closed, the one before suspended.
  emu = await startEmulator({ faxes: 40, accounts: 3, numbers: 4, seed: 1212, apiKeys: ['main', 'standard', 'standard', 'standard'], suspendedAccounts: 1, closedAccounts: 1 });
});
afterAll(() => emu?.close());

async function get(path: string, auth: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emu.url}${path}`, { headers: { Authorization: auth } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('emulator: API key kinds', () => {
  it('prints each key with its kind in the start-up line, and each account with its status', () => {
    const startup = JSON.parse(emu.startupLine()) as { accounts: Array<{ sid: string; status: string }>; apiKeys: Array<{ accountSid: string; kind: string }> };
    expect(startup.apiKeys.map((k) => k.kind)).toEqual(['main', 'standard', 'standard', 'standard']);
    expect(startup.apiKeys.map((k) => k.accountSid)).toEqual(emu.accounts.map((a) => a.sid));
    expect(startup.accounts.map((a) => a.status)).toEqual(['active', 'active', 'suspended', 'closed']);
  });

  it('a Standard key cannot read the Accounts list (401 / 20003) but reads its own faxes', async () => {
    const key = emu.apiKeys[1]!;
    const accounts = await get('/2010-04-01/Accounts.json', basic(key.sid, key.secret));
    expect(accounts.status).toBe(401);
    expect(accounts.body.code).toBe(20003);
    expect((await get(`/2010-04-01/Accounts/${key.accountSid}.json`, basic(key.sid, key.secret))).status).toBe(401);
    expect((await get(`/2010-04-01/Accounts/${key.accountSid}/IncomingPhoneNumbers.json`, basic(key.sid, key.secret))).status).toBe(200);
    const faxes = await get('/v1/Faxes?PageSize=1000', basic(key.sid, key.secret));
    expect(faxes.status).toBe(200);
    const listed = faxes.body.faxes as Array<{ account_sid: string }>;
    expect(listed.length).toBeGreaterThan(0);
    expect(new Set(listed.map((f) => f.account_sid))).toEqual(new Set([key.accountSid]));
  });

  it('a Main key lists the accounts, every auth_token empty; the auth token lists them with tokens', async () => {
    const key = emu.apiKeys[0]!;
    const byKey = await get('/2010-04-01/Accounts.json', basic(key.sid, key.secret));
    expect(byKey.status).toBe(200);
    const listed = byKey.body.accounts as Array<{ sid: string; auth_token: string }>;
    expect(listed).toHaveLength(4);
    expect(listed.every((a) => a.auth_token === '')).toBe(true);
    const byToken = await get('/2010-04-01/Accounts.json', basic(emu.mainAccount.sid, emu.mainAccount.authToken));
    const withTokens = byToken.body.accounts as Array<{ sid: string; auth_token: string }>;
    expect(withTokens.find((a) => a.sid === emu.accounts[1]!.sid)?.auth_token).toBe(emu.accounts[1]!.authToken);
  });

  it("no key of the parent reaches a subaccount's resources (401 / 20003); the parent's auth token does", async () => {
    const sub = emu.accounts[1]!;
    const path = `/2010-04-01/Accounts/${sub.sid}/IncomingPhoneNumbers.json`;
    const mainKey = emu.apiKeys[0]!;
    const refused = await get(path, basic(mainKey.sid, mainKey.secret));
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe(20003);
    expect((await get(path, basic(emu.mainAccount.sid, emu.mainAccount.authToken))).status).toBe(200);
    // The Fax API has no account in its path: the parent sees only its own faxes, the subaccount its own.
    const parentFaxes = (await get('/v1/Faxes?PageSize=1000', basic(emu.mainAccount.sid, emu.mainAccount.authToken))).body.faxes as Array<{ account_sid: string }>;
    expect(parentFaxes.every((f) => f.account_sid === emu.mainAccount.sid)).toBe(true);
    const subFaxes = (await get('/v1/Faxes?PageSize=1000', basic(sub.sid, sub.authToken))).body.faxes as Array<{ account_sid: string }>;
    expect(subFaxes.length).toBeGreaterThan(0);
    expect(subFaxes.every((f) => f.account_sid === sub.sid)).toBe(true);
  });
});

describe('emulator: account status', () => {
  it('suspended and closed subaccounts refuse their own credentials (401 / 20003), key and token alike', async () => {
    for (const i of [2, 3]) {
      const account = emu.accounts[i]!;
      const byToken = await get('/v1/Faxes', basic(account.sid, account.authToken));
      expect(byToken.status).toBe(401);
      expect(byToken.body.code).toBe(20003);
      const key = emu.apiKeys[i]!;
      expect((await get('/v1/Faxes', basic(key.sid, key.secret))).status).toBe(401);
    }
  });

  it('lists them with their status, and the Status filter works', async () => {
    const auth = basic(emu.mainAccount.sid, emu.mainAccount.authToken);
    const all = (await get('/2010-04-01/Accounts.json', auth)).body.accounts as Array<{ sid: string; status: string }>;
    expect(all.map((a) => a.status).sort()).toEqual(['active', 'active', 'closed', 'suspended']);
    const sids = async (status: string) => ((await get(`/2010-04-01/Accounts.json?Status=${status}`, auth)).body.accounts as Array<{ sid: string }>).map((a) => a.sid);
    expect(await sids('closed')).toEqual([emu.accounts[3]!.sid]);
    expect(await sids('suspended')).toEqual([emu.accounts[2]!.sid]);
    expect((await sids('active')).sort()).toEqual([emu.accounts[0]!.sid, emu.accounts[1]!.sid].sort());
    expect((await get('/2010-04-01/Accounts.json?Status=gone', auth)).status).toBe(400);
  });

  it('a control route suspends, reinstates and closes a subaccount mid-run; a closed one keeps its data 30 days', async () => {
    const sub = emu.accounts[1]!;
    const auth = basic(sub.sid, sub.authToken);
    const faxesBefore = emu.faxes(sub.sid).length;
    expect(faxesBefore).toBeGreaterThan(0);
    const post = (status: string) => fetch(`${emu.url}/_emulator/accounts/${sub.sid}`, { method: 'POST', body: JSON.stringify({ status }) });
    expect((await post('suspended')).status).toBe(200);
    expect((await get('/v1/Faxes', auth)).status).toBe(401);
    expect((await post('active')).status).toBe(200);
    expect((await get('/v1/Faxes', auth)).status).toBe(200);
    expect((await post('closed')).status).toBe(200);
    expect((await get('/v1/Faxes', auth)).status).toBe(401);
    expect((await post('active')).status).toBe(400); // Twilio never reopens a closed account
    emu.advanceClock(29 * 86_400);
    expect(emu.faxes(sub.sid).length).toBe(faxesBefore);
    emu.advanceClock(2 * 86_400);
    await fetch(`${emu.url}/_emulator/stats`); // any request lets the clock's consequences happen
    expect(emu.faxes(sub.sid)).toEqual([]);
    expect(emu.faxes(emu.mainAccount.sid).length).toBeGreaterThan(0);
  });
});

describe('emulator state', () => {
  it('keeps an account status change across a restart with --state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-emu-accounts-'));
    try {
      const stateFile = join(dir, 'state.jsonl');
      const first = await startEmulator({ faxes: 4, accounts: 2, numbers: 2, seed: 77, stateFile });
      const sub = first.accounts[2]!.sid;
      first.setAccountStatus(sub, 'closed');
      await first.close();
      const second = await startEmulator({ faxes: 4, accounts: 2, numbers: 2, seed: 77, stateFile });
      try {
        expect(second.accountStatus(sub)).toBe('closed');
        expect(second.accountStatus(second.accounts[1]!.sid)).toBe('active');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emulator flags', () => {
  const base = { faxes: '5', numbers: '2', accounts: '2', seed: '1', port: '0', mediaPort: '0', host: '127.0.0.1', mediaTtl: '7200', latencyMs: '0', faultRate: '0', slowMs: '0',
    clockSpeed: '1', pruning: true, failedWithMedia: true, inexactContentTypes: '0.05', contradictoryMedia: '0', inProgress: '0', expiredTokenInListings: '0', realWorldFiles: '0' };
  it('--api-keys, --suspended-accounts and --closed-accounts become options; bad values are usage errors', () => {
    expect(emulatorOptionsFromFlags({ ...base, apiKeys: 'main', suspendedAccounts: '1', closedAccounts: '1' })).toMatchObject({ apiKeys: 'main', suspendedAccounts: 1, closedAccounts: 1 });
    expect(emulatorOptionsFromFlags({ ...base, apiKeys: 'main,standard,main' }).apiKeys).toEqual(['main', 'standard', 'main']);
    expect(() => emulatorOptionsFromFlags({ ...base, apiKeys: 'owner' })).toThrow(/--api-keys/);
    expect(() => emulatorOptionsFromFlags({ ...base, apiKeys: 'main,standard' })).toThrow(/one per account/);
    expect(() => emulatorOptionsFromFlags({ ...base, suspendedAccounts: '2', closedAccounts: '1' })).toThrow(/cannot exceed/);
  });
});
