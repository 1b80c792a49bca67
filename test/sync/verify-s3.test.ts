/**
 * `fax-sunset verify` on a real S3-compatible server (moto; s3rver when moto is absent): an object
 * overwritten behind the archive's back is caught by the store's own SHA-256 (or the MD5 ETag), and
 * one overwritten by a writer that claims the old checksum (moto stores what it is told) is caught
 * only by `--full`, which re-reads the bytes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectRecord } from '../../src/catalog/catalog.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { EMULATOR_NOW, onlySummaryLine, runCli, stderrEvents, type CliRun } from './sync-cli.js';

const BUCKET = `fax-verify-${process.pid}`;
const PREFIX = 'nightly';
let server: TestS3Server;
let emu: TestEmulator;
let dir: string;
let catalogPath: string;
let media: Array<ObjectRecord & { faxSid: string }>;
let objectCount: number;

function cli(args: string[]): Promise<CliRun> {
  return runCli([...args, '--catalog', catalogPath, '--store', `s3://${BUCKET}/${PREFIX}`, '--s3-endpoint', server.endpoint], {
    cwd: dir,
    env: {
      ...emu.env,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_REGION: server.region,
    },
  });
}

async function bytesOf(key: string): Promise<Buffer> {
  const out = await server.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function flipMiddleByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  const middle = Math.floor(copy.length / 2);
  copy.writeUInt8(copy.readUInt8(middle) ^ 0xff, middle);
  return copy;
}

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
  emu = await startTestEmulator({ faxes: 8, accounts: 0, seed: 59 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-verify-s3-'));
  catalogPath = join(dir, 'archive', 'catalog.sqlite');
  const run = await cli(['archive', '--json', '--now', EMULATOR_NOW]);
  expect(run.code, run.stderr).toBe(0);
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    media = [];
    objectCount = 0;
    for (const fax of catalog.iterateFaxes()) {
      objectCount += fax.objects.length;
      for (const object of fax.objects) if (object.kind === 'media') media.push({ ...object, faxSid: fax.sid });
    }
  } finally {
    catalog.close();
  }
  expect(media.length).toBeGreaterThanOrEqual(2);
});

afterAll(async () => {
  await emu?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`verify on S3`, () => {
  it('a clean archive verifies with the store\'s own checksums and exits 0', async () => {
    const run = await cli(['verify', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(onlySummaryLine(run)).toMatchObject({ objectsChecked: objectCount, match: objectCount, exitCode: 0 });
    if (server.supportsChecksums) {
      const catalog = openCatalog(catalogPath, { readonly: true });
      try {
        const runId = catalog.listRuns(1)[0]!.id;
        expect(new Set(catalog.listFindings({ runId }).map((f) => f.method))).toEqual(new Set(['checksum']));
      } finally {
        catalog.close();
      }
    }
  });

  it('an object overwritten with other bytes is caught without downloading it', async () => {
    const target = media[0]!;
    const changed = flipMiddleByte(await bytesOf(target.key));
    // An honest writer: S3 computes and keeps the new bytes' SHA-256.
    await server.client().send(new PutObjectCommand({
      Bucket: BUCKET, Key: `${PREFIX}/${target.key}`, Body: changed, ContentType: 'application/pdf', ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: createHash('sha256').update(changed).digest('base64'),
    }));
    const run = await cli(['verify', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const summary = onlySummaryLine(run);
    expect(summary).toMatchObject({ mismatch: 1, missing: 0, match: objectCount - 1, exitCode: 1 });
    expect(summary.problems).toEqual([{ faxSid: target.faxSid, kind: 'media', outcome: 'mismatch', key: target.key }]);
    const warning = stderrEvents(run).find((e) => e.event === 'warning');
    expect(String(warning?.message)).toContain(`fax ${target.faxSid}`);
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      const finding = catalog.listFindings({ runId: catalog.listRuns(1)[0]!.id, outcome: 'mismatch' });
      expect(finding).toHaveLength(1);
      expect(finding[0]).toMatchObject({ faxSid: target.faxSid, key: target.key });
      expect(['checksum', 'etag-md5', 'full']).toContain(finding[0]!.method);
      if (server.supportsChecksums) expect(finding[0]!.method).toBe('checksum');
      expect(catalog.getFax(target.faxSid)?.state).toBe('listed'); // archived again by the next run
    } finally {
      catalog.close();
    }
  });

  it('an object whose stored checksum still claims the old bytes is caught by its ETag without a download', async (ctx) => {
    if (!server.supportsChecksums) ctx.skip(); // s3rver keeps no checksum to lie about
    const target = media[1]!;
    const changed = flipMiddleByte(await bytesOf(target.key));
    // The writer claims the original SHA-256; moto 5 stores what it is told without checking.
    await server.client().send(new PutObjectCommand({
      Bucket: BUCKET, Key: `${PREFIX}/${target.key}`, Body: changed, ContentType: 'application/pdf', ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: Buffer.from(target.sha256Hex, 'hex').toString('base64'),
    }));
    const head = await server.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${target.key}`, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(Buffer.from(target.sha256Hex, 'hex').toString('base64'));

    // The store vouches for bytes it never checked, but its single-part ETag is the MD5 of what it
    // holds: the cheap audit sees the contradiction without downloading.
    const cheap = await cli(['verify', '--json']);
    expect(cheap.code, cheap.stderr).toBe(1);
    expect(onlySummaryLine(cheap)).toMatchObject({ method: 'strongest', mismatch: 1 });

    const summary = onlySummaryLine(cheap);
    expect(summary.problems).toEqual([{ faxSid: target.faxSid, kind: 'media', outcome: 'mismatch', key: target.key }]);
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      const runId = catalog.listRuns(1)[0]!.id;
      const mismatch = catalog.listFindings({ runId }).find((f) => f.outcome === 'mismatch');
      expect(mismatch?.method).toBe('checksum');
      expect(mismatch?.detail).toMatch(/ETag/);
    } finally {
      catalog.close();
    }
  });
});
