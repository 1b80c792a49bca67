/**
 * Issue 15 §2, the proof: three `archive --subaccounts --shard i/3` runs started at once as separate
 * processes, against one emulator with many subaccounts and one S3 server, with faults on both sides
 * (Twilio's API and media host; S3 errors and resets through a proxy), rerun until each exits 0; then
 * the merged verify and report over the three catalogs. Audited without the project's catalog code:
 * the catalogs read with plain better-sqlite3 queries, the bucket listed with the AWS SDK, the world
 * asked of the emulator's control API. Every fax of every account is in exactly one catalog, the
 * catalog of the shard its account hashes to, with its objects in the bucket exactly once.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { runCli, type CliRun } from '../support/cli-process.js';

const BUCKET = 'shard-proof';
const PREFIX = 'isv';
const SHARDS = 3;
const MAX_ROUNDS = 5;

let emu: TestEmulator;
let s3: TestS3Server;
let proxy: FaultProxy;
let dir: string;
let world: Array<{ sid: string; account_sid: string; media_sid: string | null }>;

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  proxy = await startFaultProxy({ target: s3.endpoint, seed: 1503 });
  emu = await startTestEmulator({
    faxes: 150, accounts: 14, seed: 1502, latencyMs: 1,
    faultRate: 0.04, faultKinds: ['500', '503', 'reset', 'truncate', 'corrupt'],
  });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-shard-proof-'));
  mkdirSync(join(dir, 'catalogs'));
  // The world as it was before any run, from the control API (plain HTTP, loopback).
  const response = await fetch(`${emu.url}/_emulator/faxes`);
  world = (await response.json()) as typeof world;
});

afterAll(async () => {
  await emu?.close();
  await proxy?.close();
  await s3?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const catalogOf = (i: number) => join(dir, 'catalogs', `shard-${i}-of-${SHARDS}.sqlite`);

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, {
    cwd: dir,
    env: { ...emu.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region },
    timeoutMs: 120_000,
  });
}

function archive(i: number): Promise<CliRun> {
  return cli([
    'archive', '--subaccounts', '--shard', `${i}/${SHARDS}`, '--catalog', catalogOf(i),
    '--store', `s3://${BUCKET}/${PREFIX}`, '--s3-endpoint', proxy.url,
    '--now', '2021-12-01T00:00:00Z', '--json', '--rps', '2000', '--concurrency', '8', '--workers', '8',
  ]);
}

/** The shard an account belongs to, computed here from the README's rule, not the project's code. */
function expectedShard(accountSid: string): number {
  if (accountSid === emu.accountSid) return 0;
  return parseInt(createHash('sha256').update(accountSid).digest('hex').slice(0, 8), 16) % SHARDS;
}

describe('three shards at once into one bucket, under faults, then verified and reported as one', () => {
  it('has the world it claims: many subaccounts, faxes with and without media', () => {
    expect(new Set(world.map((f) => f.account_sid)).size).toBe(15);
    expect(new Set(world.map((f) => expectedShard(f.account_sid))).size).toBe(SHARDS);
    expect(world.some((f) => !f.media_sid) && world.some((f) => f.media_sid)).toBe(true);
  });

  it('each shard reaches exit 0 with the three running at once as separate processes', async () => {
    proxy.setFaults({ rate: 0.05, kinds: ['500', '503', 'reset'] });
    let pending = [0, 1, 2];
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
      const runs = await Promise.all(pending.map(archive));
      for (const [n, run] of runs.entries()) expect([0, 1], `shard ${pending[n]} round ${round}: ${run.stderr.slice(0, 400)}`).toContain(run.code);
      pending = pending.filter((_, n) => runs[n]!.code !== 0);
    }
    expect(pending, 'shards still not done').toEqual([]);
    const injected = proxy.stats().injected;
    expect(injected['500']! + injected['503']! + injected.reset!).toBeGreaterThan(0);
    const faults = emu.emulator.stats().faults;
    expect(Object.values(faults).reduce((a, n) => a + n, 0)).toBeGreaterThan(0);
  }, 240_000);

  it('the merged verify and report over the three catalogs exit 0 and see every fax once', async () => {
    proxy.setFaults({ rate: 0, kinds: ['500'] });
    const catalogs = [0, 1, 2].flatMap((i) => ['--catalog', catalogOf(i)]);
    const verify = await cli(['verify', ...catalogs, '--s3-endpoint', s3.endpoint, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    const verified = JSON.parse(verify.stdout.trim().split('\n').pop()!);
    expect(verified.shardProblems).toEqual([]);
    expect(verified.mismatch + verified.missing + verified.unverifiable).toBe(0);
    expect(verified.shards.every((s: { anchors: { mismatched: unknown[]; matched: number } }) => s.anchors.matched > 0 && s.anchors.mismatched.length === 0)).toBe(true);

    const report = await cli(['report', '--catalog', join(dir, 'catalogs'), '--out', join(dir, 'report'), '--json']);
    expect(report.code, report.stderr).toBe(0);
    const csv = readFileSync(join(dir, 'report', 'faxes.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]!);
    expect(csv.length).toBe(world.length);
    expect(new Set(csv).size).toBe(world.length);
    const summary = JSON.parse(readFileSync(join(dir, 'report', 'summary.json'), 'utf8'));
    expect(summary.complete).toBe(true);
    expect(summary.totals.faxes).toBe(world.length);
    const manifestKeys = readFileSync(join(dir, 'report', 'manifest-sha256.txt'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[1]!.replace(/^data\//, ''));
    expect(new Set(manifestKeys).size).toBe(manifestKeys.length);
    expect(summary.bag.payloadCount).toBe(manifestKeys.length);
  }, 120_000);

  it('the audit without the project\'s code: every fax of every account once, in the right shard, its objects in the bucket once', async () => {
    const holders = new Map<string, number[]>();
    const catalogObjects = new Map<string, string>();
    for (let i = 0; i < SHARDS; i++) {
      const db = new Database(catalogOf(i), { readonly: true, fileMustExist: true });
      try {
        // The shard the catalog's runs recorded.
        const recorded = (db.prepare(`SELECT options FROM runs WHERE kind = 'archive'`).pluck().all() as string[]).map((o) => JSON.parse(o).shard);
        expect(recorded.every((s) => s.index === i && s.count === SHARDS)).toBe(true);
        for (const row of db.prepare('SELECT sid, account_sid, state FROM faxes').all() as { sid: string; account_sid: string; state: string }[]) {
          expect(expectedShard(row.account_sid), `${row.sid} of ${row.account_sid} in shard ${i}`).toBe(i);
          expect(['verified', 'metadata-only']).toContain(row.state);
          holders.set(row.sid, [...(holders.get(row.sid) ?? []), i]);
        }
        for (const o of db.prepare('SELECT fax_sid, key FROM objects').all() as { fax_sid: string; key: string }[]) {
          expect(catalogObjects.has(o.key), `${o.key} recorded twice`).toBe(false);
          catalogObjects.set(o.key, o.fax_sid);
        }
      } finally {
        db.close();
      }
    }
    expect([...holders.keys()].sort()).toEqual(world.map((f) => f.sid).sort());
    expect([...holders.values()].filter((list) => list.length !== 1)).toEqual([]);

    const keys: string[] = [];
    const client = s3.client();
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/`, ContinuationToken: token }));
      for (const item of page.Contents ?? []) keys.push(item.Key!.slice(PREFIX.length + 1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // The store also holds the runs' chain anchors: known objects, not fax objects.
    const anchors = keys.filter((k) => k.startsWith('_anchors/'));
    const faxObjects = keys.filter((k) => !k.startsWith('_anchors/'));
    expect(anchors.length).toBeGreaterThanOrEqual(SHARDS);
    expect(faxObjects.sort()).toEqual([...catalogObjects.keys()].sort());
    // Every fax with media has its media and its sidecar in the bucket; every other fax its sidecar.
    const bySid = new Map<string, number>();
    for (const key of faxObjects) bySid.set(catalogObjects.get(key)!, (bySid.get(catalogObjects.get(key)!) ?? 0) + 1);
    for (const fax of world) expect(bySid.get(fax.sid), fax.sid).toBe(fax.media_sid ? 2 : 1);
  });
});
