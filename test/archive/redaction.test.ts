/**
 * Issue 13 §2: an API that echoes credentials. Seen: the base64 of AccountSid:AuthToken without
 * `Basic `, a lowercase `basic `, an upper-cased token, and another account's auth token, echoed
 * in a Twilio error message, reached last_error, faxes.csv, report.html, summary.json and stderr.
 * Here a stand-in answers every fax fetch of both accounts with a 400 whose message carries all of
 * them (and each listing points media at a host that refuses, so every media fax is fetched), then
 * everything the archive and the report wrote is searched for every form of every credential.
 */
import { readdirSync, readFileSync, rmSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startAccountProxy, type AccountProxy } from '../support/account-proxy.js';
import { runCli, type CliRun } from './archive-cli.js';

let emu: TestEmulator;
let proxy: AccountProxy;
let dir: string;
const runs: CliRun[] = [];

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 8, accounts: 1, numbers: 2, seed: 1313 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-redaction-'));
  const tokenOf = (sid: string | null) => emu.emulator.accounts.find((a) => a.sid === sid)?.authToken ?? '';
  proxy = await startAccountProxy(emu.url, (request) => {
    if (request.path.startsWith('/no-media/')) return { answer: { status: 403, body: { error: 'AccessDenied' } } };
    if (request.method === 'GET' && /^\/v1\/Faxes\/FX[0-9a-f]{32}$/.test(request.path)) {
      const basic = (request.authorization ?? '').slice('Basic '.length);
      const other = emu.emulator.accounts.find((a) => a.sid !== request.user)!;
      const otherBasic = Buffer.from(`${other.sid}:${other.authToken}`).toString('base64');
      const message = `Bad request from ${basic} (basic ${basic}) token ${(request.password ?? '').toUpperCase()}; ` +
        `see also ${other.authToken} and ${otherBasic.replace(/=+$/, '')} and BASIC ${Buffer.from(tokenOf(request.user)).toString('base64')}`;
      return { answer: { status: 400, body: { code: 20001, message, status: 400 } } };
    }
    if (request.method === 'GET' && /^\/v1\/Faxes(\?|$)/.test(request.path)) {
      return { rewrite: (body) => body.split(emu.mediaUrl).join(`${proxy.url}/no-media`) };
    }
    return null;
  });
});

afterAll(async () => {
  await proxy?.close();
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every way a credential was seen written: itself in any case, base64 of it and of sid:secret, padded or not. */
function forbidden(): Array<{ what: string; pattern: RegExp }> {
  const out: Array<{ what: string; pattern: RegExp }> = [];
  const add = (what: string, value: string) => out.push({ what, pattern: new RegExp(value.replace(/[+/=]/g, (c) => `\\${c}`), 'i') });
  for (const account of emu.emulator.accounts) {
    add(`token of ${account.sid}`, account.authToken);
    add(`base64 token of ${account.sid}`, Buffer.from(account.authToken).toString('base64').replace(/=+$/, ''));
    add(`base64 sid:token of ${account.sid}`, Buffer.from(`${account.sid}:${account.authToken}`).toString('base64').replace(/=+$/, ''));
  }
  return out;
}

function filesUnder(root: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, text: readFileSync(path).toString('latin1') });
  }
  return out;
}

describe('credentials echoed by an API are redacted wherever text is written', () => {
  it('archive and report over echoing errors', async () => {
    const catalog = join(dir, 'archive', 'catalog.sqlite');
    const env = { TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_AUTH_TOKEN: emu.authToken, FAX_SUNSET_TWILIO_URL: undefined };
    const archived = await runCli(
      ['archive', '--subaccounts', '--now', '2021-12-01T00:00:00Z', '--twilio-url', proxy.url, '--catalog', catalog, '--store', join(dir, 'archive', 'media')],
      { cwd: dir, env },
    );
    runs.push(archived);
    expect(archived.code, archived.stderr).toBe(1);
    const reported = await runCli(['report', '--out', join(dir, 'report'), '--catalog', catalog, '--store', join(dir, 'archive', 'media'), '--json'], { cwd: dir, env });
    runs.push(reported);
    expect([0, 1]).toContain(reported.code);

    // The errors were recorded (so the search below can bite), redacted.
    const db = new Database(catalog, { readonly: true, fileMustExist: true });
    const errors = db.prepare('SELECT account_sid, last_error FROM faxes WHERE last_error IS NOT NULL').all() as Array<{ account_sid: string; last_error: string }>;
    db.close();
    expect(new Set(errors.map((e) => e.account_sid)).size).toBe(2);
    expect(errors.every((e) => /Bad request from \[redacted\]/.test(e.last_error))).toBe(true);

    const texts = [
      { path: 'archive stdout+stderr', text: archived.stdout + archived.stderr },
      { path: 'report stdout+stderr', text: reported.stdout + reported.stderr },
      ...filesUnder(dir),
    ];
    for (const name of ['faxes.csv', 'report.html', 'summary.json']) expect(texts.some((t) => t.path.endsWith(name)), name).toBe(true);
    expect(texts.find((t) => t.path.endsWith('faxes.csv'))!.text).toMatch(/Bad request from \[redacted\]/);
    const found: string[] = [];
    for (const { path, text } of texts) for (const { what, pattern } of forbidden()) if (pattern.test(text)) found.push(`${what} in ${path}`);
    expect(found).toEqual([]);
  });
});
