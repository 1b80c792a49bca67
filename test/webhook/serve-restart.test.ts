/**
 * `fax-sunset serve` as a process: killed with -9 while a received fax is still queued (uploads
 * to S3 fail through a fault proxy, so the fax cannot finish), then restarted: the queue is the
 * catalog, so the restarted server finishes that fax. SIGTERM stops it gracefully (exit 0), keeping
 * unfinished work queued. Real parts: the CLI from source, the emulator, moto/s3rver, SQLite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startS3Server, type TestS3Server } from '../support/s3-server.js';
import { emulatorMedia, faxNumberOf, pointNumberAt, waitFor } from './webhook-harness.js';

const REPO = resolve(import.meta.dirname, '../..');
const BUCKET = 'serve-restart';
// Absolute: the child runs in a temp dir, where a bare `tsx` would not resolve.
const TSX_LOADER = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');

interface ServeProcess {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves with the first event matching `test`. */
  waitForEvent(test: (event: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

let emu: TestEmulator;
let s3: TestS3Server;
let proxy: FaultProxy;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [emu, s3] = await Promise.all([startTestEmulator({ faxes: 1, numbers: 3, accounts: 0, seed: 11 }), startS3Server()]);
  await s3.createBucket(BUCKET);
  proxy = await startFaultProxy({ target: s3.endpoint, seed: 1 });
  dir = await mkdtemp(join(tmpdir(), 'fax-sunset-serve-'));
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await proxy?.close();
  await s3?.close();
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startServe(s3Endpoint: string, extra: string[] = []): ServeProcess {
  const child = spawn(
    process.execPath,
    [
      '--import', TSX_LOADER, join(REPO, 'src/cli.ts'), 'serve', '--json', '--port', '0',
      '--catalog', join(dir, 'catalog.sqlite'), '--store', `s3://${BUCKET}/faxes`, '--s3-endpoint', s3Endpoint,
      '--workers', '1', '--grace-seconds', '5', ...extra,
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...emu.env,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_REGION: s3.region,
        // Fail fast on the faulty S3 so the test does not wait on the SDK's backoff.
        AWS_MAX_ATTEMPTS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      events.push({ event: 'non-json', line });
    }
    for (const listener of listeners) listener();
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    child,
    events,
    stderr,
    exited,
    waitForEvent: (test, what, timeoutMs = 20_000) =>
      waitFor(() => {
        if (child.exitCode !== null && !events.some(test)) throw new Error(`serve exited (${child.exitCode}) before ${what}: ${stderr.join('')}`);
        return events.find(test);
      }, what, timeoutMs),
  };
}

async function portOf(serve: ServeProcess): Promise<number> {
  const started = await serve.waitForEvent((e) => e.event === 'serve-started', 'serve-started');
  return Number(started.port);
}

describe('serve process: kill -9 with queued work, restart, finish', () => {
  it('keeps a received fax queued across a kill -9 and a graceful stop, and finishes it after restart', async () => {
    // Uploads fail (HEAD for the bucket check still works): the fax is received but cannot be archived.
    proxy.setFaults({ rate: 1, kinds: ['503'], methods: ['PUT'] });
    const first = startServe(proxy.url);
    const number = faxNumberOf(emu);
    await pointNumberAt(emu, number, `http://127.0.0.1:${await portOf(first)}/fax/incoming`);
    const result = await emu.emulator.inboundFax({ to: number.phoneNumber, numPages: 2 });
    expect(result.outcome).toBe('received');
    expect(result.action?.status).toBe(200);
    const faxSid = result.faxSid!;
    await first.waitForEvent((e) => e.event === 'fax-archive-failed' && e.faxSid === faxSid, 'the failed archive attempt');

    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const afterKill = openCatalog(join(dir, 'catalog.sqlite'), { readonly: true });
    try {
      expect(afterKill.getFax(faxSid)?.state).toBe('failed');
    } finally {
      afterKill.close();
    }

    // Restarted while S3 still fails: the fax is still queued; SIGTERM stops gracefully and keeps it.
    const second = startServe(proxy.url);
    const started = await second.waitForEvent((e) => e.event === 'serve-started', 'serve-started');
    expect(started.queueDepth).toBe(1);
    expect(started.signatureCheck).toBe(true);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const stopped = second.events.find((e) => e.event === 'serve-stopped');
    expect(stopped?.queueDepth).toBe(1);

    // Restarted with S3 healthy: the queued fax is archived and verified without any new webhook.
    proxy.setFaults({ rate: 0, kinds: ['503'] });
    const third = startServe(proxy.url);
    await third.waitForEvent((e) => e.event === 'fax-archived' && e.faxSid === faxSid, 'the fax to be archived', 30_000);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);

    const catalog = openCatalog(join(dir, 'catalog.sqlite'), { readonly: true });
    try {
      const row = catalog.getFax(faxSid);
      expect(row?.state).toBe('verified');
      const media = row?.objects.find((o) => o.kind === 'media');
      expect(media?.verifiedAt).not.toBeNull();
      const object = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: `faxes/${media!.key}` }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      const expected = await emulatorMedia(emu, faxSid);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));
      expect(catalog.listRuns().filter((run) => run.kind === 'serve').length).toBe(3);
    } finally {
      catalog.close();
    }
    // No secret reached the logs of any of the three processes.
    const allOutput = JSON.stringify([first.events, second.events, third.events]) + first.stderr.join('') + second.stderr.join('') + third.stderr.join('');
    expect(allOutput).not.toContain(emu.authToken);
    expect(allOutput).not.toContain(s3.secretAccessKey);
  }, 90_000);
});
