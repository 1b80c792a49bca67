/**
 * Issue 5's "Done means", end to end against the emulator over real HTTP: the helper library for
 * everything the product does, and plain fetch (independent of the product's code) for the ground
 * truth the assertions compare against.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { UsageError } from '../../src/errors.js';
import { createRequestLimiter } from '../../src/limits/request-limiter.js';
import { applyPlan } from '../../src/reversion/apply-plan.js';
import { createAccountDirectory } from '../../src/twilio/account-directory.js';
import { callGateFromLimiter, HelperLibraryNumberDirectory, subaccountAccessFrom } from '../../src/twilio/helper-library-number-directory.js';
import { createTwilioGateway } from '../../src/twilio/helper-library-twilio-gateway.js';
import { makeReversionPlan } from '../../src/reversion/make-reversion-plan.js';
import type { NumberDirectory } from '../../src/reversion/number-directory.js';
import { readPlanFile, writePlanFiles } from '../../src/reversion/plan-files.js';
import type { ReversionPlan } from '../../src/reversion/reversion-plan.js';
import { rollbackChanges } from '../../src/reversion/rollback-changes.js';
import { readRollbackFile } from '../../src/reversion/rollback-journal.js';
import { defaultDestinationFrom, type VoiceTargets } from '../../src/reversion/voice-targets.js';
import { createTwilioRestClient } from '../../src/twilio/twilio-rest-client.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

const VOICE_URL = 'https://voice.example.org/answer';

let emulator: TestEmulator;
let main: { sid: string; authToken: string };
let accounts: { sid: string }[];

/** Delivers an inbound fax through the emulator's HTTP control surface; returns its outcome. */
async function deliverInboundFax(to: string): Promise<{ outcome: string; webhook: { url: string } | null }> {
  const response = await fetch(new URL('/_emulator/inbound', emulator.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to, numPages: 1 }),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as { outcome: string; webhook: { url: string } | null };
}

interface RawNumber {
  sid: string;
  account_sid: string;
  phone_number: string;
  voice_receive_mode: string;
  voice_url: string | null;
  voice_method: string | null;
  voice_fallback_url: string | null;
  voice_application_sid: string | null;
}

function auth(): string {
  return `Basic ${Buffer.from(`${main.sid}:${main.authToken}`).toString('base64')}`;
}

/** Ground truth, without the product's code: every number of an account, by plain fetch. */
async function rawNumbers(accountSid: string): Promise<RawNumber[]> {
  const out: RawNumber[] = [];
  let path: string | null = `/2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json?PageSize=2`;
  while (path) {
    const response = await fetch(new URL(path, emulator.url), { headers: { authorization: auth() } });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { incoming_phone_numbers: RawNumber[]; next_page_uri: string | null };
    out.push(...page.incoming_phone_numbers);
    path = page.next_page_uri;
  }
  return out;
}

async function allRawNumbers(): Promise<RawNumber[]> {
  const lists = await Promise.all(accounts.map((account) => rawNumbers(account.sid)));
  return lists.flat();
}

async function rawUpdate(number: Pick<RawNumber, 'account_sid' | 'sid'>, form: Record<string, string>): Promise<void> {
  const response = await fetch(new URL(`/2010-04-01/Accounts/${number.account_sid}/IncomingPhoneNumbers/${number.sid}.json`, emulator.url), {
    method: 'POST',
    headers: { authorization: auth(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  expect(response.status).toBe(200);
}

function directory(): HelperLibraryNumberDirectory {
  const client = createTwilioRestClient({ username: main.sid, password: main.authToken, accountSid: main.sid, baseUrl: emulator.url });
  const limiter = createRequestLimiter({ ratePerSecond: 200, concurrency: 4, policy: { baseMs: 5, capMs: 50 } });
  // The subaccounts come from the one account directory, as in the numbers command.
  const gateway = createTwilioGateway({ credentials: { accountSid: main.sid, username: main.sid, password: main.authToken }, baseUrl: emulator.url, limiter });
  const accounts = createAccountDirectory({ gateway, mainAuthToken: main.authToken, mainCredentials: { username: main.sid, password: main.authToken } });
  const access = subaccountAccessFrom(accounts, {
    makeClient: (own) => createTwilioRestClient({ ...own, baseUrl: emulator.url }),
    sharedClient: client,
    warn: () => {},
    missingCredentialsHint: 'give --credentials',
  });
  return new HelperLibraryNumberDirectory(client, callGateFromLimiter(limiter), main.sid, access);
}

const urlTargets: VoiceTargets = { defaultDestination: defaultDestinationFrom({ voiceUrl: VOICE_URL }), byNumber: new Map() };

async function planNow(subaccounts = true): Promise<ReversionPlan> {
  return makeReversionPlan(directory(), urlTargets, { subaccounts, keepVoiceUrl: false, deadline: '2021-12-17' });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fax-sunset-numbers-'));
}

/** Resets the emulator's numbers to their start-up state between tests. */
let initial: RawNumber[] = [];
async function restoreInitial(): Promise<void> {
  const now = await allRawNumbers();
  for (const number of initial) {
    const current = now.find((n) => n.sid === number.sid)!;
    if (JSON.stringify(pick(current)) === JSON.stringify(pick(number))) continue;
    await rawUpdate(number, {
      VoiceReceiveMode: number.voice_receive_mode,
      VoiceUrl: number.voice_url ?? '',
      VoiceMethod: number.voice_method ?? 'POST',
      VoiceApplicationSid: number.voice_application_sid ?? '',
    });
  }
}

function pick(n: RawNumber) {
  return {
    mode: n.voice_receive_mode,
    url: n.voice_url || null,
    method: n.voice_method || null,
    app: n.voice_application_sid || null,
    fallback: n.voice_fallback_url || null,
  };
}

beforeAll(async () => {
  emulator = await startTestEmulator({ accounts: 2, numbers: 9, faxes: 0, seed: 5 });
  main = { sid: emulator.accountSid, authToken: emulator.authToken };
  accounts = emulator.emulator.accounts;
  initial = await allRawNumbers();
});

afterAll(async () => {
  await emulator?.close();
});

beforeEach(async () => {
  await restoreInitial();
});

describe('numbers plan', () => {
  it('over the main account and its subaccounts selects exactly the fax-mode numbers', async () => {
    const truth = await allRawNumbers();
    const fax = truth.filter((n) => n.voice_receive_mode === 'fax').map((n) => n.sid).sort();
    expect(fax.length).toBeGreaterThan(0);
    expect(new Set(truth.map((n) => n.account_sid)).size).toBe(3);

    const plan = await planNow(true);
    expect(plan.changes.map((c) => c.sid).sort()).toEqual(fax);
    expect(plan.reported.map((r) => r.reason)).toEqual(plan.reported.map(() => 'already-voice'));
    expect(plan.counts.numbersListed).toBe(truth.length);
    expect(plan.accounts.map((a) => a.sid)).toEqual([main.sid, ...accounts.slice(1).map((a) => a.sid).sort()]);

    const mainOnly = await planNow(false);
    expect(mainOnly.changes.map((c) => c.sid).sort()).toEqual(truth.filter((n) => n.voice_receive_mode === 'fax' && n.account_sid === main.sid).map((n) => n.sid).sort());
  });

  it('refuses a fax number without a voice destination (and the command refuses to plan with none at all)', async () => {
    const none: VoiceTargets = { defaultDestination: null, byNumber: new Map() };
    const plan = await makeReversionPlan(directory(), none, { subaccounts: true, keepVoiceUrl: false, deadline: '2021-12-17' });
    expect(plan.changes).toHaveLength(0);
    expect(plan.counts.refused).toBe(plan.counts.faxMode);
    expect(plan.reported.filter((r) => r.refused).every((r) => r.reason === 'no-destination')).toBe(true);

    const { planAction } = await import('../../src/commands/numbers-command.js');
    await expect(planAction({ out: tempDir() })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('numbers apply and rollback', () => {
  it('applies: a re-fetch shows voice mode and the new URL; events are in the catalog; nothing else changed', async () => {
    const dir = tempDir();
    const plan = await planNow();
    await writePlanFiles(plan, dir);
    const catalog = openCatalog(join(dir, 'catalog.sqlite'));
    try {
      const report = await applyPlan(await readPlanFile(join(dir, 'plan.json')), {
        directory: directory(), rollbackPath: join(dir, 'rollback.json'), dryRun: false, concurrency: 3, events: catalog,
      });
      expect(report.summary).toMatchObject({ applied: plan.changes.length, failed: 0, 'skipped-stale': 0 });
      const events = catalog.listEvents().filter((e) => e.type === 'numbers.apply.applied');
      expect(events.map((e) => e.data.numberSid).sort()).toEqual(plan.changes.map((c) => c.sid).sort());
    } finally {
      catalog.close();
    }
    const after = await allRawNumbers();
    for (const change of plan.changes) {
      const n = after.find((x) => x.sid === change.sid)!;
      expect(n.voice_receive_mode).toBe('voice');
      expect(n.voice_url).toBe(VOICE_URL);
    }
    for (const r of plan.reported) expect(pick(after.find((x) => x.sid === r.sid)!)).toEqual(pick(initial.find((x) => x.sid === r.sid)!));
  });

  it('a dry run changes nothing', async () => {
    const dir = tempDir();
    const plan = await planNow();
    const report = await applyPlan(plan, { directory: directory(), rollbackPath: join(dir, 'rollback.json'), dryRun: true, concurrency: 2 });
    expect(report.summary['would-apply']).toBe(plan.changes.length);
    expect((await allRawNumbers()).map(pick)).toEqual(initial.map(pick));
    expect(() => readFileSync(join(dir, 'rollback.json'))).toThrow();
  });

  it('after apply, an inbound fax to a reverted number no longer reaches the fax webhook', async () => {
    const hits: string[] = [];
    const webhook = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response><Reject/></Response>');
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    try {
      const faxUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/fax`;
      const target = initial.find((n) => n.voice_receive_mode === 'fax' && n.account_sid === main.sid)!;
      await rawUpdate(target, { VoiceUrl: faxUrl });
      // Control: while in fax mode the webhook is reached, so silence later means something.
      expect((await deliverInboundFax(target.phone_number)).webhook?.url).toBe(faxUrl);
      expect(hits.length).toBe(1);

      const dir = tempDir();
      const plan = await planNow();
      expect(plan.changes.find((c) => c.sid === target.sid)?.before.voiceUrl).toBe(faxUrl);
      const report = await applyPlan(plan, { directory: directory(), rollbackPath: join(dir, 'rollback.json'), dryRun: false, concurrency: 2 });
      expect(report.results.find((r) => r.sid === target.sid)?.outcome).toBe('applied');

      const after = await deliverInboundFax(target.phone_number);
      expect(after.outcome).toBe('voice-mode');
      expect(after.webhook).toBeNull();
      expect(hits.length).toBe(1);
    } finally {
      await new Promise<void>((resolve) => webhook.close(() => resolve()));
    }
  });

  it('refuses a plan edited after its hash was taken, and one that is not the approved hash', async () => {
    const dir = tempDir();
    const plan = await planNow();
    await writePlanFiles(plan, dir);
    const text = readFileSync(join(dir, 'plan.json'), 'utf8');
    writeFileSync(join(dir, 'plan.json'), text.replaceAll(VOICE_URL, 'https://evil.example.org/'));
    const edited = await readPlanFile(join(dir, 'plan.json'));
    const options = { directory: directory(), rollbackPath: join(dir, 'rollback.json'), dryRun: false, concurrency: 2 };
    await expect(applyPlan(edited, options)).rejects.toThrow(/edited after its hash/);
    await expect(applyPlan(plan, { ...options, expectSha256: '0'.repeat(64) })).rejects.toThrow(/not the approved/);
    expect((await allRawNumbers()).map(pick)).toEqual(initial.map(pick));
  });

  it('skips a number changed behind the plan\'s back and applies the rest', async () => {
    const dir = tempDir();
    const plan = await planNow();
    const victim = plan.changes[1]!;
    await rawUpdate({ account_sid: victim.accountSid, sid: victim.sid }, { VoiceUrl: 'https://someone-else.example.org/fax' });
    const report = await applyPlan(plan, { directory: directory(), rollbackPath: join(dir, 'rollback.json'), dryRun: false, concurrency: 2 });
    const result = report.results.find((r) => r.sid === victim.sid)!;
    expect(result.outcome).toBe('skipped-stale');
    expect(result.differences?.map((d) => d.field)).toEqual(['voiceUrl']);
    expect(report.summary.applied).toBe(plan.changes.length - 1);
    const now = (await allRawNumbers()).find((n) => n.sid === victim.sid)!;
    expect(now.voice_receive_mode).toBe('fax');
    expect(now.voice_url).toBe('https://someone-else.example.org/fax');
    expect((await readRollbackFile(join(dir, 'rollback.json'))).entries.map((e) => e.sid)).not.toContain(victim.sid);
  });

  it('a crash half-way, then re-apply, finishes with no double change and a complete rollback file', async () => {
    const dir = tempDir();
    const plan = await planNow();
    expect(plan.changes.length).toBeGreaterThanOrEqual(4);
    const rollbackPath = join(dir, 'rollback.json');

    // The "crash": the third update reaches Twilio, then the process never hears back (and never
    // writes again); the first run's promise is abandoned as a dead process would be.
    const real = directory();
    let updates = 0;
    const crashing: NumberDirectory = {
      accountSid: real.accountSid,
      listAccounts: (s) => real.listAccounts(s),
      listNumbers: (a) => real.listNumbers(a),
      fetchNumber: (a, s) => real.fetchNumber(a, s),
      updateNumber: async (a, s, u) => {
        updates++;
        const answer = await real.updateNumber(a, s, u);
        if (updates === 3) await new Promise(() => {});
        return answer;
      },
    };
    void applyPlan(plan, { directory: crashing, rollbackPath, dryRun: false, concurrency: 1 });
    await waitFor(async () => updates === 3 && (await readRollbackFile(rollbackPath)).entries.length === 3);
    const afterCrash = await readRollbackFile(rollbackPath);
    expect(afterCrash.entries.map((e) => e.status)).toEqual(['applied', 'applied', 'pending']);

    let secondUpdates = 0;
    const counting: NumberDirectory = { ...crashing, updateNumber: (a, s, u) => { secondUpdates++; return real.updateNumber(a, s, u); } };
    const report = await applyPlan(plan, { directory: counting, rollbackPath, dryRun: false, concurrency: 2 });
    expect(report.summary).toMatchObject({ 'already-applied': 3, applied: plan.changes.length - 3, failed: 0 });
    expect(secondUpdates).toBe(plan.changes.length - 3);

    const file = await readRollbackFile(rollbackPath);
    expect(file.entries.map((e) => e.sid).sort()).toEqual(plan.changes.map((c) => c.sid).sort());
    expect(file.entries.every((e) => e.status === 'applied')).toBe(true);
    for (const entry of file.entries) expect(entry.prior).toEqual(plan.changes.find((c) => c.sid === entry.sid)!.before);

    // And applying once more changes nothing at all.
    secondUpdates = 0;
    const again = await applyPlan(plan, { directory: counting, rollbackPath, dryRun: false, concurrency: 2 });
    expect(again.summary['already-applied']).toBe(plan.changes.length);
    expect(secondUpdates).toBe(0);
  });

  it('rollback restores the exact prior state, skipping a number changed since', async () => {
    const dir = tempDir();
    const plan = await planNow();
    const rollbackPath = join(dir, 'rollback.json');
    await applyPlan(plan, { directory: directory(), rollbackPath, dryRun: false, concurrency: 2 });
    const moved = plan.changes[0]!;
    await rawUpdate({ account_sid: moved.accountSid, sid: moved.sid }, { VoiceUrl: 'https://hand-edited.example.org/' });

    const file = await readRollbackFile(rollbackPath);
    const dry = await rollbackChanges(file, { directory: directory(), dryRun: true, concurrency: 2 });
    expect(dry.summary['would-apply']).toBe(plan.changes.length - 1);

    const report = await rollbackChanges(file, { directory: directory(), dryRun: false, concurrency: 2 });
    expect(report.summary).toMatchObject({ applied: plan.changes.length - 1, 'skipped-stale': 1, failed: 0 });
    const now = await allRawNumbers();
    for (const number of initial) {
      const current = now.find((n) => n.sid === number.sid)!;
      if (number.sid === moved.sid) expect(current.voice_url).toBe('https://hand-edited.example.org/');
      else expect(pick(current)).toEqual(pick(number));
    }
    // Rolling back twice is harmless.
    const twice = await rollbackChanges(file, { directory: directory(), dryRun: false, concurrency: 2 });
    expect(twice.summary.applied).toBe(0);
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached');
}
