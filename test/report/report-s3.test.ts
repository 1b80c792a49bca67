import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { writeReport } from '../../src/report/write-report.js';
import { openMediaStore } from '../../src/store/open-media-store.js';
import type { MediaStore } from '../../src/store/media-store.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { buildArchive, type ArchiveFixture } from './archive-fixture.js';
import { validateBag } from './bagit-validator.js';

const BUCKET = `fax-report-${process.pid}`;
const PREFIX = 'archive/2025';
let server: TestS3Server;
let store: MediaStore;
let dir: string;
let catalogPath: string;
let fixture: ArchiveFixture;

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
  store = openMediaStore(`s3://${BUCKET}/${PREFIX}`, {
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-report-s3-'));
  catalogPath = join(dir, 'catalog.sqlite');
  const catalog = openCatalog(catalogPath);
  try {
    fixture = await buildArchive(catalog, store, new Date());
  } finally {
    catalog.close();
  }
});

afterAll(async () => {
  await store?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report on an S3 store', () => {
  it("fetch.txt names each object's s3:// URL and size, and the manifest matches the bytes S3 holds", async () => {
    const out = join(dir, 'report');
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      await writeReport({ catalog, store, outDir: out, organization: 'Example Health Clinic' });
    } finally {
      catalog.close();
    }
    const manifest = new Map(
      readFileSync(join(out, 'manifest-sha256.txt'), 'utf8').trim().split('\n').map((l) => {
        const [hash, path] = l.split('  ');
        return [path!, hash!] as const;
      }),
    );
    expect([...manifest.keys()].sort()).toEqual(fixture.archivedKeys.map((k) => `data/${k}`).sort());
    const fetchLines = readFileSync(join(out, 'fetch.txt'), 'utf8').trim().split('\n');
    expect(fetchLines).toHaveLength(manifest.size);
    const client = server.client();
    for (const line of fetchLines) {
      const [url, size, path] = line.split(' ');
      const key = path!.slice('data/'.length);
      expect(url).toBe(`s3://${BUCKET}/${PREFIX}/${key}`);
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      expect(bytes.length).toBe(Number(size));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.get(path!));
      if (server.supportsChecksums) {
        // The report's own instructions: head-object --checksum-mode ENABLED equals the manifest's hex, base64'd.
        const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}`, ChecksumMode: 'ENABLED' }));
        expect(head.ChecksumSHA256).toBe(Buffer.from(manifest.get(path!)!, 'hex').toString('base64'));
      }
    }
    expect(validateBag(out, { requireComplete: false })).toEqual([]);
    const bagInfo = readFileSync(join(out, 'bag-info.txt'), 'utf8');
    expect(bagInfo).toContain(`External-Description: Twilio Programmable Fax archive stored at s3://${BUCKET}/${PREFIX}\n`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(`aws s3api head-object --bucket ${BUCKET} --key ${PREFIX}/`);
  });
});
