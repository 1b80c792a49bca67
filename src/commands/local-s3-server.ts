/**
 * A local S3-compatible server for `demo --s3`: `moto_server` when it is on PATH, otherwise the npm
 * package `s3rver` (a dev dependency, present after `npm install` in a checkout). Only for the demo:
 * an operator's real archive goes to their own bucket.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '../errors.js';
import { freePort } from '../free-port.js';

export interface LocalS3Server {
  endpoint: string;
  kind: 'moto' | 's3rver';
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(endpoint);
      return;
    } catch {
      if (Date.now() > deadline) throw new ConfigurationError(`the local S3 server at ${endpoint} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startLocalS3Server(): Promise<LocalS3Server> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  if (spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0) {
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', detached: true });
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    process.once('exit', kill);
    await waitUntilAnswering(endpoint, 20_000);
    return { endpoint, kind: 'moto', accessKeyId: 'demo', secretAccessKey: 'demo-secret', close: async () => kill() };
  }
  let S3rver: new (options: Record<string, unknown>) => { run(): Promise<unknown>; close(): Promise<void> };
  try {
    // A dev dependency: named through a variable so the build does not require its types.
    const name = 's3rver';
    S3rver = ((await import(name)) as { default: typeof S3rver }).default;
  } catch {
    throw new ConfigurationError('demo --s3 needs moto_server on PATH or the npm package s3rver (npm install in the checkout)');
  }
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: mkdtempSync(join(tmpdir(), 'fax-sunset-s3rver-')) });
  await server.run();
  return { endpoint, kind: 's3rver', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', close: () => server.close() };
}
