/**
 * Issue 16 §4: does the HEAD right after a PUT add evidence? On the S3 server (moto here), the PUT's
 * answer carries the same ETag (the MD5 of what arrived) and the same checksum as that HEAD, for good
 * bytes and for bytes corrupted on the way (a proxy flips one byte): so the archive judges from the
 * write's answer, with the same methods, and `verify` / the pre-delete proof still ask again. On the
 * folder store the only evidence is reading the bytes back: it keeps no write evidence and the
 * archive's verification stays `full`.
 *
 * And §3, hashing once: a spool stamp lets the S3 store send the file without hashing it again, and
 * a file changed after it was stamped is refused before a byte goes out.
 */
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError } from '../../src/errors.js';
import { stampFile } from '../../src/store/file-stamp.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import type { MediaStore } from '../../src/store/media-store.js';
import { S3MediaStore } from '../../src/store/s3-media-store.js';
import { verifyStoredObject } from '../../src/store/verify-object.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { digests, fakePdf, freshKey } from './media-store-contract.js';

let server: TestS3Server;
let proxy: FaultProxy;
let dir: string;
const BUCKET = 'write-evidence';

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
  proxy = await startFaultProxy({ target: server.endpoint, seed: 16 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-write-evidence-'));
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function s3Store(endpoint: string): S3MediaStore {
  return new S3MediaStore({
    bucket: BUCKET,
    endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
}

function spoolFile(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes, { mode: 0o600 });
  return path;
}

describe('the PUT answer against the HEAD after it', () => {
  it('S3: the same ETag and checksum as the HEAD, for good bytes and for bytes flipped on the way; judged alike', async () => {
    const direct = s3Store(server.endpoint);
    const viaProxy = s3Store(proxy.url);
    try {
      for (const flip of [false, true]) {
        const store = viaProxy;
        const bytes = fakePdf(30_000);
        const d = digests(bytes);
        const key = freshKey();
        const path = spoolFile(`${flip ? 'flip' : 'good'}.part`, bytes);
        const put = async () => store.put({ key, body: { filePath: path, stamp: await stampFile(path) }, ...d, contentType: 'application/pdf', mayExist: false });
        proxy.setFaults(flip ? { rate: 1, kinds: ['flip'], methods: ['PUT'] } : { rate: 0, kinds: [] });
        await put();
        // The archive's verification, from the write's answer (taken once)...
        const requestsBefore = proxy.stats().requests;
        const fromWrite = await verifyStoredObject(store, key, d, { afterWrite: true });
        expect(proxy.stats().requests).toBe(requestsBefore); // no HEAD went out
        expect(store.writeEvidence(key)).toBeNull();
        // ...against one that asks the store (a HEAD).
        const fromHead = await verifyStoredObject(direct, key, d);
        expect(fromHead.outcome).toBe(flip ? 'mismatch' : 'match');

        await put();
        proxy.setFaults({ rate: 0, kinds: [] });
        const written = store.writeEvidence(key);
        expect(written).not.toBeNull();
        const head = (await direct.head(key))!;
        // Nothing the HEAD says that the PUT's answer did not.
        expect({ size: written!.size, sha256Hex: written!.sha256Hex, etag: written!.etag, etagIsMd5: written!.etagIsMd5 })
          .toEqual({ size: head.size, sha256Hex: head.sha256Hex, etag: head.etag, etagIsMd5: head.etagIsMd5 });
        expect(head.etag === d.md5Hex).toBe(!flip); // moto's ETag is the MD5 of what it really holds
        expect({ outcome: fromWrite.outcome, method: fromWrite.method }).toEqual({ outcome: fromHead.outcome, method: fromHead.method });
      }
    } finally {
      proxy.setFaults({ rate: 0, kinds: [] });
      await direct.close();
      await viaProxy.close();
    }
  });

  it('S3: evidence is used only when asked for; verify and the pre-delete proof (no afterWrite) ask the store again', async () => {
    const store = s3Store(server.endpoint);
    try {
      const bytes = fakePdf(5_000);
      const d = digests(bytes);
      const key = freshKey();
      await store.put({ key, body: { bytes }, ...d, contentType: 'application/pdf', mayExist: false });
      // Another writer replaces the object behind our back: only a fresh look can see it.
      await server.client().send(new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from('other bytes') }));
      expect((await verifyStoredObject(store, key, d)).outcome).toBe('mismatch');
      expect(store.writeEvidence(key)).not.toBeNull(); // untouched by a plain verification
      expect((await verifyStoredObject(store, key, d, { forceFull: true, afterWrite: true })).method).toBe('full');
    } finally {
      await store.close();
    }
  });

  it('folder store: no write evidence (its HEAD has no digest); the archive verification re-reads (full)', async () => {
    const store = new FsMediaStore(join(dir, 'folder'));
    const bytes = fakePdf(4_000);
    const d = digests(bytes);
    const key = freshKey();
    await store.put({ key, body: { bytes }, ...d, contentType: 'application/pdf' });
    expect((store as MediaStore).writeEvidence).toBeUndefined();
    expect(await store.head(key)).toMatchObject({ sha256Hex: null, etag: null });
    const verdict = await verifyStoredObject(store, key, d, { afterWrite: true });
    expect(verdict).toMatchObject({ outcome: 'match', method: 'full' });
  });
});

describe('hashing once: the spool stamp', () => {
  it('a stamped spool file is sent without a second hash; one changed after its stamp is refused before sending', async () => {
    const store = s3Store(server.endpoint);
    try {
      const bytes = fakePdf(20_000);
      const d = digests(bytes);
      const path = spoolFile('stamped.part', bytes);
      const stamp = await stampFile(path);
      const key = freshKey();
      await store.put({ key, body: { filePath: path, stamp }, ...d, contentType: 'application/pdf', mayExist: false });
      expect((await verifyStoredObject(store, key, d, { forceFull: true })).outcome).toBe('match');

      appendFileSync(path, 'x');
      const other = freshKey();
      const sent = store.transfer.objectsSent;
      await expect(store.put({ key: other, body: { filePath: path, stamp }, ...d, contentType: 'application/pdf', mayExist: false }))
        .rejects.toBeInstanceOf(ChecksumMismatchError);
      expect(store.transfer.objectsSent).toBe(sent);
      expect(await store.head(other)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
