/**
 * Issue 12 §1 for `numbers plan/apply`: with the main account's auth token, the parent's client
 * reaches every subaccount's numbers (as Twilio allows); with an API key it never does, so each
 * subaccount is read and changed with its own credentials from the credentials file, and a
 * subaccount without one is named in one exit-2 line before anything is planned.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';

let emu: TestEmulator;
let dir: string;
beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 0, accounts: 2, numbers: 6, seed: 1414 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-numbers-credentials-'));
});
afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const keyEnv = () => ({ TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_API_KEY: emu.apiKeySid, TWILIO_API_SECRET: emu.apiKeySecret, TWILIO_AUTH_TOKEN: undefined, FAX_SUNSET_TWILIO_URL: emu.url });

function plan(out: string, env: Record<string, string | undefined>) {
  return runCli(['numbers', 'plan', '--subaccounts', '--voice-url', 'https://voice.example.org/answer', '--out', join(dir, out), '--json'], { cwd: dir, env });
}

describe('numbers plan --subaccounts with a parent API key', () => {
  it('without the subaccounts\' own credentials: one exit-2 line naming how to give them', async () => {
    const run = await plan('no-credentials', keyEnv());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/cannot read the accounts list \(a Standard key\).*--credentials FILE/);
    expect(run.stderr).not.toContain(emu.apiKeySecret);
  });

  it('with a 0600 credentials file of their own API keys: every account\'s fax numbers are planned', async () => {
    const file = join(dir, 'credentials');
    writeFileSync(file, emu.emulator.apiKeys.slice(1).map((k) => `${k.accountSid} ${k.sid} ${k.secret}`).join('\n'));
    chmodSync(file, 0o600);
    const run = await plan('with-credentials', { ...keyEnv(), FAX_SUNSET_CREDENTIALS: file });
    expect(run.code, run.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'with-credentials', 'plan.json'), 'utf8')) as { changes: Array<{ accountSid: string }>; accounts: Array<{ sid: string }> };
    const faxNumbers = emu.emulator.numbers().filter((n) => n.voice_receive_mode === 'fax');
    expect(new Set(written.changes.map((c) => c.accountSid))).toEqual(new Set(faxNumbers.map((n) => String(n.account_sid))));
    expect(new Set(faxNumbers.map((n) => n.account_sid))).toContain(emu.emulator.accounts[1]!.sid); // a subaccount's, read with its own key
    expect(written.accounts.map((a) => a.sid).sort()).toEqual(emu.emulator.accounts.map((a) => a.sid).sort());
    for (const k of emu.emulator.apiKeys) expect(readFileSync(join(dir, 'with-credentials', 'plan.json'), 'utf8')).not.toContain(k.secret);

    // apply reads every number again (the stale check) with its own account's credentials, then changes it.
    // The approved hash is plan.json's own SHA-256, required with --yes.
    const planSha256 = createHash('sha256').update(readFileSync(join(dir, 'with-credentials', 'plan.json'))).digest('hex');
    const applied = await runCli(['numbers', 'apply', join(dir, 'with-credentials', 'plan.json'), '--expect-sha256', planSha256, '--yes', '--json', '--catalog', join(dir, 'catalog.sqlite')], {
      cwd: dir, env: { ...keyEnv(), FAX_SUNSET_CREDENTIALS: file },
    });
    expect(applied.code, applied.stderr).toBe(0);
    expect(emu.emulator.numbers().filter((n) => n.voice_receive_mode === 'fax')).toEqual([]);
  });
});
