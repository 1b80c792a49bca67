/**
 * The one contract every MediaStore must keep (litestream-style: one suite, every backend).
 * Run by fs-media-store.test.ts and s3-media-store.test.ts against real folders and a real S3 server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, ConfigurationError } from '../../src/errors.js';
import type { MediaStore, PutObjectInput, TransferCounters } from '../../src/store/media-store.js';
import { mediaObjectKey, sidecarObjectKey } from '../../src/store/object-layout.js';
import { verifyStoredObject } from '../../src/store/verify-object.js';

export interface StoreUnderTest {
  store: MediaStore & { readonly transfer: TransferCounters };
  /** Replaces the bytes at `key` behind the store's back (no checksum, no store code). */
  tamper(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes exactly as the backend holds them, read without the store. null when absent. */
  rawBytes(key: string): Promise<Buffer | null>;
  /** Releases the store and anything created for it. */
  dispose(): Promise<void>;
}

const ACCOUNT = 'AC' + '1'.repeat(32);
let faxCounter = 0;
/** A fresh, valid key per test so tests never see each other's objects. */
export function freshKey(kind: 'pdf' | 'tiff' = 'pdf'): string {
  faxCounter += 1;
  const faxSid = 'FX' + faxCounter.toString(16).padStart(32, '0');
  return mediaObjectKey({ accountSid: ACCOUNT, faxSid, dateCreated: '2024-03-05T10:00:00Z', kind });
}

export function digests(bytes: Uint8Array): { size: number; sha256Hex: string; md5Hex: string } {
  return {
    size: bytes.length,
    sha256Hex: createHash('sha256').update(bytes).digest('hex'),
    md5Hex: createHash('md5').update(bytes).digest('hex'),
  };
}

export function fakePdf(size: number): Buffer {
  const bytes = randomBytes(size);
  bytes.write('%PDF-1.4\n', 0, 'latin1');
  return bytes;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function describeMediaStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`MediaStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: StoreUnderTest['store'];
    let spool: string;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
      spool = mkdtempSync(join(tmpdir(), 'fax-sunset-spool-'));
      await store.check();
    });
    afterAll(async () => {
      await subject?.dispose();
      rmSync(spool, { recursive: true, force: true });
    });

    function spoolFile(bytes: Uint8Array): string {
      const path = join(spool, `${randomBytes(6).toString('hex')}.bin`);
      writeFileSync(path, bytes);
      return path;
    }
    function fileInput(key: string, bytes: Uint8Array, overrides: Partial<PutObjectInput> = {}): PutObjectInput {
      return {
        key,
        body: { filePath: spoolFile(bytes) },
        ...digests(bytes),
        contentType: 'application/pdf',
        metadata: { 'fax-sid': 'FX' + '0'.repeat(32) },
        ...overrides,
      };
    }

    it('puts a file and reads back exactly its bytes; head describes it; list finds it; remove removes it', async () => {
      const key = freshKey();
      const bytes = fakePdf(70_000);
      const result = await store.put(fileInput(key, bytes));
      expect(result).toMatchObject({ key, alreadyPresent: false });

      const head = await store.head(key);
      expect(head).not.toBeNull();
      expect(head!.size).toBe(bytes.length);
      expect(head!.key).toBe(key);

      const stream = await store.read(key);
      expect(stream).not.toBeNull();
      expect((await readAll(stream!)).equals(bytes)).toBe(true);

      const folder = key.slice(0, key.lastIndexOf('/') + 1);
      const listed: { key: string; size: number }[] = [];
      for await (const item of store.list(folder)) listed.push(item);
      expect(listed).toContainEqual({ key, size: bytes.length });

      await store.remove(key);
      expect(await store.head(key)).toBeNull();
      expect(await store.read(key)).toBeNull();
    });

    it('stores EXACTLY the file bytes (no aws-chunked framing, no trailer)', async () => {
      const key = freshKey('tiff');
      const bytes = fakePdf(200_000);
      await store.put(fileInput(key, bytes, { contentType: 'image/tiff' }));
      const raw = await subject.rawBytes(key);
      expect(raw?.length).toBe(bytes.length);
      expect(raw!.equals(bytes)).toBe(true);
    });

    it('puts a small buffer body (a sidecar)', async () => {
      const key = sidecarObjectKey({ accountSid: ACCOUNT, faxSid: 'FX' + 'a'.repeat(32), dateCreated: null });
      expect(key).toContain('/unknown-date/');
      const bytes = Buffer.from(JSON.stringify({ sid: 'FX' + 'a'.repeat(32), status: 'received' }));
      await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/json' });
      expect((await subject.rawBytes(key))!.equals(bytes)).toBe(true);
    });

    it('is idempotent: a second put of the same bytes sends nothing and says alreadyPresent', async () => {
      const key = freshKey();
      const bytes = fakePdf(30_000);
      await store.put(fileInput(key, bytes));
      const sent = { ...store.transfer };
      const again = await store.put(fileInput(key, bytes));
      expect(again.alreadyPresent).toBe(true);
      expect(store.transfer).toEqual(sent);
    });

    it('with mayExist false (a first attempt) writes the same bytes again without harm', async () => {
      const key = freshKey();
      const bytes = fakePdf(20_000);
      await store.put(fileInput(key, bytes));
      // The store may skip its look for an identical object (S3 does: one round trip less) or not.
      const again = await store.put({ ...fileInput(key, bytes), mayExist: false });
      expect(again.key).toBe(key);
      expect((await subject.rawBytes(key))!.equals(bytes)).toBe(true);
      expect(await store.head(key)).toMatchObject({ size: bytes.length });
    });

    it('overwrites when different bytes are put at the same key', async () => {
      const key = freshKey();
      await store.put(fileInput(key, fakePdf(10_000)));
      const second = fakePdf(12_000);
      const result = await store.put(fileInput(key, second));
      expect(result.alreadyPresent).toBe(false);
      expect((await subject.rawBytes(key))!.equals(second)).toBe(true);
    });

    it('returns null for a missing object, and removing it is not an error', async () => {
      const key = freshKey();
      expect(await store.head(key)).toBeNull();
      expect(await store.read(key)).toBeNull();
      await expect(store.remove(key)).resolves.toBeUndefined();
      const listed: unknown[] = [];
      for await (const item of store.list(key.slice(0, key.lastIndexOf('/') + 1) + 'FXnothing')) listed.push(item);
      expect(listed).toEqual([]);
    });

    it('refuses keys that could escape the store', async () => {
      const bytes = Buffer.from('x');
      for (const bad of ['../evil.pdf', '/etc/passwd', 'a/../../b.pdf', 'a//b.pdf', '.hidden', 'a\\b.pdf', 'a/./b.pdf', '']) {
        await expect(store.put({ key: bad, body: { bytes }, ...digests(bytes), contentType: 'x/y' })).rejects.toBeInstanceOf(
          ConfigurationError,
        );
        await expect(store.head(bad)).rejects.toBeInstanceOf(ConfigurationError);
        await expect(store.read(bad)).rejects.toBeInstanceOf(ConfigurationError);
        await expect(store.remove(bad)).rejects.toBeInstanceOf(ConfigurationError);
      }
      await expect(
        (async () => {
          for await (const _ of store.list('../')) void _;
        })(),
      ).rejects.toBeInstanceOf(ConfigurationError);
    });

    it('refuses a put whose bytes do not match the claimed SHA-256, leaving no object behind', async () => {
      const key = freshKey();
      const bytes = fakePdf(3 * 1024 * 1024 + 17); // several chunks stream before the mismatch is known
      const wrong = createHash('sha256').update('not these bytes').digest('hex');
      await expect(store.put(fileInput(key, bytes, { sha256Hex: wrong }))).rejects.toBeInstanceOf(ChecksumMismatchError);
      expect(await store.head(key)).toBeNull();
      expect(await subject.rawBytes(key)).toBeNull();

      const small = Buffer.from('%PDF-small');
      await expect(
        store.put({ key, body: { bytes: small }, ...digests(small), sha256Hex: wrong, contentType: 'application/pdf' }),
      ).rejects.toBeInstanceOf(ChecksumMismatchError);
      expect(await store.head(key)).toBeNull();
    });

    it('keeps the previous object whole when a replacing put is refused (atomic writes)', async () => {
      const key = freshKey();
      const original = fakePdf(50_000);
      await store.put(fileInput(key, original));
      const replacement = fakePdf(2 * 1024 * 1024);
      // The file is shorter than the claimed size: the write must not replace anything.
      await expect(
        store.put(fileInput(key, replacement.subarray(0, 1024 * 1024), { ...digests(replacement) })),
      ).rejects.toBeInstanceOf(ChecksumMismatchError);
      expect((await subject.rawBytes(key))!.equals(original)).toBe(true);
      const folder = key.slice(0, key.lastIndexOf('/') + 1);
      const listed: string[] = [];
      for await (const item of store.list(folder)) listed.push(item.key);
      expect(listed.filter((k) => k.startsWith(key.slice(0, -4)))).toEqual([key]);
    });

    it('lists only keys under the prefix, relative to the store', async () => {
      const a = mediaObjectKey({ accountSid: 'AC' + '2'.repeat(32), faxSid: 'FX' + 'b'.repeat(32), dateCreated: '2023-01-31T23:59:59Z', kind: 'pdf' });
      const b = mediaObjectKey({ accountSid: 'AC' + '2'.repeat(32), faxSid: 'FX' + 'c'.repeat(32), dateCreated: '2023-02-01T00:00:00Z', kind: 'pdf' });
      for (const key of [a, b]) {
        const bytes = Buffer.from(`%PDF-${key}`);
        await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
      }
      const all: string[] = [];
      for await (const item of store.list(`${'AC' + '2'.repeat(32)}/`)) all.push(item.key);
      expect(all.sort()).toEqual([a, b].sort());
      const january: string[] = [];
      for await (const item of store.list(`${'AC' + '2'.repeat(32)}/2023/01/`)) january.push(item.key);
      expect(january).toEqual([a]);
    });

    describe('verification', () => {
      const cleanup: string[] = [];
      afterEach(async () => {
        while (cleanup.length) await store.remove(cleanup.pop()!);
      });

      it('matches an intact object with the strongest method, and with a full re-read', async () => {
        const key = freshKey();
        cleanup.push(key);
        const bytes = fakePdf(40_000);
        await store.put(fileInput(key, bytes));
        const quick = await verifyStoredObject(store, key, digests(bytes));
        expect(quick.outcome).toBe('match');
        const full = await verifyStoredObject(store, key, digests(bytes), { forceFull: true });
        expect(full).toMatchObject({ outcome: 'match', method: 'full', actualSize: bytes.length, actualSha256Hex: digests(bytes).sha256Hex });
      });

      it('reports missing for an absent object', async () => {
        const outcome = await verifyStoredObject(store, freshKey(), digests(Buffer.from('x')));
        expect(outcome.outcome).toBe('missing');
        const full = await verifyStoredObject(store, freshKey(), digests(Buffer.from('x')), { forceFull: true });
        expect(full.outcome).toBe('missing');
      });

      it('catches bytes changed behind the store’s back (same size)', async () => {
        const key = freshKey();
        cleanup.push(key);
        const bytes = fakePdf(40_000);
        await store.put(fileInput(key, bytes));
        const evil = Buffer.from(bytes);
        evil[20_000] = evil[20_000]! ^ 0xff;
        await subject.tamper(key, evil);
        const full = await verifyStoredObject(store, key, digests(bytes), { forceFull: true });
        expect(full).toMatchObject({ outcome: 'mismatch', method: 'full', actualSha256Hex: digests(evil).sha256Hex });
        const quick = await verifyStoredObject(store, key, digests(bytes));
        expect(quick.outcome).toBe('mismatch');
      });
    });
  });
}
