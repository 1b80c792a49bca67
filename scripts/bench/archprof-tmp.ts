import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_EMULATOR_NOW, startEmulator } from '../../src/emulator/index.js';
import { startS3Server } from '../../test/support/s3-server.js';

function countingProxy(target: URL): Promise<{ url: string; connections: () => number; close: () => void }> {
  let n = 0;
  const server = net.createServer((socket) => {
    n++;
    const upstream = net.connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, connections: () => n, close: () => server.close() })));
}

const faxes = Number(process.argv[2] ?? 200);
const prof = process.argv[3];
const s3 = await startS3Server();
await s3.createBucket('prof');
const proxy = await countingProxy(new URL(s3.endpoint));
const emu = await startEmulator({ faxes, seed: 7, numbers: 3, accounts: 0, port: 0, mediaPort: 0 });
const dir = mkdtempSync(join(tmpdir(), 'archprof-'));
const cli = process.env.CLI ?? 'dist/cli.js';
const args = ['-f', 'CPU %U %S', process.execPath, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), cli, 'archive', '--catalog', join(dir, 'c.sqlite'), '--store', 's3://prof/a', '--s3-endpoint', proxy.url,
  '--now', DEFAULT_EMULATOR_NOW.toISOString(), '--workers', '8', '--upload-concurrency', '8', '--media-concurrency', '8', '--json'];
const { sid, authToken } = emu.mainAccount;
const started = performance.now();
const child = spawn('/usr/bin/time', args, { env: { ...process.env, TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: authToken, FAX_SUNSET_TWILIO_URL: emu.url, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
let out = ''; child.stdout.on('data', (c) => (out += c)); let err = ''; child.stderr.on('data', (c) => (err += c));
const code = await new Promise((r) => child.on('close', r));
const wall = performance.now() - started;
const last = out.trim().split('\n').pop() ?? '';
const summary = JSON.parse(last);
const st = emu.stats() as any;
const cpuLine = err.trim().split('\n').pop()!.split(' ');
const cpuS = Number(cpuLine[1]) + Number(cpuLine[2]);
console.log(JSON.stringify({ cpuS, cpuMsPerFax: Math.round(cpuS / faxes * 10000) / 10, code, wallS: Math.round(wall) / 1000, archived: summary.archived, metadataOnly: summary.metadataOnly, failed: summary.failed, s3Connections: proxy.connections(), mediaRequests: st.mediaRequests, apiRequests: st.requestsTotal }));
if (code !== 0) console.log(err.slice(-1000));
proxy.close(); await emu.close(); await s3.close();
rmSync(dir, { recursive: true, force: true });
