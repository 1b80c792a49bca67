/**
 * Issue 11 §1, "Proof at the moment of deletion". The runbook's own order: `archive` (no delete),
 * later `archive --delete` or `sync --delete`. An object overwritten or removed in the store in
 * between (a lifecycle rule, a person, another tool) used to be deleted from Twilio on the strength
 * of the old verification (4 of 4 deleted, exit 0). Now the store is asked again immediately before
 * each DELETE: those faxes stay on Twilio and are archived again in the same run; the rest go.
 */
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { readCatalog, readObject, runCli, sha256Hex, startRewritingProxy, summaryOf, type CliRun } from '../archive/archive-cli.js';

const NOW = '2021-12-01T00:00:00Z';

interface World {
  emu: TestEmulator;
  dir: string;
  catalogPath: string;
}

async function world(seed: number): Promise<World> {
  const emu = await startTestEmulator({ faxes: 8, accounts: 0, numbers: 2, seed });
  const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-pre-delete-'));
  return { emu, dir, catalogPath: join(dir, 'catalog.sqlite') };
}

/** Faxes a deleting run would delete: archived, with a final Twilio status. */
function deletableSids(catalogPath: string): string[] {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT sid FROM faxes WHERE state IN ('verified','metadata-only')
      AND status IN ('delivered','received','no-answer','busy','failed','canceled') ORDER BY sid`).all() as { sid: string }[]).map((r) => r.sid);
  } finally {
    db.close();
  }
}

function deletionRows(catalogPath: string): Array<{ fax_sid: string; run_id: number; proof_at: string | null; proof_method: string | null; proof_run_id: number | null; proof: string | null; receipt_at: string | null }> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT fax_sid, run_id, proof_at, proof_method, proof_run_id, proof, receipt_at FROM deletions ORDER BY id').all() as never;
  } finally {
    db.close();
  }
}

function findingsOf(catalogPath: string): Array<{ fax_sid: string; outcome: string; detail: string | null }> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT fax_sid, outcome, detail FROM findings ORDER BY id').all() as never;
  } finally {
    db.close();
  }
}

function onTwilio(emu: TestEmulator): Set<string> {
  return new Set(emu.emulator.faxes().map((f) => String(f.sid)));
}

/** What every deletion row must show: a proof of its own run, taken before the intent, covering every object. */
function expectProofOnEveryDeletion(catalogPath: string): void {
  const { objects } = readCatalog(catalogPath);
  for (const row of deletionRows(catalogPath)) {
    expect(row.proof_at, row.fax_sid).not.toBeNull();
    expect(['checksum', 'etag-md5', 'full']).toContain(row.proof_method);
    expect(row.proof_run_id).toBe(row.run_id);
    const proven = JSON.parse(row.proof!) as Array<{ key: string; sha256: string }>;
    const mine = objects.filter((o) => o.fax_sid === row.fax_sid);
    expect(proven.map((p) => p.key).sort()).toEqual(mine.map((o) => o.key).sort());
    for (const p of proven) expect(p.sha256).toBe(mine.find((o) => o.key === p.key)!.sha256);
  }
}

describe(`S3 (${process.env.FAX_SUNSET_TEST_S3 ?? 'moto, else s3rver'}): objects changed after archive`, () => {
  const BUCKET = 'pre-delete-proof';
  let s3: TestS3Server;
  let proxy: FaultProxy;
  let w: World;
  let s3Env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    proxy = await startFaultProxy({ target: s3.endpoint, seed: 3 });
    w = await world(1101);
    s3Env = { ...w.emu.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
  });
  afterAll(async () => {
    await w?.emu.close();
    await proxy?.close();
    await s3?.close();
    if (w) rmSync(w.dir, { recursive: true, force: true });
  });

  const run = (command: string, endpoint: string, extra: string[] = []): Promise<CliRun> =>
    runCli([command, '--now', NOW, '--json', '--catalog', w.catalogPath, '--store', `s3://${BUCKET}/a`, '--s3-endpoint', endpoint, ...extra], { cwd: w.dir, env: s3Env });

  it('archive --delete: tampered faxes stay on Twilio and are archived again; the rest are deleted with their proof; exit 1', async () => {
    const first = await run('archive', s3.endpoint);
    expect(first.code, first.stderr).toBe(0);
    const { objects } = readCatalog(w.catalogPath);
    const deletable = deletableSids(w.catalogPath);
    const withMedia = deletable.filter((sid) => objects.some((o) => o.fax_sid === sid && o.kind === 'media'));
    expect(withMedia.length).toBeGreaterThanOrEqual(3);
    const [forged, removed, overwritten] = withMedia as [string, string, string];
    const media = (sid: string) => objects.find((o) => o.fax_sid === sid && o.kind === 'media')!;
    const sidecar = (sid: string) => objects.find((o) => o.fax_sid === sid && o.kind === 'sidecar')!;
    const client = s3.client();
    // Other bytes with the old SHA-256 claimed (a server that echoes unchecked claims still shows
    // the truth in its single-part ETag), a sidecar removed, media overwritten outright.
    const original = await readObject(client, BUCKET, `a/${media(forged).key}`);
    const other = Buffer.from(original);
    other[other.length - 3] = other[other.length - 3]! ^ 0xff;
    await client.send(new PutObjectCommand({
      Bucket: BUCKET, Key: `a/${media(forged).key}`, Body: other, ContentType: 'application/pdf',
      ChecksumAlgorithm: 'SHA256', ChecksumSHA256: Buffer.from(media(forged).sha256, 'hex').toString('base64'),
    }));
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `a/${sidecar(removed).key}` }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `a/${media(overwritten).key}`, Body: Buffer.from('%PDF-1.4 not this fax\n') }));
    const tampered = [forged, removed, overwritten];

    const deleting = await run('archive', s3.endpoint, ['--delete']);
    expect(deleting.code, deleting.stderr).toBe(1);
    const summary = summaryOf(deleting)!;
    expect(summary.deleteProofFailed).toBe(3);
    expect(summary.deleted).toBe(deletable.length - 3);
    const twilio = onTwilio(w.emu);
    for (const sid of tampered) expect(twilio.has(sid), sid).toBe(true);
    for (const sid of deletable.filter((s) => !tampered.includes(s))) expect(twilio.has(sid), sid).toBe(false);
    // Archived again from Twilio in the same run: verified, and the store holds the recorded bytes.
    const after = readCatalog(w.catalogPath);
    for (const sid of tampered) {
      expect(after.faxes.get(sid)!.state, sid).toBe('verified');
      for (const o of after.objects.filter((x) => x.fax_sid === sid)) {
        expect(sha256Hex(await readObject(client, BUCKET, `a/${o.key}`)), o.key).toBe(o.sha256);
      }
    }
    const findings = findingsOf(w.catalogPath);
    expect(new Set(findings.filter((f) => f.outcome !== 'match').map((f) => f.fax_sid))).toEqual(new Set(tampered));
    expect(findings.find((f) => f.fax_sid === removed)?.outcome).toBe('missing');
    expect(findings.find((f) => f.fax_sid === forged)?.outcome).toBe('mismatch');
    expect(deletionRows(w.catalogPath).map((d) => d.fax_sid).filter((sid) => tampered.includes(sid))).toEqual([]);
    expectProofOnEveryDeletion(w.catalogPath);

    // The next run proves the fresh copies and deletes them: exit 0.
    const sync = await run('sync', s3.endpoint, ['--delete']);
    expect(sync.code, sync.stderr).toBe(0);
    for (const sid of tampered) expect(onTwilio(w.emu).has(sid), sid).toBe(false);
    expectProofOnEveryDeletion(w.catalogPath);
  });

  it('a store that does not answer the pre-delete HEAD: nothing deleted, nothing re-downloaded, no mismatch; exit 1; later deleted', async () => {
    const fresh = [w.emu.emulator.createFax({ status: 'received' }), w.emu.emulator.createFax({ status: 'received' })].map((f) => String(f.sid));
    const archived = await run('sync', s3.endpoint);
    expect(archived.code, archived.stderr).toBe(0);
    for (const sid of fresh) expect(readCatalog(w.catalogPath).faxes.get(sid)?.state).toBe('verified');
    const pending = deletableSids(w.catalogPath); // the fresh ones, and any an earlier test left
    expect(pending).toEqual(expect.arrayContaining(fresh));
    const stateBefore = new Map(pending.map((sid) => [sid, readCatalog(w.catalogPath).faxes.get(sid)?.state]));
    const mediaBefore = w.emu.emulator.stats().mediaRequests;
    const findingsBefore = findingsOf(w.catalogPath).length;

    // The store answers the run's start-up check; from the first listing page on, every HEAD and
    // GET to it fails (SlowDown), so the only S3 calls left, the pre-delete proofs, get no answer.
    // (The run's first fax request is its check before writes, which comes before the store's check.)
    let faxRequests = 0;
    const twilioProxy = await startRewritingProxy(w.emu.url, (body, request) => {
      if (request.method === 'GET' && request.path.includes('/Faxes') && ++faxRequests >= 2) proxy.setFaults({ rate: 1, kinds: ['503'], methods: ['HEAD', 'GET'] });
      return body;
    });
    const deleting = await runCli(
      ['sync', '--delete', '--now', NOW, '--json', '--catalog', w.catalogPath, '--store', `s3://${BUCKET}/a`, '--s3-endpoint', proxy.url],
      { cwd: w.dir, env: { ...s3Env, FAX_SUNSET_TWILIO_URL: twilioProxy.url } },
    ).finally(() => twilioProxy.close());
    proxy.setFaults({ rate: 0, kinds: [] });
    expect(deleting.code, deleting.stderr).toBe(1);
    const summary = summaryOf(deleting)!;
    expect(summary.deleteStoreUnavailable).toBe(pending.length);
    expect(summary.deleted).toBe(0);
    expect(summary.deleteProofFailed).toBe(0);
    expect(summary.deletionBlockedReason).toBeNull();
    for (const sid of pending) {
      expect(onTwilio(w.emu).has(sid), sid).toBe(true);
      expect(readCatalog(w.catalogPath).faxes.get(sid)?.state, sid).toBe(stateBefore.get(sid)); // still verified / metadata-only
    }
    expect(w.emu.emulator.stats().mediaRequests).toBe(mediaBefore);
    expect(findingsOf(w.catalogPath)).toHaveLength(findingsBefore);

    const later = await run('sync', s3.endpoint, ['--delete']);
    expect(later.code, later.stderr).toBe(0);
    for (const sid of pending) expect(onTwilio(w.emu).has(sid), sid).toBe(false);
    expectProofOnEveryDeletion(w.catalogPath);
  });
});

describe('folder store: files changed after archive', () => {
  let w: World;
  const store = () => join(w.dir, 'media');
  beforeAll(async () => {
    w = await world(1102);
  });
  afterAll(async () => {
    await w?.emu.close();
    if (w) rmSync(w.dir, { recursive: true, force: true });
  });
  const run = (command: string, extra: string[] = []): Promise<CliRun> =>
    runCli([command, '--now', NOW, '--json', '--catalog', w.catalogPath, '--store', store(), ...extra], { cwd: w.dir, env: w.emu.env });

  it('sync --delete then archive --delete: a changed and a removed file stop their DELETE and are archived again', async () => {
    const first = await run('archive');
    expect(first.code, first.stderr).toBe(0);
    const { objects } = readCatalog(w.catalogPath);
    const deletable = deletableSids(w.catalogPath);
    const withMedia = deletable.filter((sid) => objects.some((o) => o.fax_sid === sid && o.kind === 'media'));
    const [changed, removed] = withMedia as [string, string];
    const file = (sid: string, kind: string) => join(store(), objects.find((o) => o.fax_sid === sid && o.kind === kind)!.key);
    // Same size, one byte different: only a re-hash sees it.
    const bytes = readFileSync(file(changed, 'media'));
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    writeFileSync(file(changed, 'media'), bytes);
    rmSync(file(removed, 'media'));

    const sync = await run('sync', ['--delete']);
    expect(sync.code, sync.stderr).toBe(1);
    expect(summaryOf(sync)!.deleteProofFailed).toBe(2);
    const twilio = onTwilio(w.emu);
    expect(twilio.has(changed)).toBe(true);
    expect(twilio.has(removed)).toBe(true);
    for (const sid of deletable.filter((s) => s !== changed && s !== removed)) expect(twilio.has(sid), sid).toBe(false);
    const after = readCatalog(w.catalogPath);
    for (const sid of [changed, removed]) {
      expect(after.faxes.get(sid)!.state).toBe('verified');
      const media = after.objects.find((o) => o.fax_sid === sid && o.kind === 'media')!;
      expect(sha256Hex(readFileSync(join(store(), media.key)))).toBe(media.sha256);
    }
    expect(deletionRows(w.catalogPath).every((d) => d.proof_method === 'full')).toBe(true);
    expectProofOnEveryDeletion(w.catalogPath);

    const archive = await run('archive', ['--delete']);
    expect(archive.code, archive.stderr).toBe(0);
    expect(onTwilio(w.emu).has(changed)).toBe(false);
    expect(onTwilio(w.emu).has(removed)).toBe(false);
  });
});
