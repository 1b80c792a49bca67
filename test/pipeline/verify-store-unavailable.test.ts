/**
 * Issue 14 §3: a store that does not answer the HEAD of a verification gives no verdict
 * (`unavailable`). It used to be reported as a checksum failure ("could not be verified"), which
 * refused the whole run's deletions as if the store were suspect, and marked the fax failed, so the
 * next run fetched it from Twilio again. Now the fax keeps its state, the run's deletions are not
 * blocked, nothing is downloaded again, and a later run with the store back verifies and deletes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { readCatalog, runCli, startRewritingProxy, summaryOf, type CliRun } from '../archive/archive-cli.js';

const NOW = '2021-12-01T00:00:00Z';
const BUCKET = 'verify-unavailable';

/** What a run interrupted between its upload and its verification leaves: objects stored, unproven. */
function leaveStoredUnverified(catalogPath: string, sids: readonly string[]): void {
  const db = new Database(catalogPath, { fileMustExist: true });
  try {
    for (const sid of sids) {
      db.prepare(`UPDATE faxes SET state = 'stored' WHERE sid = ?`).run(sid);
      db.prepare('UPDATE objects SET verified_at = NULL, verification_method = NULL WHERE fax_sid = ?').run(sid);
    }
  } finally {
    db.close();
  }
}

describe(`S3 (${process.env.FAX_SUNSET_TEST_S3 ?? 'moto, else s3rver'}): verification HEAD that keeps failing`, () => {
  let s3: TestS3Server;
  let proxy: FaultProxy;
  let emu: TestEmulator;
  let dir: string;
  let catalogPath: string;
  let s3Env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    proxy = await startFaultProxy({ target: s3.endpoint, seed: 5 });
    emu = await startTestEmulator({ faxes: 6, accounts: 0, numbers: 2, seed: 1414 });
    dir = mkdtempSync(join(tmpdir(), 'fax-sunset-verify-unavailable-'));
    catalogPath = join(dir, 'catalog.sqlite');
    s3Env = { ...emu.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
  });
  afterAll(async () => {
    await emu?.close();
    await proxy?.close();
    await s3?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: string[], endpoint: string, env: Record<string, string> = s3Env): Promise<CliRun> =>
    runCli(['sync', '--now', NOW, '--json', '--catalog', catalogPath, '--store', `s3://${BUCKET}/a`, '--s3-endpoint', endpoint, ...extra], { cwd: dir, env });

  it('is neither a checksum mismatch that blocks deletions nor a new download; a later run verifies and deletes', async () => {
    const fresh = [emu.emulator.createFax({ status: 'received' }), emu.emulator.createFax({ status: 'received' })].map((f) => String(f.sid));
    const first = await run([], s3.endpoint);
    expect(first.code, first.stderr).toBe(0);
    const { objects } = readCatalog(catalogPath);
    for (const sid of fresh) {
      expect(readCatalog(catalogPath).faxes.get(sid)?.state, sid).toBe('verified');
      expect(objects.some((o) => o.fax_sid === sid && o.kind === 'media'), sid).toBe(true);
    }
    leaveStoredUnverified(catalogPath, fresh);
    const mediaBefore = emu.emulator.stats().mediaRequests;

    // The store answers the run's start-up check (a HEAD on the bucket); from the second listing
    // page request on, every HEAD fails (SlowDown), so the verification of the stored faxes gets
    // no answer. (The run's first fax request is its check before writes.)
    let faxRequests = 0;
    const twilioProxy = await startRewritingProxy(emu.url, (body, request) => {
      if (request.method === 'GET' && request.path.includes('/Faxes') && ++faxRequests >= 2) proxy.setFaults({ rate: 1, kinds: ['503'], methods: ['HEAD'] });
      return body;
    });
    const failing = await run(['--delete'], proxy.url, { ...s3Env, FAX_SUNSET_TWILIO_URL: twilioProxy.url }).finally(() => twilioProxy.close());
    const headFaults = proxy.stats().injected['503'];
    proxy.setFaults({ rate: 0, kinds: [] });
    expect(headFaults).toBeGreaterThan(0);
    expect(failing.code, failing.stderr).toBe(1);
    const summary = summaryOf(failing)!;
    // Not a checksum mismatch: the run's deletions are not refused as if the store were suspect.
    expect(summary.deletionBlockedReason).toBeNull();
    expect(`${failing.stdout}\n${failing.stderr}`).not.toMatch(/"checksumMismatch":true|could not be verified/);
    // Not a new download: Twilio's media host was not asked again, and the faxes keep their state.
    expect(emu.emulator.stats().mediaRequests).toBe(mediaBefore);
    const during = readCatalog(catalogPath);
    for (const sid of fresh) {
      expect(during.faxes.get(sid)?.state, sid).toBe('stored');
      expect(emu.emulator.faxes().some((f) => String(f.sid) === sid), sid).toBe(true);
    }

    // The store is back: the stored objects are verified as they are, then deleted from Twilio.
    const later = await run(['--delete'], s3.endpoint);
    expect(later.code, later.stderr).toBe(0);
    expect(emu.emulator.stats().mediaRequests).toBe(mediaBefore);
    const after = readCatalog(catalogPath);
    for (const sid of fresh) {
      expect(after.faxes.get(sid)?.state, sid).toBe('deleted');
      expect(emu.emulator.faxes().some((f) => String(f.sid) === sid), sid).toBe(false);
    }
  });
});
