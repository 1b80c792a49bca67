/**
 * Issue 11 §4, "one account's trouble stays its own", and issue 12 §1-2 on the archiver's side:
 * a suspended subaccount, a subaccount whose listing is one 5xx storm, and one whose page carries a
 * malformed record and another account's record do not stop the others: the run finishes every
 * other account, names the failed ones in `accountsFailed`, and exits 1. A DELETE answered 404
 * counts as gone only when the fax's own account cannot fetch it either. Unfinished faxes of an
 * account the run does not reach (closed since) are counted and named. With a parent API key, the
 * subaccounts without their own credentials are named in one exit-2 line, and `serve` says at
 * start-up which accounts' webhooks it cannot check.
 *
 * One emulator world, run after run (each step builds on the catalog the last one left), behind a
 * proxy that makes one account misbehave at a time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startAccountProxy, type AccountProxy } from '../support/account-proxy.js';
import { spawnCli } from '../support/cli-process.js';
import { runCli, stderrLines, summaryOf, type CliRun } from './archive-cli.js';
import { waitFor } from '../webhook/webhook-harness.js';

let emu: TestEmulator;
let proxy: AccountProxy;
let dir: string;
const mode = {
  injectIntoSub1: false,
  stormOnSub2: false,
  brokenMediaOnSub2: false,
  deleteAnswers404: new Set<string>(),
};
const BAD_SID = 'FX' + 'z'.repeat(32);

const sid = (i: number) => emu.emulator.accounts[i]!.sid;

beforeAll(async () => {
  // [main, sub1, sub2, sub3]: sub3 suspended from the start; the main account's key is a Main key.
  emu = await startTestEmulator({ faxes: 24, accounts: 3, numbers: 2, seed: 1111, suspendedAccounts: 1, apiKeys: ['main', 'standard', 'standard', 'standard'] });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-account-trouble-'));
  proxy = await startAccountProxy(emu.url, (request) => {
    if (request.path.startsWith('/no-media/')) return { answer: { status: 403, body: { error: 'AccessDenied' } } };
    const listing = request.method === 'GET' && /^\/v1\/Faxes(\?|$)/.test(request.path);
    if (mode.stormOnSub2 && listing && request.user === sid(2)) {
      return { answer: { status: 503, body: { code: 20503, message: 'Service Unavailable', status: 503 } } };
    }
    if (mode.injectIntoSub1 && listing && request.user === sid(1)) {
      return {
        rewrite: (body) => {
          const page = JSON.parse(body) as { faxes: Record<string, unknown>[] };
          const foreign = emu.emulator.faxes(sid(0))[0]!;
          page.faxes.push({ ...page.faxes[0], sid: BAD_SID.replace('zz', '..') }, { ...foreign });
          return JSON.stringify(page);
        },
      };
    }
    const deleteMatch = /^\/v1\/Faxes\/(FX[0-9a-f]{32})$/.exec(request.path);
    if (request.method === 'DELETE' && deleteMatch && mode.deleteAnswers404.has(deleteMatch[1]!)) {
      return { answer: { status: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 } } };
    }
    if (mode.brokenMediaOnSub2 && request.user === sid(2)) {
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

const catalogPath = () => join(dir, 'archive', 'catalog.sqlite');

function archive(extra: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(
    [
      'archive', '--subaccounts', '--json', '--now', '2021-12-01T00:00:00Z', '--twilio-url', proxy.url,
      '--catalog', catalogPath(), '--store', join(dir, 'archive', 'media'), ...extra,
    ],
    { cwd: dir, env: { TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_AUTH_TOKEN: emu.authToken, FAX_SUNSET_TWILIO_URL: undefined, ...env } },
  );
}

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(catalogPath(), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

type Problem = { sid: string; reason: string };

describe("one account's trouble stays its own", () => {
  it('a suspended subaccount, a 5xx storm on another, a malformed and a foreign record on a third: the rest is archived, the three named, exit 1', async () => {
    mode.injectIntoSub1 = true;
    mode.stormOnSub2 = true;
    const mainFaxes = emu.emulator.faxes(sid(0)).map((f) => String(f.sid));
    const sub1Faxes = emu.emulator.faxes(sid(1)).map((f) => String(f.sid));
    expect(mainFaxes.length).toBeGreaterThan(2);
    expect(sub1Faxes.length).toBeGreaterThan(2);
    const run = await archive(['--delete']);
    mode.injectIntoSub1 = false;
    mode.stormOnSub2 = false;

    expect(run.code, run.stderr).toBe(1);
    const summary = summaryOf(run)!;
    const failed = new Map((summary.accountsFailed as Problem[]).map((p) => [p.sid, p.reason]));
    expect([...failed.keys()].sort()).toEqual([sid(1), sid(2), sid(3)].sort());
    expect(failed.get(sid(1))).toMatch(/2 record\(s\) quarantined/);
    expect(failed.get(sid(2))).toMatch(/listing failed: Twilio answered 503/);
    expect(failed.get(sid(3))).toMatch(/suspended/);
    expect(summary.quarantined).toBe(2);

    // The main account was archived and deleted; sub1 archived, but nothing deleted while it is in trouble.
    expect(emu.emulator.faxes(sid(0))).toEqual([]);
    expect(emu.emulator.faxes(sid(1)).map((f) => String(f.sid)).sort()).toEqual([...sub1Faxes].sort());
    const states = new Map(query<{ sid: string; state: string; account_sid: string }>('SELECT sid, state, account_sid FROM faxes').map((r) => [r.sid, r]));
    for (const fax of sub1Faxes) expect(['verified', 'metadata-only']).toContain(states.get(fax)?.state);
    // Quarantined records: never stored, never under another account's prefix.
    expect([...states.keys()].some((s) => !/^FX[0-9a-f]{32}$/.test(s))).toBe(false);
    for (const fax of mainFaxes) expect(states.get(fax)?.account_sid).toBe(sid(0));
    const quarantined = query<{ data: string }>("SELECT data FROM events WHERE type = 'record-quarantined'");
    expect(quarantined).toHaveLength(2);
    expect(quarantined.map((e) => (JSON.parse(e.data) as { listedFor: string }).listedFor)).toEqual([sid(1), sid(1)]);
  });

  it('a DELETE answered 404 while its own account still fetches the fax is not counted as gone', async () => {
    const sub1Faxes = emu.emulator.faxes(sid(1)).map((f) => String(f.sid));
    const liar = sub1Faxes[0]!;
    mode.deleteAnswers404.add(liar);
    mode.brokenMediaOnSub2 = true; // sub2's media cannot be had this run: its faxes stay unfinished
    const run = await archive(['--delete']);
    mode.deleteAnswers404.clear();
    mode.brokenMediaOnSub2 = false;

    expect(run.code, run.stderr).toBe(1);
    expect(emu.emulator.faxes(sid(1)).map((f) => String(f.sid))).toEqual([liar]); // the others deleted
    const row = query<{ state: string }>('SELECT state FROM faxes WHERE sid = ?', liar)[0]!;
    expect(row.state).not.toBe('deleted');
    expect(query('SELECT id FROM events WHERE type = ? AND fax_sid = ?', 'deletion-contradicted', liar)).toHaveLength(1);
    expect(summaryOf(run)!.deleteFailed).toBeGreaterThanOrEqual(1);
    const sub2States = query<{ state: string }>('SELECT state FROM faxes WHERE account_sid = ?', sid(2)).map((r) => r.state);
    expect(sub2States.length).toBeGreaterThan(0);
    expect(sub2States.every((state) => state === 'failed')).toBe(true);
  });

  it("an account closed since: its unfinished faxes are counted in `unfinished` and the account is named", async () => {
    const unfinished = query<{ n: number }>("SELECT count(*) AS n FROM faxes WHERE account_sid = ? AND state = 'failed'", sid(2))[0]!.n;
    expect(unfinished).toBeGreaterThan(0);
    emu.emulator.setAccountStatus(sid(2), 'closed');
    const run = await archive([]);
    expect(run.code, run.stderr).toBe(1);
    const summary = summaryOf(run)!;
    const notReached = summary.accountsNotReached as Array<Problem & { unfinished: number }>;
    expect(notReached).toEqual([{ sid: sid(2), reason: 'closed', unfinished }]);
    expect(summary.unfinished as number).toBeGreaterThanOrEqual(unfinished);
    expect(run.stderr).toMatch(new RegExp(`${unfinished} unfinished fax\\(es\\) of account ${sid(2)}`));
  });
});

describe('credentials as Twilio scopes them', () => {
  it('a parent Main API key: the subaccounts without their own credentials are named in one exit-2 line', async () => {
    const key = emu.emulator.apiKeys[0]!;
    expect(key.kind).toBe('main');
    const run = await archive([], { TWILIO_AUTH_TOKEN: undefined, TWILIO_API_KEY: key.sid, TWILIO_API_SECRET: key.secret });
    expect(run.code, run.stderr).toBe(2);
    const lines = stderrLines(run).filter((line) => !line.startsWith('{'));
    expect(lines, run.stderr).toHaveLength(1);
    // sub1 needs one; sub2 is closed and sub3 suspended, so neither is asked for.
    expect(lines[0]).toMatch(new RegExp(`no credentials for subaccount ${sid(1)} \\(an API key never reaches its subaccounts\\).*--credentials FILE`));
    expect(lines[0]).not.toContain(sid(2));
    expect(run.stderr).not.toContain(key.secret);
    // Refused before the catalog is opened: a fresh catalog path is never created.
    const fresh = join(dir, 'never', 'catalog.sqlite');
    const again = await runCli(['archive', '--subaccounts', '--twilio-url', proxy.url, '--catalog', fresh, '--store', join(dir, 'never', 'media')], {
      cwd: dir, env: { TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_API_KEY: key.sid, TWILIO_API_SECRET: key.secret, FAX_SUNSET_TWILIO_URL: undefined },
    });
    expect(again.code, again.stderr).toBe(2);
    expect(existsSync(fresh)).toBe(false);
  });

  it('serve --sync-every --subaccounts with a parent API key and no credentials: the same one exit-2 line, before listening', async () => {
    const key = emu.emulator.apiKeys[0]!;
    const cwd = mkdtempSync(join(dir, 'serve-refused-'));
    const run = await runCli(['serve', '--port', '0', '--sync-every', '1h', '--subaccounts', '--twilio-url', emu.url], {
      cwd,
      env: { TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_AUTH_TOKEN: emu.authToken, TWILIO_API_KEY: key.sid, TWILIO_API_SECRET: key.secret, FAX_SUNSET_TWILIO_URL: undefined },
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`no credentials for subaccount ${sid(1)} .*--credentials FILE`));
    expect(run.stdout).not.toContain('serve-started');
  });

  it("serve with a parent API key says at start-up which subaccounts' webhooks it cannot check", async () => {
    const key = emu.emulator.apiKeys[0]!;
    const cwd = mkdtempSync(join(dir, 'serve-'));
    const child = spawnCli(['serve', '--json', '--port', '0', '--twilio-url', emu.url], {
      cwd,
      env: { TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_AUTH_TOKEN: emu.authToken, TWILIO_API_KEY: key.sid, TWILIO_API_SECRET: key.secret, FAX_SUNSET_TWILIO_URL: undefined },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes('"serve-started"') || child.exitCode !== null, 'serve to start', 20_000);
      const warning = stdout.split('\n').filter((l) => l.includes('"no-auth-token"')).map((l) => JSON.parse(l) as { accounts: string; hint: string })[0];
      expect(warning, stdout).toBeDefined();
      expect(warning!.accounts).toBe(sid(1)); // sub2 closed and sub3 suspended send no webhooks
      expect(warning!.hint).toMatch(/refused \(403\).*--credentials FILE/);
      expect(stdout).not.toContain(key.secret);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
