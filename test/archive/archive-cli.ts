/**
 * What the archive proof tests share: spawning the real CLI (the most honest way to run it: its own
 * process, its own exit code, its own stdout/stderr) and reading what it left behind without going
 * through the code under test (better-sqlite3 straight on the catalog, the AWS SDK straight on S3).
 *
 * The CLI is spawned asynchronously on purpose: the emulator runs inside the test process, so a
 * blocking spawnSync would stop it from answering the very requests the child makes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

export { REPO, runCli, type CliRun } from '../support/cli-process.js';
import type { CliRun } from '../support/cli-process.js';

/** The `--json` summary line of a run (the last line with event "summary"), or null. */
export function summaryOf(run: CliRun): Record<string, unknown> | null {
  const lines = run.stdout.split('\n').filter((line) => line.trim().startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const value = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (value.event === 'summary') return value;
    } catch {
      // not JSON: skip
    }
  }
  return null;
}

/** stderr's non-empty lines: a failing command must say what is wrong in exactly one of them. */
export function stderrLines(run: CliRun): string[] {
  return run.stderr.split('\n').filter((line) => line.trim() !== '');
}

export interface CatalogFax {
  sid: string;
  account_sid: string;
  state: string;
  media_sha256: string | null;
  last_error: string | null;
}

export interface CatalogObject {
  fax_sid: string;
  kind: 'media' | 'sidecar';
  key: string;
  size: number;
  sha256: string;
  verified_at: string | null;
  verification_method: string | null;
}

/** Reads the catalog's faxes and objects directly, read-only. */
export function readCatalog(path: string): { faxes: Map<string, CatalogFax>; objects: CatalogObject[]; deletions: Array<{ fax_sid: string; http_status: number | null; receipt_at: string | null }> } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const faxes = new Map<string, CatalogFax>();
    for (const row of db.prepare('SELECT sid, account_sid, state, media_sha256, last_error FROM faxes').all() as CatalogFax[]) faxes.set(row.sid, row);
    const objects = db.prepare('SELECT fax_sid, kind, key, size, sha256, verified_at, verification_method FROM objects').all() as CatalogObject[];
    const deletions = db.prepare('SELECT fax_sid, http_status, receipt_at FROM deletions').all() as Array<{ fax_sid: string; http_status: number | null; receipt_at: string | null }>;
    return { faxes, objects, deletions };
  } finally {
    db.close();
  }
}

/** Every key in the bucket (under `prefix`), with its size. */
export async function listBucket(client: S3Client, bucket: string, prefix = ''): Promise<Map<string, number>> {
  const keys = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) if (item.Key) keys.set(item.Key, item.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** An object's bytes as S3 holds them. */
export async function readObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs `task` over `items` with at most `limit` at once (small audits against a local S3 server). */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface RewritingProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A real HTTP server in front of the emulator's API: forwards every request, rewrites the emulator's
 * origin to its own in response bodies (so paging stays on the proxy), then lets `rewrite` change the
 * body, e.g. spoil a list page or swap a token. Bodies of the emulator's API are small JSON.
 */
export async function startRewritingProxy(
  targetUrl: string,
  rewrite: (body: string, request: { method: string; path: string; status: number }) => string | { status: number; body: string },
): Promise<RewritingProxy> {
  const target = new URL(targetUrl);
  let origin = '';
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('error', () => res.destroy());
        up.on('end', () => {
          const forwarded = Buffer.concat(chunks).toString('utf8').split(target.origin).join(origin);
          const rewritten = rewrite(forwarded, { method: req.method ?? 'GET', path: req.url ?? '/', status: up.statusCode ?? 0 });
          // A rewrite may also answer with another status (e.g. fail one page of a listing).
          const { status, body } = typeof rewritten === 'string' ? { status: up.statusCode ?? 502, body: rewritten } : rewritten;
          const headers = { ...up.headers };
          delete headers['content-length'];
          delete headers['transfer-encoding'];
          res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', () => resolvePromise()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
