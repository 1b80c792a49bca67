/**
 * Issue 3, "Done means" 4: bad credentials, an unreachable Twilio, an invalid store URL, an
 * unwritable catalog folder, a held lock, a malformed API page, and plain usage errors each give
 * their exit code and ONE clear line on stderr, delete nothing, and leave nothing that blocks the
 * next correct run (the last test makes that run, on the same catalog, and it finishes with exit 0).
 *
 * Every case spawns the real CLI with `--delete`, so "no deletion happened" is a real claim.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { acquireCatalogLock } from '../../src/catalog/catalog-lock.js';
import { freePort } from '../../src/free-port.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { readCatalog, runCli, startRewritingProxy, stderrLines, summaryOf, type CliRun } from './archive-cli.js';

const FAXES = 12;
const BUCKET = 'bad-input';
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

let emu: TestEmulator;
let s3: TestS3Server;
let dir: string;
let catalogPath: string;
let initialSids: string[];

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  emu = await startTestEmulator({ faxes: FAXES, accounts: 1, numbers: 2, seed: 505 });
  initialSids = emu.emulator.faxes().map((f) => String(f.sid)).sort();
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-bad-input-'));
  catalogPath = join(dir, 'archive', 'catalog.sqlite');
});

afterAll(async () => {
  await emu?.close();
  await s3?.close();
  if (dir) {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
});

beforeEach(() => emu.emulator.resetStats());

function s3Env(): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
}

/** `archive --subaccounts --delete` on the shared catalog and bucket, with overrides. */
function archive(extra: string[], options: { env?: Record<string, string | undefined>; catalog?: string; store?: string } = {}): Promise<CliRun> {
  return runCli(
    [
      'archive', '--subaccounts', '--delete', '--quiet', '--now', '2021-12-01T00:00:00Z',
      '--catalog', options.catalog ?? catalogPath, '--store', options.store ?? `s3://${BUCKET}/archive`, '--s3-endpoint', s3.endpoint,
      ...extra,
    ],
    { cwd: dir, env: { ...emu.env, ...s3Env(), ...options.env }, timeoutMs: 60_000 },
  );
}

/** The exit code, exactly one stderr line saying what is wrong, and not one fax gone. */
function expectRefused(run: CliRun, code: number, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  const lines = stderrLines(run);
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fax-sunset: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0]).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  expectNothingDeleted();
}

function expectNothingDeleted(): void {
  expect(emu.emulator.faxes().map((f) => String(f.sid)).sort()).toEqual(initialSids);
  const stats = emu.emulator.stats();
  expect(stats.faxesDeleted).toBe(0);
  expect(Object.keys(stats.requests).filter((route) => route.startsWith('DELETE '))).toEqual([]);
}

/** The emulator's API behind a proxy that spoils every fax list page as `spoil` says. */
async function startPageSpoiler(spoil: 'malformed-json' | 'foreign-next-page'): Promise<{ url: string; spoiled: () => number; close(): Promise<void> }> {
  let spoiled = 0;
  const proxy = await startRewritingProxy(emu.url, (body, request) => {
    if (request.method !== 'GET' || !/^\/v1\/Faxes(\?|$)/.test(request.path) || request.status !== 200) return body;
    spoiled++;
    if (spoil === 'malformed-json') return body.slice(0, Math.floor(body.length / 2));
    const page = JSON.parse(body) as { meta: Record<string, unknown> };
    page.meta.next_page_url = 'https://fax.evil.example.com/v1/Faxes?PageSize=1000&Page=1';
    return JSON.stringify(page);
  });
  return { url: proxy.url, spoiled: () => spoiled, close: () => proxy.close() };
}

describe('archive refuses bad input with its exit code, one clear line, and no deletion', () => {
  it('bad Twilio credentials: exit 2, and nothing written: no catalog, no media folder, no run record (issue 17 §7)', async () => {
    const fresh = join(dir, 'wrong-token');
    const run = await archive([], { env: { TWILIO_AUTH_TOKEN: 'f'.repeat(32) }, catalog: join(fresh, 'catalog.sqlite') });
    expectRefused(run, 2, /Twilio refused the credentials/);
    expect(run.stderr).not.toContain('f'.repeat(32));
    expect(existsSync(fresh)).toBe(false);
  });

  it('missing Twilio credentials: exit 2', async () => {
    const run = await archive([], { env: { TWILIO_AUTH_TOKEN: undefined } });
    expectRefused(run, 2, /TWILIO_AUTH_TOKEN|credentials/);
  });

  it('an unreachable Twilio (refused, unknown host, TLS to a plain port): exit 2 naming the host, nothing written, one --json summary line (issue 17 §4)', async () => {
    const port = await freePort();
    const fresh = join(dir, 'unreachable');
    const cases: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${port}`, new RegExp(`cannot reach Twilio at 127\\.0\\.0\\.1:${port}`)],
      ['http://no-such-host.invalid', /cannot reach Twilio at no-such-host\.invalid/],
      [emu.url.replace('http://', 'https://'), /cannot reach Twilio at 127\.0\.0\.1/],
    ];
    for (const [url, pattern] of cases) {
      // (Each case waits out the retries a network error gets: one run per case keeps the file quick.)
      const json = await archive(['--twilio-url', url, '--json'], { catalog: join(fresh, 'catalog.sqlite') });
      expectRefused(json, 2, pattern);
      const lines = json.stdout.split('\n').filter((line) => line.trim() !== '');
      expect(lines, json.stdout).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'summary', command: 'archive', exitCode: 2 });
      expect(JSON.parse(lines[0]!).error).toMatch(pattern);
    }
    expect(existsSync(fresh)).toBe(false);
  });

  it('an unreachable S3 endpoint: exit 2 naming the endpoint, before the catalog exists (issue 17 §4, §11)', async () => {
    const port = await freePort();
    const fresh = join(dir, 'unreachable-s3', 'catalog.sqlite');
    const run = await archive(['--s3-endpoint', `http://127.0.0.1:${port}`], { catalog: fresh });
    expectRefused(run, 2, new RegExp(`cannot reach the S3 endpoint http://127\\.0\\.0\\.1:${port} for the store s3://${BUCKET}/archive`));
    expect(existsSync(dirname(fresh))).toBe(false);
  });

  it('an invalid store URL: exit 2, before anything is opened', async () => {
    const fresh = join(dir, 'invalid-store', 'catalog.sqlite');
    for (const store of ['ftp://archive.example.com/faxes', 's3://Bad_Bucket/faxes', 's3:///no-bucket', 'file://relative/path']) {
      const run = await archive([], { store, catalog: fresh });
      expectRefused(run, 2, /--store/);
    }
    expect(existsSync(fresh)).toBe(false);
  });

  it('a store bucket that does not exist: exit 2', async () => {
    const fresh = join(dir, 'missing-bucket', 'catalog.sqlite');
    const run = await archive([], { store: 's3://no-such-bucket-here/faxes', catalog: fresh });
    expectRefused(run, 2, /bucket no-such-bucket-here does not exist/);
    expect(stderrLines(run)[0]).toContain(`(S3 endpoint ${s3.endpoint})`); // issue 17 §11: where
    expect(existsSync(dirname(fresh))).toBe(false); // not even the catalog's folder (issue 17 §7)
  });

  it('an unwritable catalog folder: exit 2 (a folder path that runs through a file)', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const run = await archive([], { catalog: join(file, 'catalog.sqlite') });
    expectRefused(run, 2, /catalog folder/);
  });

  it.skipIf(IS_ROOT)('an unwritable catalog folder: exit 2 (chmod 0500; skipped as root, who writes anyway)', async () => {
    const locked = join(dir, 'read-only');
    mkdirSync(locked, { mode: 0o700 });
    chmodSync(locked, 0o500);
    try {
      const run = await archive([], { catalog: join(locked, 'sub', 'catalog.sqlite') });
      expectRefused(run, 2, /catalog folder|catalog/);
    } finally {
      chmodSync(locked, 0o700);
    }
  });

  it('the catalog lock held by another process: exit 3', async () => {
    mkdirSync(join(dir, 'archive'), { recursive: true });
    const lock = acquireCatalogLock(catalogPath, { command: 'archive (held by the test)' });
    try {
      const run = await archive([]);
      expectRefused(run, 3, /holds the catalog lock/);
    } finally {
      lock.release();
    }
  });

  it('a malformed API page (cut-short JSON): a clear error after retries, no deletion', async () => {
    const spoiler = await startPageSpoiler('malformed-json');
    try {
      const run = await archive(['--twilio-url', spoiler.url, '--json']);
      expect(spoiler.spoiled()).toBeGreaterThan(1); // retried: a cut-short page may be a network hiccup
      // Issue 11 §4: each account's failed listing is its own trouble: named, exit 1, nothing deleted.
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/listing failed: Twilio sent a malformed response to GET \/v1\/Faxes/);
      const failed = (summaryOf(run)?.accountsFailed ?? []) as Array<{ sid: string; reason: string }>;
      expect(failed.map((a) => a.sid).sort()).toEqual(emu.emulator.accounts.map((a) => a.sid).sort());
      expectNothingDeleted();
    } finally {
      await spoiler.close();
    }
  });

  it('a next_page_url on another host: refused before any credential leaves, exit 4, no deletion', async () => {
    const spoiler = await startPageSpoiler('foreign-next-page');
    try {
      const run = await archive(['--twilio-url', spoiler.url]);
      expect(spoiler.spoiled()).toBeGreaterThan(0);
      expectRefused(run, 4, /refused to send Twilio credentials to https:\/\/fax\.evil\.example\.com/);
      // The run failed after its run record was started: the record is closed, not "running" forever (issue 17 §7).
      const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
      try {
        const runs = db.prepare('SELECT id, finished_at, exit_code FROM runs').all() as Array<{ finished_at: string | null; exit_code: number | null }>;
        expect(runs.length).toBeGreaterThan(0);
        for (const r of runs) expect(r.finished_at).not.toBeNull();
        expect(runs.at(-1)!.exit_code).toBe(4);
      } finally {
        db.close();
      }
    } finally {
      await spoiler.close();
    }
  });

  it('usage errors: unknown flag, bad --since, bad --workers, --max-delete without --delete: exit 2', async () => {
    for (const args of [['--no-such-flag'], ['--since', 'last tuesday'], ['--workers', '0']]) {
      const run = await archive(args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      const lines = stderrLines(run).filter((line) => !line.startsWith('(run with --help'));
      expect(lines, run.stderr).toHaveLength(1);
      expectNothingDeleted();
    }
    const withoutDelete = await runCli(
      ['archive', '--max-delete', '3', '--quiet', '--catalog', catalogPath, '--store', `s3://${BUCKET}/archive`, '--s3-endpoint', s3.endpoint],
      { cwd: dir, env: { ...emu.env, ...s3Env() } },
    );
    expectRefused(withoutDelete, 2, /--max-delete only makes sense with --delete/);
  });

  it('none of that blocks the next correct run: it archives everything and deletes it, exit 0', async () => {
    const run = await archive([]);
    expect(run.code, run.stderr).toBe(0);
    expect(emu.emulator.faxes()).toEqual([]);
    const catalog = readCatalog(catalogPath);
    expect([...catalog.faxes.keys()].sort()).toEqual(initialSids);
    for (const row of catalog.faxes.values()) expect(row.state).toBe('deleted');
  });
});
