import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { openMediaStore } from '../../src/store/open-media-store.js';
import { readCatalog, runCli, stderrLines, summaryOf } from '../archive/archive-cli.js';
import { ACCOUNT_MAIN, buildArchive, faxSidFor } from '../report/archive-fixture.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { buildRecordsWorld, type RecordsWorld } from './records-world.js';

let world: RecordsWorld;

beforeAll(async () => {
  world = await buildRecordsWorld('restore');
});

afterAll(() => {
  if (world) rmSync(world.dir, { recursive: true, force: true });
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function disclosures(catalogPath: string): Array<Record<string, any>> {
  const db = new Database(catalogPath, { readonly: true });
  try {
    return (db.prepare(`SELECT data FROM events WHERE type = 'disclosure' ORDER BY id`).all() as { data: string }[]).map((r) => JSON.parse(r.data));
  } finally {
    db.close();
  }
}

describe('fax-sunset restore (filesystem store recorded in the catalog)', () => {
  it('writes each object under its store key with the catalog\'s SHA-256; a tampered object: one line, exit 1, nothing of that fax written; the restore is a disclosure', async () => {
    const good = faxSidFor(1);
    const tampered = faxSidFor(2);
    const { objects } = readCatalog(world.catalogPath);
    const tamperedMedia = objects.find((o) => o.fax_sid === tampered && o.kind === 'media')!;
    // Someone changed the archived bytes behind the catalog's back (same size, one byte flipped).
    const storePath = join(world.storeRoot, ...tamperedMedia.key.split('/'));
    const bytes = readFileSync(storePath);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(storePath, bytes);

    const out = join(world.dir, 'restored');
    const run = await runCli(['restore', good, tampered, '--out', out, '--catalog', world.catalogPath, '--json'], { cwd: world.dir });
    expect(run.code).toBe(1);
    expect(stderrLines(run)).toEqual([expect.stringContaining(`${tampered} NOT RESTORED: ${tamperedMedia.key}: the store's bytes`)]);
    for (const o of objects.filter((x) => x.fax_sid === good)) {
      const path = join(out, ...o.key.split('/'));
      expect(sha(path)).toBe(o.sha256);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    }
    for (const o of objects.filter((x) => x.fax_sid === tampered)) expect(existsSync(join(out, ...o.key.split('/')))).toBe(false);
    // No temp file left behind either.
    const all = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(dir, e.name)) : [e.name]));
    expect(all(out).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(summaryOf(run)).toMatchObject({ command: 'restore', exitCode: 1, restored: [good], objects: 2, disclosureRecorded: true });

    const [disclosure] = disclosures(world.catalogPath);
    expect(disclosure).toMatchObject({ action: 'restore', sids: [good], objects: 2, destination: out, manifestSha256: summaryOf(run)!.manifestSha256 });
    expect(disclosure!.by).toMatch(/^.+@.+$/);
    const catalog = openCatalog(world.catalogPath, { readonly: true });
    try {
      expect(catalog.checkEventChain().intact).toBe(true);
    } finally {
      catalog.close();
    }
    // show lists the disclosure among the fax's events (it names the fax in its sids, not in fax_sid).
    const shown = await runCli(['show', good, '--catalog', world.catalogPath, '--json'], { cwd: world.dir });
    const fax = JSON.parse(shown.stdout.split('\n')[0]!) as { events: Array<{ type: string; data: Record<string, unknown> }> };
    expect(fax.events.filter((e) => e.type === 'disclosure').map((e) => e.data.action)).toEqual(['restore']);
  });

  it('a fax with nothing archived, or unknown: one line each, exit 1; no disclosure when nothing was handed over', async () => {
    const before = disclosures(world.catalogPath).length;
    const run = await runCli(['restore', faxSidFor(12), `FX${'ab'.repeat(16)}`, '--out', join(world.dir, 'r2'), '--catalog', world.catalogPath], { cwd: world.dir });
    expect(run.code).toBe(1);
    expect(stderrLines(run)).toEqual([expect.stringContaining('nothing of it is archived (state listed)'), expect.stringContaining('not in the catalog')]);
    expect(disclosures(world.catalogPath)).toHaveLength(before);
  });
});

describe('fax-sunset restore from the S3 store the catalog recorded', () => {
  let server: TestS3Server;
  let dir: string;
  const bucket = `fax-restore-${process.pid}`;

  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket(bucket);
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the bucket and endpoint in catalog_identity (no --store) and restores byte-identical objects', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fax-sunset-restore-s3-'));
    const catalogPath = join(dir, 'catalog.sqlite');
    const store = openMediaStore(`s3://${bucket}/archive`, {
      endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    const catalog = openCatalog(catalogPath);
    try {
      catalog.recordIdentity({ store: store.displayUrl, storeEndpoint: server.endpoint, accountSid: ACCOUNT_MAIN });
      await buildArchive(catalog, store, new Date());
    } finally {
      catalog.close();
      await store.close();
    }
    const sid = faxSidFor(7); // a TIFF in the subaccount
    const out = join(dir, 'out');
    const run = await runCli(['restore', sid, '--out', out, '--catalog', catalogPath, '--json'], {
      cwd: dir,
      env: { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, AWS_REGION: server.region },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(summaryOf(run)).toMatchObject({ command: 'restore', exitCode: 0, restored: [sid], store: `s3://${bucket}/archive` });
    const objects = readCatalog(catalogPath).objects.filter((o) => o.fax_sid === sid);
    expect(objects.map((o) => o.kind).sort()).toEqual(['media', 'sidecar']);
    for (const o of objects) expect(sha(join(out, ...o.key.split('/')))).toBe(o.sha256);
  });
});
