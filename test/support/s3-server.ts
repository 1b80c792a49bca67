/**
 * A real S3-compatible server for tests, never a mock (DESIGN.md "Real parts, not mocks").
 *
 * - `moto`: `moto_server` (Python moto) spawned on a free loopback port when it is on PATH. Keeps
 *   checksums (ChecksumMode) and enforces Object Lock. NOTE: moto 5 does NOT check an uploaded
 *   `x-amz-checksum-sha256` or `Content-MD5` against the bytes; it stores what it is told. The store
 *   checks the bytes it sends itself, so tests of "a wrong checksum is refused" hold on every server.
 * - `s3rver`: the npm package, in-process, when moto is absent. Credentials must be S3RVER/S3RVER;
 *   it returns no checksums and ignores Object Lock: tests needing those skip with a reason.
 * - `external`: any endpoint given as `FAX_SUNSET_TEST_S3=http://host:port` (credentials from
 *   AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, default `test`/`test`). Assumed to keep checksums;
 *   Object Lock only when `FAX_SUNSET_TEST_S3_OBJECT_LOCK=1`.
 *
 * `FAX_SUNSET_TEST_S3=moto|s3rver|http://host:port` overrides the automatic choice.
 * Each call starts its own server (separate state); call `close()` in `afterAll`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../src/free-port.js';

export type S3ServerKind = 'moto' | 's3rver' | 'external';

export interface TestS3Server {
  /** `http://127.0.0.1:<port>`: give it to the store as its endpoint (path-style). */
  endpoint: string;
  kind: S3ServerKind;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** HeadObject with ChecksumMode returns the SHA-256 sent with the upload. */
  supportsChecksums: boolean;
  /** Buckets can be created with Object Lock, and locked versions refuse deletion. */
  supportsObjectLock: boolean;
  /** Creates a bucket (idempotent on moto/s3rver if it exists already). */
  createBucket(name: string, options?: { objectLock?: boolean }): Promise<void>;
  /** A client for tests that need to act behind a store's back (tamper, inspect). */
  client(): S3Client;
  /** Stops the server (kills moto_server). Idempotent. */
  close(): Promise<void>;
}

/** Which server to start: the env override, else moto when on PATH, else s3rver. */
export function chooseS3ServerKind(env: NodeJS.ProcessEnv = process.env): { kind: S3ServerKind; endpoint?: string } {
  const wanted = env.FAX_SUNSET_TEST_S3?.trim();
  if (wanted === 'moto' || wanted === 's3rver') return { kind: wanted };
  if (wanted && /^https?:\/\//.test(wanted)) return { kind: 'external', endpoint: wanted.replace(/\/+$/, '') };
  if (wanted) throw new Error(`FAX_SUNSET_TEST_S3 must be moto, s3rver or http://host:port, got ${JSON.stringify(wanted)}`);
  return { kind: isOnPath('moto_server') ? 'moto' : 's3rver' };
}

export async function startS3Server(): Promise<TestS3Server> {
  const choice = chooseS3ServerKind();
  if (choice.kind === 'moto') return startMoto();
  if (choice.kind === 's3rver') return startS3rver();
  return external(choice.endpoint as string);
}

function isOnPath(command: string): boolean {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  return result.status === 0;
}

/** Resolves once anything answers HTTP on the endpoint; rejects if the child died or time ran out. */
async function waitUntilAnswering(endpoint: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    const answered = await new Promise<boolean>((resolve) => {
      const req = httpRequest(`${endpoint}/`, { method: 'GET', timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.end();
    });
    if (answered) return;
    if (Date.now() - started > deadlineMs) throw new Error(`moto_server did not answer on ${endpoint} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function makeServer(fields: Omit<TestS3Server, 'createBucket' | 'client' | 'close'>, stop: () => Promise<void>): TestS3Server {
  let client: S3Client | undefined;
  const getClient = (): S3Client => {
    client ??= new S3Client({
      endpoint: fields.endpoint,
      region: fields.region,
      forcePathStyle: true,
      credentials: { accessKeyId: fields.accessKeyId, secretAccessKey: fields.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return client;
  };
  let closed = false;
  return {
    ...fields,
    client: getClient,
    async createBucket(name, options = {}) {
      if (options.objectLock && !fields.supportsObjectLock) {
        throw new Error(`${fields.kind} does not support Object Lock; skip this test on it`);
      }
      try {
        await getClient().send(
          new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: options.objectLock ? true : undefined }),
        );
      } catch (error) {
        const code = (error as { name?: string }).name;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      client?.destroy();
      await stop();
    },
  };
}

async function startMoto(): Promise<TestS3Server> {
  // A port can be taken between probing and binding; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    // A small shell watchdog owns moto_server in its own process group: it stops moto when this
    // process dies even by SIGKILL (no 'exit' event then), and close() signals the whole group.
    const watchdog = [
      `moto_server -H 127.0.0.1 -p ${port} & m=$!`,
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done`,
      'kill $m 2>/dev/null',
    ].join('\n');
    const child = spawn('sh', ['-c', watchdog], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    // Never leave a Python process behind when the test process ends without calling close().
    const killOnExit = (): void => killGroup('SIGKILL');
    process.once('exit', killOnExit);
    try {
      await waitUntilAnswering(endpoint, child, 30_000);
    } catch (error) {
      killGroup('SIGKILL');
      process.removeListener('exit', killOnExit);
      lastError = new Error(`${(error as Error).message}\n${stderrTail}`);
      continue;
    }
    return makeServer(
      {
        endpoint,
        kind: 'moto',
        accessKeyId: 'testing',
        secretAccessKey: 'testing',
        region: 'us-east-1',
        supportsChecksums: true,
        supportsObjectLock: true,
      },
      async () => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          killGroup('SIGTERM');
          setTimeout(() => killGroup('SIGKILL'), 3000).unref();
        });
      },
    );
  }
  throw lastError;
}

/** The structural subset of s3rver we use (it ships no types). */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

async function startS3rver(): Promise<TestS3Server> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = mkdtempSync(join(tmpdir(), 'fax-sunset-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  return makeServer(
    {
      endpoint: `http://127.0.0.1:${port}`,
      kind: 's3rver',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      region: 'us-east-1',
      supportsChecksums: false,
      supportsObjectLock: false,
    },
    async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  );
}

async function external(endpoint: string): Promise<TestS3Server> {
  return makeServer(
    {
      endpoint,
      kind: 'external',
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      region: process.env.AWS_REGION ?? 'us-east-1',
      supportsChecksums: true,
      supportsObjectLock: process.env.FAX_SUNSET_TEST_S3_OBJECT_LOCK === '1',
    },
    async () => {},
  );
}
