/**
 * The media host's ETag is the one end-to-end check of a download (bytes flipped in transit keep
 * their length, magic and page count). But not every ETag is an MD5 of the content: S3 objects under
 * SSE-KMS or SSE-C carry others. Here a real HTTP media host in front of the emulator's rewrites the
 * ETag, and the archive must neither refuse good media forever nor trust a damaged download.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { etagIfContentMd5 } from '../../src/twilio/presigned-media-download.js';
import { startTestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';
import { startRewritingProxy } from '../archive/archive-cli.js';

const EMULATOR_NOW = '2021-12-01T00:00:00Z';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Forwards to the emulator's media host, replacing the answer's headers with `headers`. */
async function startMediaHost(target: string, headers: Record<string, string>): Promise<{ url: string; gets: () => number; close: () => Promise<void> }> {
  const origin = new URL(target);
  let gets = 0;
  const server = http.createServer((req, res) => {
    gets++;
    const upstream = http.request({ hostname: origin.hostname, port: origin.port, method: req.method, path: req.url, headers: { ...req.headers, host: origin.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, ...headers });
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    gets: () => gets,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function archiveThrough(mediaHeaders: Record<string, string>) {
  const emu = await startTestEmulator({ faxes: 12, accounts: 0, seed: 41 });
  const media = await startMediaHost(emu.mediaUrl, mediaHeaders);
  const api = await startRewritingProxy(emu.url, (body) => body.split(emu.mediaUrl).join(media.url));
  const cwd = mkdtempSync(join(tmpdir(), 'fax-sunset-etag-'));
  dirs.push(cwd);
  try {
    const mediaFaxes = emu.emulator.faxes().filter((fax) => fax.media_url).length;
    const run = await runCli(['archive', '--json', '--now', EMULATOR_NOW], { cwd, env: { ...emu.env, FAX_SUNSET_TWILIO_URL: api.url } });
    const db = new Database(join(cwd, 'fax-archive/catalog.sqlite'), { readonly: true });
    const states = db.prepare('SELECT state, COUNT(*) AS n FROM faxes GROUP BY state').all() as { state: string; n: number }[];
    const notMd5Events = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'media-etag-not-md5'").get() as { n: number }).n;
    const objects = db.prepare("SELECT key, sha256 FROM objects WHERE kind = 'media'").all() as { key: string; sha256: string }[];
    db.close();
    for (const object of objects) {
      const bytes = readFileSync(join(cwd, 'fax-archive/media', object.key));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(object.sha256);
    }
    return { run, states, notMd5Events, mediaFaxes, objects: objects.length, gets: media.gets() };
  } finally {
    await api.close();
    await media.close();
    await emu.close();
  }
}

describe("the media host's ETag", () => {
  it('an ETag that is not the MD5 of the bytes: two downloads agree, the media is archived and the finding recorded', async () => {
    const result = await archiveThrough({ etag: `"${'f'.repeat(32)}"` });
    expect(result.run.code, result.run.stderr).toBe(0);
    expect(result.objects).toBe(result.mediaFaxes);
    expect(result.notMd5Events).toBe(result.mediaFaxes);
    expect(result.gets).toBe(2 * result.mediaFaxes);
  });

  it('an SSE-KMS object: its ETag is not taken for an MD5 at all (one download each)', async () => {
    const result = await archiveThrough({ etag: `"${'f'.repeat(32)}"`, 'x-amz-server-side-encryption': 'aws:kms' });
    expect(result.run.code, result.run.stderr).toBe(0);
    expect(result.objects).toBe(result.mediaFaxes);
    expect(result.notMd5Events).toBe(0);
    expect(result.gets).toBe(result.mediaFaxes);
  });

  it('reads the ETag only when it can be an MD5 of the content', () => {
    const etag = `"${'a'.repeat(32)}"`;
    expect(etagIfContentMd5({ etag })).toBe('a'.repeat(32));
    expect(etagIfContentMd5({ etag, 'x-amz-server-side-encryption': 'AES256' })).toBe('a'.repeat(32));
    expect(etagIfContentMd5({ etag, 'x-amz-server-side-encryption': 'aws:kms' })).toBeNull();
    expect(etagIfContentMd5({ etag, 'x-amz-server-side-encryption': 'aws:kms:dsse' })).toBeNull();
    expect(etagIfContentMd5({ etag, 'x-amz-server-side-encryption-customer-algorithm': 'AES256' })).toBeNull();
    expect(etagIfContentMd5({})).toBeNull();
  });
});
