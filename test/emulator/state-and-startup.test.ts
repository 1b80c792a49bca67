/**
 * `--state FILE` (changes survive a restart), the `fax-sunset emulator` start-up line, and the data
 * flags (--faxes/--numbers/--accounts/--seed) shaping a realistic world.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type EmulatorStatsSnapshot } from '../../src/emulator/index.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const DAY_MS = 86_400_000;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-emu-state-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface FaxJson {
  sid: string;
  account_sid: string;
  status: string;
  direction: string;
  quality: string;
  date_created: string;
  date_updated: string;
  media_sid: string | null;
  media_url: string | null;
  num_pages: number | null;
  price: string | null;
  price_unit: string | null;
  links: { media: string };
  [k: string]: unknown;
}

/** What must survive a restart: everything but the origin-bearing and freshly signed URLs. */
function durable(faxes: Record<string, unknown>[]): Record<string, unknown>[] {
  return faxes.map(({ url: _url, media_url: mediaUrl, links: _links, ...rest }) => ({ ...rest, hasMediaUrl: mediaUrl !== null }));
}

async function call(emu: TestEmulator, method: string, path: string, form?: Record<string, string>): Promise<Response> {
  return fetch(emu.url + path, {
    method,
    headers: { Authorization: emu.basicAuth(), ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
}

describe('--state FILE', () => {
  const world = (stateFile: string): EmulatorOptions => ({ faxes: 20, numbers: 3, accounts: 1, seed: 8, stateFile });

  it('keeps deletions and updates across a restart', async () => {
    const stateFile = join(tempDir(), 'emulator-state.jsonl');
    const first = await startTestEmulator(world(stateFile));
    let deleted: string[];
    let mediaGone: string;
    let canceled: string;
    let changed: { sid: string; mediaSid: string };
    let numberSid: string;
    let before: Record<string, unknown>[];
    let numbersBefore: Record<string, unknown>[];
    try {
      const own = (first.emulator.faxes(first.accountSid) as unknown as FaxJson[]).filter((f) => f.media_sid !== null);
      expect(own.length).toBeGreaterThanOrEqual(4);
      const [a, b, c, d] = own as [FaxJson, FaxJson, FaxJson, FaxJson];

      // Two faxes deleted through the Fax API.
      deleted = [a.sid, b.sid];
      for (const sid of deleted) expect((await call(first, 'DELETE', `/v1/Faxes/${sid}`)).status).toBe(204);
      // One fax's media deleted.
      expect((await call(first, 'DELETE', `/v1/Faxes/${c.sid}/Media/${c.media_sid}`)).status).toBe(204);
      mediaGone = c.sid;
      // One fax updated: a queued fax created, then canceled through the API.
      const queued = await fetch(`${first.url}/_emulator/faxes`, { method: 'POST', body: JSON.stringify({ status: 'queued', direction: 'outbound' }) });
      expect(queued.status).toBe(201);
      canceled = ((await queued.json()) as FaxJson).sid;
      const cancel = await call(first, 'POST', `/v1/Faxes/${canceled}`, { Status: 'canceled' });
      expect(cancel.status).toBe(200);
      expect(((await cancel.json()) as FaxJson).status).toBe('canceled');
      // One fax changed late by Twilio (new media).
      const late = first.emulator.updateFax(d.sid, { media: 'changed' }) as unknown as FaxJson;
      expect(late.media_sid).not.toBe(d.media_sid);
      changed = { sid: d.sid, mediaSid: late.media_sid as string };
      // One number reverted to voice.
      const number = first.emulator.numbers(first.accountSid)[0] as { sid: string };
      numberSid = number.sid;
      const update = await call(first, 'POST', `/2010-04-01/Accounts/${first.accountSid}/IncomingPhoneNumbers/${numberSid}.json`, {
        VoiceReceiveMode: 'voice',
        VoiceUrl: 'https://voice.example.com/desk',
        FriendlyName: 'Front desk (was fax)',
      });
      expect(update.status).toBe(200);

      before = durable(first.emulator.faxes());
      numbersBefore = first.emulator.numbers();
    } finally {
      await first.close();
    }

    const second = await startTestEmulator(world(stateFile));
    try {
      expect(durable(second.emulator.faxes())).toEqual(before);
      expect(second.emulator.numbers()).toEqual(numbersBefore);
      for (const sid of deleted) expect((await call(second, 'GET', `/v1/Faxes/${sid}`)).status).toBe(404);
      const noMedia = (await (await call(second, 'GET', `/v1/Faxes/${mediaGone}`)).json()) as FaxJson;
      expect(noMedia.media_sid).toBeNull();
      const wasCanceled = (await (await call(second, 'GET', `/v1/Faxes/${canceled}`)).json()) as FaxJson;
      expect(wasCanceled.status).toBe('canceled');
      const late = (await (await call(second, 'GET', `/v1/Faxes/${changed.sid}`)).json()) as FaxJson;
      expect(late.media_sid).toBe(changed.mediaSid);
      const n = (await (await call(second, 'GET', `/2010-04-01/Accounts/${second.accountSid}/IncomingPhoneNumbers/${numberSid}.json`)).json()) as Record<string, unknown>;
      expect(n).toMatchObject({ voice_receive_mode: 'voice', voice_url: 'https://voice.example.com/desk', friendly_name: 'Front desk (was fax)' });
      const stats = (await (await fetch(`${second.url}/_emulator/stats`)).json()) as EmulatorStatsSnapshot;
      expect(stats.faxesLeft[second.accountSid]).toBe(before.filter((f) => f.account_sid === second.accountSid).length);
    } finally {
      await second.close();
    }

    // Without the file the same seed gives the untouched world: the file did the remembering.
    const fresh = await startTestEmulator({ ...world(join(tempDir(), 'other.jsonl')) });
    try {
      expect(fresh.emulator.faxes().some((f) => f.sid === deleted[0])).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('a fax created after a restart never reuses the sid of one created (and deleted) before it', async () => {
    const stateFile = join(tempDir(), 'emulator-state.jsonl');
    const first = await startTestEmulator(world(stateFile));
    const made: string[] = [];
    try {
      // Each creation with media draws two sids (fax, media) but journals one line.
      for (let i = 0; i < 2; i++) made.push(first.emulator.createFax({ status: 'received' }).sid as string);
      for (const sid of made) expect((await call(first, 'DELETE', `/v1/Faxes/${sid}`)).status).toBe(204);
    } finally {
      await first.close();
    }
    const second = await startTestEmulator(world(stateFile));
    try {
      const again = [1, 2, 3].map(() => second.emulator.createFax({ status: 'received' }).sid as string);
      for (const sid of again) expect(made).not.toContain(sid);
      expect(new Set(again).size).toBe(3);
    } finally {
      await second.close();
    }
  });

  it('refuses a state file written for other generation options, and ignores a torn last line', async () => {
    const stateFile = join(tempDir(), 'emulator-state.jsonl');
    const first = await startTestEmulator(world(stateFile));
    const victim = first.emulator.faxes()[0]?.sid as string;
    expect(first.emulator.pruneFax(victim)).toBe(true);
    await first.close();

    await expect(startEmulator({ ...world(stateFile), seed: 9 })).rejects.toThrow(/other --seed/);

    // Killed mid-write: the half line is dropped, the complete ones replayed.
    appendFileSync(stateFile, '{"op":"delete-fax","si');
    const second = await startTestEmulator(world(stateFile));
    try {
      expect(second.emulator.faxes().some((f) => f.sid === victim)).toBe(false);
      expect(second.emulator.faxes()).toHaveLength(19);
      const extra = second.emulator.createFax({});
      expect(second.emulator.faxes().some((f) => f.sid === extra.sid)).toBe(true);
    } finally {
      await second.close();
    }
    // The torn line did not glue itself to the entry written after it.
    const third = await startTestEmulator(world(stateFile));
    try {
      expect(third.emulator.faxes()).toHaveLength(20);
    } finally {
      await third.close();
    }
  });
});

interface StartupLine {
  url: string;
  mediaUrl: string;
  accounts: { sid: string; authToken: string; friendlyName: string }[];
}

/** Spawns `fax-sunset emulator ...` from source (absolute tsx loader, temp cwd) and reads its first stdout line. */
async function spawnEmulator(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(REPO, 'src/cli.ts'), 'emulator', ...args], {
    cwd: tempDir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`emulator exited ${code} before its start-up line: ${stderr}`)));
    });
    return { child, line };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

const basic = (sid: string, token: string) => 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');

describe('fax-sunset emulator (CLI)', () => {
  it('prints one JSON line {url, mediaUrl, accounts, apiKeys} with the main account first, serves it, and stops on SIGTERM', async () => {
    const { child, line } = await spawnEmulator(['--port', '0', '--faxes', '5']);
    try {
      const startup = JSON.parse(line) as StartupLine;
      expect(Object.keys(startup).sort()).toEqual(['accounts', 'apiKeys', 'mediaUrl', 'url']);
      expect(startup.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(startup.mediaUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(startup.mediaUrl).not.toBe(startup.url);
      expect(startup.accounts).toHaveLength(3); // default: the main account and 2 subaccounts
      for (const a of startup.accounts) {
        expect(Object.keys(a).sort()).toEqual(['authToken', 'friendlyName', 'sid', 'status']);
        expect(a).toMatchObject({ status: 'active' });
        expect(a.sid).toMatch(/^AC[0-9a-f]{32}$/);
        expect(a.authToken).toMatch(/^[0-9a-f]{32}$/);
      }
      const [main, ...subs] = startup.accounts as [StartupLine['accounts'][0], ...StartupLine['accounts']];

      // The first account is the parent: it sees every account, each sub owned by it.
      const res = await fetch(`${startup.url}/2010-04-01/Accounts.json`, { headers: { Authorization: basic(main.sid, main.authToken) } });
      expect(res.status).toBe(200);
      const listed = ((await res.json()) as { accounts: { sid: string; owner_account_sid: string }[] }).accounts;
      expect(listed.map((a) => a.sid).sort()).toEqual(startup.accounts.map((a) => a.sid).sort());
      for (const sub of subs) expect(listed.find((a) => a.sid === sub.sid)?.owner_account_sid).toBe(main.sid);

      const stats = (await (await fetch(`${startup.url}/_emulator/stats`)).json()) as EmulatorStatsSnapshot;
      expect(Object.values(stats.faxesLeft).reduce((x, y) => x + y, 0)).toBe(5);
      const faxes = await fetch(`${startup.url}/v1/Faxes`, { headers: { Authorization: basic(main.sid, main.authToken) } });
      expect(faxes.status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('--faxes/--numbers/--accounts/--seed shape the world: counts match, and the same seed gives the same world', async () => {
    const flags = (seed: string) => ['--port', '0', '--faxes', '30', '--numbers', '5', '--accounts', '3', '--seed', seed];
    const runs = await Promise.all([spawnEmulator(flags('9')), spawnEmulator(flags('9')), spawnEmulator(flags('10'))]);
    try {
      const worlds = await Promise.all(
        runs.map(async ({ line }) => {
          const startup = JSON.parse(line) as StartupLine;
          const faxes = (await (await fetch(`${startup.url}/_emulator/faxes`)).json()) as FaxJson[];
          const numbers = (await (await fetch(`${startup.url}/_emulator/numbers`)).json()) as { sid: string; account_sid: string; voice_receive_mode: string }[];
          return { startup, faxes, numbers };
        }),
      );
      for (const { startup, faxes, numbers } of worlds) {
        expect(startup.accounts).toHaveLength(4);
        expect(faxes).toHaveLength(30);
        expect(numbers).toHaveLength(5);
        const sids = new Set(startup.accounts.map((a) => a.sid));
        for (const n of numbers) expect(sids.has(n.account_sid)).toBe(true);
        for (const f of faxes) expect(sids.has(f.account_sid)).toBe(true);
      }
      const [a, b, c] = worlds as [(typeof worlds)[0], (typeof worlds)[0], (typeof worlds)[0]];
      expect(b.startup.accounts).toEqual(a.startup.accounts);
      expect(b.faxes.map((f) => f.sid)).toEqual(a.faxes.map((f) => f.sid));
      expect(b.numbers).toEqual(a.numbers);
      expect(c.startup.accounts[0]?.sid).not.toBe(a.startup.accounts[0]?.sid);
      expect(c.faxes.map((f) => f.sid)).not.toEqual(a.faxes.map((f) => f.sid));
    } finally {
      for (const { child } of runs) expect(await stop(child)).toBe(0);
    }
  });
});

describe('generated data', () => {
  it('is a realistic fax account: statuses, directions, qualities, PDF/TIFF mix, string prices, dates within 180 days, fax and voice numbers', async () => {
    const now = new Date('2021-12-01T00:00:00Z');
    const emu = await startTestEmulator({ faxes: 300, numbers: 6, accounts: 2, seed: 12, now });
    try {
      const faxes = emu.emulator.faxes() as unknown as FaxJson[];
      expect(faxes).toHaveLength(300);
      expect(emu.emulator.accounts).toHaveLength(3);
      // Every account has faxes; the main account has about twice a subaccount's share.
      const per = emu.emulator.accounts.map((a) => faxes.filter((f) => f.account_sid === a.sid).length);
      for (const count of per) expect(count).toBeGreaterThan(30);
      expect(per[0]).toBeGreaterThan(Math.max(...per.slice(1)));

      const statuses = new Set(faxes.map((f) => f.status));
      expect(statuses.has('delivered') && statuses.has('received') && statuses.has('failed')).toBe(true);
      expect(statuses.size).toBeGreaterThanOrEqual(4);
      expect(new Set(faxes.map((f) => f.direction))).toEqual(new Set(['inbound', 'outbound']));
      expect(new Set(faxes.map((f) => f.quality)).size).toBeGreaterThanOrEqual(2);

      for (const f of faxes) {
        const ok = f.status === 'delivered' || f.status === 'received';
        // Prices travel as strings ("0.014"), only on completed faxes; media only on them too.
        if (ok) {
          expect(f.price).toMatch(/^\d+\.\d{3}$/);
          expect(f.media_sid).toMatch(/^ME[0-9a-f]{32}$/);
          expect(f.num_pages).toBeGreaterThanOrEqual(1);
        } else {
          expect(f.price).toBeNull();
          // Outbound faxes that ended unsent often kept their document (issue 12 §3); nothing else has media.
          if (!(f.direction === 'outbound' && ['failed', 'busy', 'no-answer'].includes(f.status))) expect(f.media_sid).toBeNull();
        }
        // No price, no unit (as real payloads had it); busy faxes have no duration.
        expect(f.price_unit).toBe(f.price === null ? null : 'USD');
        if (f.status === 'busy') expect(f.duration).toBeNull();
        const created = Date.parse(f.date_created);
        expect(created).toBeLessThanOrEqual(now.getTime());
        expect(created).toBeGreaterThan(now.getTime() - 180 * DAY_MS);
        expect(Date.parse(f.date_updated)).toBeGreaterThanOrEqual(created);
      }
      // Spread over the window, not bunched at one end.
      const ages = faxes.map((f) => (now.getTime() - Date.parse(f.date_created)) / DAY_MS);
      expect(Math.min(...ages)).toBeLessThan(20);
      expect(Math.max(...ages)).toBeGreaterThan(160);

      // Content types as a client learns them: the Media subresource, with the owning account's credentials.
      const types: Record<string, number> = {};
      for (const f of faxes.filter((x) => x.media_sid !== null)) {
        const owner = emu.emulator.accounts.find((a) => a.sid === f.account_sid) as { sid: string; authToken: string };
        const res = await fetch(f.links.media, { headers: { Authorization: emu.basicAuth(owner.sid, owner.authToken) } });
        const type = ((await res.json()) as { media: { content_type: string }[] }).media[0]?.content_type as string;
        types[type] = (types[type] ?? 0) + 1;
      }
      expect(Object.keys(types).sort()).toEqual(['application/pdf', 'image/tiff']);
      expect(types['application/pdf']).toBeGreaterThan(types['image/tiff'] as number);
      expect(types['image/tiff']).toBeGreaterThan(20);

      const numbers = emu.emulator.numbers() as { voice_receive_mode: string; account_sid: string }[];
      expect(numbers).toHaveLength(6);
      expect(numbers.filter((n) => n.voice_receive_mode === 'fax')).toHaveLength(4);
      expect(numbers.filter((n) => n.voice_receive_mode === 'voice')).toHaveLength(2);
      expect(new Set(numbers.map((n) => n.account_sid)).size).toBe(3);
    } finally {
      await emu.close();
    }
  });
});
