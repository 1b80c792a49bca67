import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ChecksumMismatchError, ConfigurationError, ExternalServiceError } from '../../src/errors.js';
import { ObjectRetainedError } from '../../src/store/s3-error.js';
import { S3MediaStore, type S3MediaStoreOptions } from '../../src/store/s3-media-store.js';
import { chooseVerificationMethod, verifyStoredObject } from '../../src/store/verify-object.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { describeMediaStoreContract, digests, fakePdf, freshKey } from './media-store-contract.js';

let server: TestS3Server;
let bucketCounter = 0;
const spool = mkdtempSync(join(tmpdir(), 'fax-sunset-s3-spool-'));

beforeAll(async () => {
  server = await startS3Server();
  if (!server.supportsChecksums) console.log(`[s3-media-store] ${server.kind}: checksum tests skipped (server returns no checksums)`);
  if (!server.supportsObjectLock) console.log(`[s3-media-store] ${server.kind}: Object Lock tests skipped (server ignores it)`);
});
afterAll(async () => {
  await server?.close();
  rmSync(spool, { recursive: true, force: true });
});

async function newStore(options: Partial<S3MediaStoreOptions> & { objectLock?: boolean } = {}): Promise<S3MediaStore> {
  bucketCounter += 1;
  const bucket = `fax-test-${process.pid}-${bucketCounter}`;
  await server.createBucket(bucket, { objectLock: options.objectLock });
  const { objectLock: _, ...rest } = options;
  return new S3MediaStore({
    bucket,
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    ...rest,
  });
}

async function rawGet(bucket: string, fullKey: string): Promise<Buffer | null> {
  try {
    const out = await server.client().send(new GetObjectCommand({ Bucket: bucket, Key: fullKey }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return null;
    throw error;
  }
}

describeMediaStoreContract('s3', async () => {
  const store = await newStore({ prefix: 'archive/v1' });
  return {
    store,
    async tamper(key, bytes) {
      // A plain put with no checksum: the server now holds different bytes under the same key.
      await server.client().send(new PutObjectCommand({ Bucket: store.bucket, Key: store.prefix + key, Body: bytes }));
    },
    rawBytes: (key) => rawGet(store.bucket, store.prefix + key),
    dispose: () => store.close(),
  };
});

function spoolFile(bytes: Uint8Array): string {
  const path = join(spool, `${randomBytes(6).toString('hex')}.bin`);
  writeFileSync(path, bytes);
  return path;
}

describe('S3MediaStore specifics', () => {
  it('keeps objects under its prefix and shows no credentials in its display URL', async () => {
    const store = await newStore({ prefix: '/fax/prod/' });
    expect(store.displayUrl).toBe(`s3://${store.bucket}/fax/prod`);
    const key = freshKey();
    const bytes = fakePdf(1000);
    await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
    expect((await rawGet(store.bucket, `fax/prod/${key}`))!.equals(bytes)).toBe(true);
    expect(store.displayUrl).not.toContain(server.secretAccessKey === 'S3RVER' ? 'S3RVER' : server.secretAccessKey);
    await store.close();
  });

  it('reports the SHA-256 the server keeps and verifies by checksum', async (ctx) => {
    if (!server.supportsChecksums) ctx.skip(`${server.kind} returns no checksums`);
    const store = await newStore();
    const key = freshKey();
    const bytes = fakePdf(20_000);
    const result = await store.put({ key, body: { filePath: spoolFile(bytes) }, ...digests(bytes), contentType: 'application/pdf' });
    expect(result.etag).toBe(digests(bytes).md5Hex);
    const head = await store.head(key);
    expect(head!.sha256Hex).toBe(digests(bytes).sha256Hex);
    expect(head!.contentType).toBe('application/pdf');
    expect(head!.metadata['fax-sunset-sha256']).toBe(digests(bytes).sha256Hex);
    expect(store.capabilities.reportsSha256).toBe(true);
    expect(chooseVerificationMethod(store.capabilities, false)).toBe('checksum');
    const outcome = await verifyStoredObject(store, key, digests(bytes));
    expect(outcome).toMatchObject({ outcome: 'match', method: 'checksum' });
    const wrongClaim = await verifyStoredObject(store, key, { ...digests(bytes), sha256Hex: '1'.repeat(64) });
    expect(wrongClaim).toMatchObject({ outcome: 'mismatch', method: 'checksum' });
    await store.close();
  });

  it('on a server that keeps no checksum, discovers it and verifies by the MD5 ETag', async (ctx) => {
    if (server.supportsChecksums) ctx.skip(`${server.kind} keeps checksums; this covers s3rver`);
    const store = await newStore();
    const key = freshKey();
    const bytes = fakePdf(5000);
    await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
    expect(store.capabilities.reportsSha256).toBe(false);
    expect(await verifyStoredObject(store, key, digests(bytes))).toMatchObject({ outcome: 'match', method: 'etag-md5' });
    await store.close();
  });

  it('under Object Lock, a retained object cannot be removed', async (ctx) => {
    if (!server.supportsObjectLock) ctx.skip(`${server.kind} ignores Object Lock`);
    const store = await newStore({
      objectLock: true,
      retainUntil: new Date(Date.now() + 24 * 3600 * 1000),
      lockMode: 'GOVERNANCE',
    });
    await store.check();
    const key = freshKey();
    const bytes = fakePdf(3000);
    await store.put({ key, body: { filePath: spoolFile(bytes) }, ...digests(bytes), contentType: 'application/pdf' });
    await expect(store.remove(key)).rejects.toBeInstanceOf(ObjectRetainedError);
    expect((await store.head(key))?.size).toBe(bytes.length);
    expect((await rawGet(store.bucket, key))!.equals(bytes)).toBe(true);
    await store.close();
  });

  it('check() says when --retain-until is asked of a bucket without Object Lock', async (ctx) => {
    if (!server.supportsObjectLock) ctx.skip(`${server.kind} ignores Object Lock`);
    const store = await newStore({ retainUntil: new Date(Date.now() + 3600_000), lockMode: 'COMPLIANCE' });
    await expect(store.check()).rejects.toThrow(/no Object Lock/);
    await store.close();
  });

  it('check() refuses a bucket that does not exist with a ConfigurationError', async () => {
    const store = new S3MediaStore({
      bucket: 'no-such-bucket-here',
      endpoint: server.endpoint,
      region: server.region,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    await expect(store.check()).rejects.toBeInstanceOf(ConfigurationError);
    await store.close();
  });

  it('refused credentials are an AuthError that names neither key', async (ctx) => {
    if (server.kind === 'moto') ctx.skip('moto accepts any credentials');
    const store = await newStore();
    const stranger = new S3MediaStore({
      bucket: store.bucket,
      endpoint: server.endpoint,
      region: server.region,
      credentials: { accessKeyId: 'AKIDWRONGKEY', secretAccessKey: 'wrongSecretValue12345' },
    });
    const error = await stranger.check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).not.toMatch(/AKIDWRONGKEY|wrongSecretValue12345/);
    await stranger.close();
    await store.close();
  });

  it('an unreachable endpoint is a retryable ExternalServiceError without credentials in its message', async () => {
    const store = new S3MediaStore({
      bucket: 'any-bucket',
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      maxAttempts: 1,
    });
    const error = await store.head(freshKey()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalServiceError);
    expect((error as ExternalServiceError).retryable).toBe(true);
    expect((error as Error).message).not.toContain('wJalrXUtnFEMI');
    expect((error as Error).message).not.toContain('AKIDEXAMPLE');
    await store.close();
  });

  it('sends large files as multipart with per-part checksums; verification re-reads them', async () => {
    const store = await newStore({ multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    const key = freshKey();
    const bytes = fakePdf(5 * 1024 * 1024 + 4096);
    const result = await store.put({ key, body: { filePath: spoolFile(bytes) }, ...digests(bytes), contentType: 'application/pdf' });
    expect(result.alreadyPresent).toBe(false);
    expect((await rawGet(store.bucket, key))!.equals(bytes)).toBe(true);
    const head = await store.head(key);
    expect(head!.sha256Hex).toBeNull(); // a composite checksum is not the bytes' SHA-256
    const verdict = await verifyStoredObject(store, key, digests(bytes));
    expect(verdict.outcome).toBe('match');
    // S3 and moto: a multipart ETag is no MD5, so the bytes are re-read; s3rver's multipart ETag is the whole MD5.
    expect(verdict.method).toBe(server.kind === 's3rver' ? 'etag-md5' : 'full');
    const wrong = createHash('sha256').update('other').digest('hex');
    const key2 = freshKey();
    await expect(
      store.put({ key: key2, body: { filePath: spoolFile(bytes) }, ...digests(bytes), sha256Hex: wrong, contentType: 'application/pdf' }),
    ).rejects.toThrow(/do not match/);
    expect(await store.head(key2)).toBeNull();
    await store.close();
  });

  it('refuses bytes that do not match the claim while they stream, leaving no (torn) object', async () => {
    // Without the pre-check the refusal happens mid-stream: the last chunk is withheld and the request
    // aborted (moto stores nothing); a server that keeps the torn part (s3rver) has it removed again.
    const store = await newStore({ checkBeforeSend: false });
    const key = freshKey();
    const original = fakePdf(40_000);
    const bytes = fakePdf(3 * 1024 * 1024 + 5);
    const wrong = createHash('sha256').update('not these').digest('hex');
    await expect(
      store.put({ key, body: { filePath: spoolFile(bytes) }, ...digests(bytes), sha256Hex: wrong, contentType: 'application/pdf' }),
    ).rejects.toBeInstanceOf(ChecksumMismatchError);
    expect(store.transfer.objectsSent).toBe(0);
    // s3rver writes a torn leftover asynchronously after the abort, so its cleanup is best effort;
    // whatever is left can never verify as the claimed bytes.
    if (server.kind !== 's3rver') expect(await store.head(key)).toBeNull();
    expect((await verifyStoredObject(store, key, digests(bytes), { forceFull: true })).outcome).not.toBe('match');

    await store.put({ key, body: { filePath: spoolFile(original) }, ...digests(original), contentType: 'application/pdf' });
    const short = spoolFile(bytes.subarray(0, 2 * 1024 * 1024));
    await expect(
      store.put({ key, body: { filePath: short }, ...digests(bytes), contentType: 'application/pdf' }),
    ).rejects.toBeInstanceOf(ChecksumMismatchError);
    if (server.kind !== 's3rver') expect((await rawGet(store.bucket, key))!.equals(original)).toBe(true);
    expect((await verifyStoredObject(store, key, digests(bytes), { forceFull: true })).outcome).not.toBe('match');
    await store.close();
  });

  it('SSE-KMS makes the ETag unusable as an MD5', async () => {
    const store = await newStore({ sse: 'aws:kms' });
    expect(store.capabilities.etagIsMd5).toBe(false);
    const plain = await newStore({ sse: 'AES256' });
    expect(plain.capabilities.etagIsMd5).toBe(true);
    const key = freshKey();
    const bytes = fakePdf(2000);
    await plain.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
    expect((await rawGet(plain.bucket, key))!.equals(bytes)).toBe(true);
    expect((await plain.head(key))?.etagIsMd5).toBe(true);
    await store.close();
    await plain.close();
  });

  it("an object the server says is under SSE-KMS (e.g. the bucket's default) has no MD5 ETag, even without --sse", async (ctx) => {
    if (server.kind !== 'moto') ctx.skip(`${server.kind} does not report SSE-KMS`);
    const store = await newStore({});
    const key = freshKey();
    const bytes = fakePdf(3000);
    // Written by someone else with KMS: the store's own options say nothing about it.
    await server.client().send(new PutObjectCommand({ Bucket: store.bucket, Key: store.prefix + key, Body: bytes, ServerSideEncryption: 'aws:kms' }));
    const head = await store.head(key);
    expect(head?.etagIsMd5).toBe(false);
    // Its ETag cannot prove the same bytes are there (and it has no SHA-256): they are sent again.
    const put = await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
    expect(put.alreadyPresent).toBe(false);
    await store.close();
  });
});
