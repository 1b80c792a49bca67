import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { writeReport } from '../../src/report/write-report.js';
import { ACCOUNT_MAIN, ACCOUNT_SUB, AUTH_TOKEN, BASIC_CREDENTIALS, buildArchive, URL_SIGNATURE, type ArchiveFixture } from './archive-fixture.js';
import { validateBag } from './bagit-validator.js';

const NOW = new Date();
let dir: string;
let catalogPath: string;
let store: FsMediaStore;
let fixture: ArchiveFixture;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function manifestEntries(outDir: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of readFileSync(join(outDir, 'manifest-sha256.txt'), 'utf8').split('\n')) {
    if (!line) continue;
    const [hash, path] = line.split(/  /);
    entries.set(path!, hash!);
  }
  return entries;
}

function allOutputText(outDir: string): string {
  const texts: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else texts.push(readFileSync(p, 'latin1'));
    }
  };
  walk(outDir);
  return texts.join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-report-'));
  catalogPath = join(dir, 'catalog.sqlite');
  store = new FsMediaStore(join(dir, 'media'));
  await store.check();
  const catalog = openCatalog(catalogPath);
  try {
    fixture = await buildArchive(catalog, store, NOW);
  } finally {
    catalog.close();
  }
});

afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function report(outDir: string, options: { bag?: boolean } = {}) {
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    return await writeReport({
      catalog,
      store,
      outDir,
      bag: options.bag,
      organization: 'Example Health Clinic',
      now: NOW,
      knownSecrets: [AUTH_TOKEN],
      softwareAgent: 'fax-sunset test',
    });
  } finally {
    catalog.close();
  }
}

describe('writeReport on a filesystem store', () => {
  it('writes every output; the manifest lists exactly the archived objects and matches the stored bytes', async () => {
    const out = join(dir, 'report-plain');
    const result = await report(out);
    for (const name of ['faxes.csv', 'summary.json', 'report.html', 'bagit.txt', 'bag-info.txt', 'manifest-sha256.txt', 'fetch.txt', 'tagmanifest-sha256.txt']) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);

    const entries = manifestEntries(out);
    expect([...entries.keys()].sort()).toEqual(fixture.archivedKeys.map((k) => `data/${k}`).sort());
    for (const key of fixture.unprovenKeys) expect(entries.has(`data/${key}`)).toBe(false);
    let bytes = 0;
    for (const [path, hash] of entries) {
      const stored = join(store.root, path.slice('data/'.length));
      expect(sha256(stored), path).toBe(hash);
      bytes += statSync(stored).size;
    }

    const bagInfo = readFileSync(join(out, 'bag-info.txt'), 'utf8');
    expect(bagInfo).toContain('Source-Organization: Example Health Clinic\n');
    expect(bagInfo).toContain(`External-Identifier: ${ACCOUNT_MAIN}\n`);
    expect(bagInfo).toContain(`External-Identifier: ${ACCOUNT_SUB}\n`);
    expect(bagInfo).toContain(`Bagging-Date: ${NOW.toISOString().slice(0, 10)}\n`);
    expect(bagInfo).toContain(`Payload-Oxum: ${bytes}.${entries.size}\n`);
    expect(result.payload).toMatchObject({ bytes, count: entries.size, complete: false });

    const fetchLines = readFileSync(join(out, 'fetch.txt'), 'utf8').trim().split('\n');
    expect(fetchLines).toHaveLength(entries.size);
    for (const line of fetchLines) {
      const [url, size, path] = line.split(' ');
      expect(url).toBe(`${store.displayUrl}/${path!.slice('data/'.length)}`);
      expect(Number(size)).toBe(statSync(join(store.root, path!.slice('data/'.length))).size);
    }
    // A holey bag: valid once fetched; its tag manifest already checks out.
    expect(validateBag(out, { requireComplete: false })).toEqual([]);
  });

  it('summary.json and faxes.csv tell the same story as the catalog', async () => {
    const out = join(dir, 'report-summary');
    await report(out);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.schema).toBe('fax-sunset/report-summary@1');
    expect(summary.totals.faxes).toBe(12);
    expect(summary.totals.archived).toBe(8);
    expect(summary.byState).toMatchObject({ verified: 5, deleted: 2, 'metadata-only': 1, stored: 1, failed: 1, lost: 1, listed: 1 });
    expect(summary.deletions).toMatchObject({ withReceipt: 2, withRequestId: 2, alreadyGone: 1, openIntents: 1 });
    expect(summary.exceptions['at-risk'].items.map((i: { state: string }) => i.state)).toEqual(['failed']);
    expect(summary.exceptions.lost.total).toBe(1);
    expect(summary.runs.map((r: { kind: string }) => r.kind).sort()).toEqual(['archive', 'verify']);
    expect(summary.chain.intact).toBe(true);
    expect(summary.chain.events).toBeGreaterThan(10);
    expect(summary.verification.objectsByMethod.full).toBeGreaterThan(0);
    expect(summary.bag.payloadOxum).toMatch(/^\d+\.15$/);
    const csvLines = readFileSync(join(out, 'faxes.csv'), 'utf8').trim().split('\n');
    expect(csvLines).toHaveLength(1 + 12);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-intact="true"');
    expect(html).toContain('Example Health Clinic');
  });

  it('--bag writes a valid, complete bag with hard-linked payload, and a rerun replaces it atomically', async () => {
    const out = join(dir, 'report-bag');
    const first = await report(out, { bag: true });
    expect(validateBag(out)).toEqual([]);
    expect(existsSync(join(out, 'fetch.txt'))).toBe(false);
    const key = fixture.archivedKeys[0]!;
    expect(statSync(join(out, 'data', key)).ino).toBe(statSync(join(store.root, key)).ino);
    expect(first.files[0]).toBe('data');
    expect(first.files.at(-1)).toBe('tagmanifest-sha256.txt');

    await report(out, { bag: true });
    expect(validateBag(out)).toEqual([]);
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);

    // Switching back to a plain report removes the stale payload and adds fetch.txt.
    await report(out);
    expect(existsSync(join(out, 'data'))).toBe(false);
    expect(existsSync(join(out, 'fetch.txt'))).toBe(true);
    expect(validateBag(out, { requireComplete: false })).toEqual([]);
  });

  it('the validator is not a rubber stamp: a changed payload byte or a missing file is caught', async () => {
    const out = join(dir, 'report-bag-tamper');
    await report(out, { bag: true });
    // Replace (not edit: the payload is hard-linked to the store) one payload file.
    const victim = join(out, 'data', fixture.archivedKeys[1]!);
    const bytes = readFileSync(victim);
    bytes[10] = bytes[10]! ^ 0xff;
    rmSync(victim);
    await import('node:fs/promises').then((fs) => fs.writeFile(victim, bytes));
    expect(validateBag(out).join('\n')).toMatch(/checksum mismatch/);
    rmSync(victim);
    expect(validateBag(out).join('\n')).toMatch(/missing/);
  });

  it('detects a tampered catalog: an event edited with raw SQL breaks the chain, and the report says so', async () => {
    const tampered = join(dir, 'tampered.sqlite');
    const source = new Database(catalogPath, { readonly: true });
    await source.backup(tampered);
    source.close();
    const db = new Database(tampered);
    // What a tamperer would do: drop the append-only trigger, then rewrite history.
    db.exec('DROP TRIGGER events_no_update');
    // Pretend Twilio answered 204 (we deleted it) where it really said 404 (it was already gone).
    const target = db.prepare("SELECT id, data FROM events WHERE type = 'deletion-receipt' AND data LIKE '%404%'").get() as { id: number; data: string };
    expect(target).toBeTruthy();
    const edited = { ...JSON.parse(target.data), httpStatus: 204 };
    db.prepare('UPDATE events SET data = ? WHERE id = ?').run(JSON.stringify(edited), target.id);
    db.close();

    const catalog = openCatalog(tampered, { readonly: true });
    const out = join(dir, 'report-tampered');
    try {
      const result = await writeReport({ catalog, store, outDir: out, now: NOW });
      expect(result.model.chain.intact).toBe(false);
      expect(result.model.chain.brokenAtId).toBe(target.id);
    } finally {
      catalog.close();
    }
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).chain).toMatchObject({ intact: false, brokenAtId: target.id });
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-intact="false"');
    expect(html).toContain(`BROKEN at event #${target.id}`);
  });

  it('no secret reaches any output: not the auth token, not a pre-signed URL signature', async () => {
    const out = join(dir, 'report-secrets');
    await report(out, { bag: true });
    const text = allOutputText(out);
    expect(text).toContain('media download failed'); // the failure is reported...
    expect(text).not.toContain(AUTH_TOKEN); // ...without its secrets
    expect(text).not.toContain(BASIC_CREDENTIALS);
    expect(text).not.toContain(URL_SIGNATURE);
    expect(text).not.toMatch(/X-Amz-Signature=[0-9a-f]/);
  });

  it('refuses --bag on a store that is not a folder', async () => {
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      await expect(writeReport({ catalog, store: { displayUrl: 's3://bucket/prefix', read: async () => null }, outDir: join(dir, 'nope'), bag: true })).rejects.toThrow(/--bag needs a filesystem store/);
    } finally {
      catalog.close();
    }
  });
});
