import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { chooseVerificationMethod } from '../../src/store/verify-object.js';
import { describeMediaStoreContract, digests, fakePdf, freshKey } from './media-store-contract.js';

const roots: string[] = [];
function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'fax-sunset-fs-store-'));
  roots.push(root);
  return join(root, 'media');
}
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describeMediaStoreContract('filesystem', async () => {
  const store = new FsMediaStore(newRoot());
  return {
    store,
    async tamper(key, bytes) {
      writeFileSync(store.pathFor(key), bytes);
    },
    async rawBytes(key) {
      return readFile(store.pathFor(key)).catch(() => null);
    },
    async dispose() {
      await store.close();
    },
  };
});

function allEntries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => join(e.parentPath, e.name));
}

describe('FsMediaStore specifics', () => {
  it('verifies by re-reading: it reports no checksum of its own', () => {
    const store = new FsMediaStore(newRoot());
    expect(store.capabilities).toEqual({ reportsSha256: false, etagIsMd5: false });
    expect(chooseVerificationMethod(store.capabilities, false)).toBe('full');
    expect(store.displayUrl).toMatch(/^file:\/\/\//);
  });

  it('writes files 0600 in folders 0700, named exactly by the key, and leaves no temporary files', async () => {
    const root = newRoot();
    const store = new FsMediaStore(root);
    const key = freshKey();
    const bytes = fakePdf(5000);
    await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
    const path = join(root, ...key.split('/'));
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, key.split('/')[0]!)).mode & 0o777).toBe(0o700);
    const wrong = { ...digests(bytes), sha256Hex: '0'.repeat(64) };
    await expect(store.put({ key: freshKey(), body: { bytes }, ...wrong, contentType: 'application/pdf' })).rejects.toThrow();
    expect(allEntries(root).filter((p) => p.includes('.tmp'))).toEqual([]);
  });

  it('re-hashes the existing file on every put: a rotted file is rewritten, not trusted', async () => {
    const store = new FsMediaStore(newRoot());
    const key = freshKey();
    const bytes = fakePdf(8000);
    const input = { key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' };
    await store.put(input);
    const rotted = Buffer.from(bytes);
    rotted[100] = rotted[100]! ^ 1;
    writeFileSync(store.pathFor(key), rotted);
    const again = await store.put(input);
    expect(again.alreadyPresent).toBe(false);
    expect(readFileSync(store.pathFor(key)).equals(bytes)).toBe(true);
  });

  it('does not list temporary files of writes in flight', async () => {
    const root = newRoot();
    const store = new FsMediaStore(root);
    const key = freshKey();
    const bytes = Buffer.from('%PDF-1');
    await store.put({ key, body: { bytes }, ...digests(bytes), contentType: 'application/pdf' });
    const folder = join(root, ...key.split('/').slice(0, -1));
    writeFileSync(join(folder, '.abc123.tmp'), 'partial');
    const keys: string[] = [];
    for await (const item of store.list('')) keys.push(item.key);
    expect(keys).toEqual([key]);
  });

  it('check() refuses a folder it cannot create', async () => {
    const root = newRoot();
    writeFileSync(root, 'a file where the folder should be');
    await expect(new FsMediaStore(join(root, 'media')).check()).rejects.toThrow(/cannot be created or written/);
  });
});
