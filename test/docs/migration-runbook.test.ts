/**
 * MIGRATION.md is executable: every `fax-sunset ...` line of its shell blocks runs, in document
 * order, against one in-test Twilio emulator, from one temp folder (the operator's working
 * directory), with credentials only in the environment, and must exit with the code the runbook
 * states (`# exits N`, default 0). Blocks marked `<!-- runbook: shell -->` run whole under
 * `bash -euo pipefail` (store preparation, the "years later" checks without this tool). The rules for
 * reading the document are in runbook-steps.ts.
 *
 * The store: when `moto_server` is on PATH the runbook's `s3://` stores are used as written, on a
 * local moto server (AWS_ENDPOINT_URL_S3 points every SDK and the aws CLI at it); the bucket is made
 * by the runbook's own `aws s3api` block, or by the test when the aws CLI is missing. Without moto,
 * the translation rule `toFilesystemStore` applies: `s3://bucket/prefix` -> `./s3/bucket/prefix` and
 * the S3-only flags (--sse, --kms-key-id, --retain-until, --lock-mode, --storage-class, --s3-endpoint)
 * are dropped; blocks that call the aws CLI are then skipped, and say so.
 *
 * Servers (`# runs until stopped`) are started with `--port 0 --host 127.0.0.1`, probed on
 * /healthz when they print one, then stopped with SIGTERM, and must exit with the stated code.
 *
 * The CLI runs from source (tsx) through a `fax-sunset` wrapper put first on PATH, so the lines run
 * exactly as an operator types them. Children are spawned asynchronously: the emulator lives in this
 * process and must keep answering while they run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { chooseS3ServerKind, startS3Server, type TestS3Server } from '../support/s3-server.js';
import { bucketsOf, parseRunbook, toFilesystemStore, type RunbookStep } from './runbook-steps.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'src', 'cli.ts');
// Absolute: the children run in a temp folder, where a bare `tsx` would not resolve.
const TSX_LOADER = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const DOCUMENT = parseRunbook(readFileSync(join(REPO, 'MIGRATION.md'), 'utf8'));

const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const S3_MODE = chooseS3ServerKind().kind === 'moto';
const TOOLS = { aws: onPath('aws'), sqlite3: onPath('sqlite3'), sha256sum: onPath('sha256sum') };

/** Why a whole-block step cannot run here, or null. */
function shellSkipReason(text: string): string | null {
  if (/(^|\s)aws\s/m.test(text) && !S3_MODE) return 'no moto_server: the store is translated to a folder, aws CLI blocks cannot run';
  for (const [tool, present] of Object.entries(TOOLS)) {
    if (!present && new RegExp(`(^|[\\s|$(])${tool}\\s`, 'm').test(text)) return `${tool} is not on PATH`;
  }
  return null;
}

/**
 * The IAM actions each S3 call of the store needs (AWS's "actions, resources and condition keys for
 * S3"). PutObject also needs s3:PutObjectRetention when it carries Object Lock headers (--retain-until).
 */
const S3_ACTIONS: Record<string, string[]> = {
  HeadBucket: ['s3:ListBucket'],
  ListObjectsV2: ['s3:ListBucket'],
  GetObjectLockConfiguration: ['s3:GetBucketObjectLockConfiguration'],
  HeadObject: ['s3:GetObject'],
  GetObject: ['s3:GetObject'],
  PutObject: ['s3:PutObject', 's3:PutObjectRetention'],
  CreateMultipartUpload: ['s3:PutObject', 's3:PutObjectRetention'],
  UploadPart: ['s3:PutObject'],
  CompleteMultipartUpload: ['s3:PutObject'],
  AbortMultipartUpload: ['s3:AbortMultipartUpload'],
  // Always with a VersionId when the bucket is versioned (removing a torn upload or one version).
  DeleteObject: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
};

/** Environment variables of the developer's shell that would change what a child does. */
const INHERITED_NOISE = /^(TWILIO_|AWS_|FAX_SUNSET_)/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let emu: TestEmulator;
let s3: TestS3Server | null = null;
let work: string;
let env: Record<string, string>;
const exports: string[] = [];

function translate(text: string): string {
  return S3_MODE ? text : toFilesystemStore(text);
}

function prelude(): string {
  return exports.map((line) => `${line}\n`).join('');
}

function runBash(script: string, options: { strict?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  const args = options.strict ? ['-euo', 'pipefail', '-c', script] : ['-c', script];
  return new Promise((done, fail) => {
    const child = spawn('bash', args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Starts a server line, waits for it to print, probes /healthz if it names one, stops it with SIGTERM. */
async function runServer(command: string): Promise<Run & { healthStatus: number | null }> {
  const local = command.replace(/--port[= ]\S+/, '--port 0').replace(/--host[= ]\S+/, '--host 127.0.0.1');
  // `exec`: the wrapper execs node too, so the signal reaches the server itself.
  const child = spawn('bash', ['-c', `${prelude()}exec ${local.includes('--port') ? local : `${local} --port 0`}`], {
    cwd: work,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Ready once it says where it listens: serve's `serve-started` line, the emulator's start-up JSON.
  const printed = new Promise<void>((ready) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (/serve-started|"url":/.test(stdout) && stdout.includes('\n')) ready();
    });
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await Promise.race([printed, exited]);
  let healthStatus: number | null = null;
  if (!exitedEarly) {
    // One HTTP answer before the signal: once the server has answered, the code that runs right after
    // its start-up line (installing its SIGTERM handler) has run too. Without it the signal can win
    // that race and kill the server before it can stop gracefully.
    const health = /healthUrl["=:]+"?(http[^\s"]+)/.exec(stdout)?.[1];
    const origin = /"url":"(http[^"]+)"/.exec(stdout)?.[1];
    if (health) healthStatus = (await fetch(health)).status;
    else if (origin) await (await fetch(origin)).arrayBuffer();
    child.kill('SIGTERM');
  }
  const code = await exited;
  clearTimeout(killer);
  return { code, stdout, stderr, healthStatus };
}

function describeRun(run: Run): string {
  const tail = (text: string) => text.split('\n').slice(-15).join('\n');
  return `exit ${run.code}\n--- stdout\n${tail(run.stdout)}\n--- stderr\n${tail(run.stderr)}`;
}

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 40, accounts: 2, numbers: 6, seed: 7 });
  work = mkdtempSync(join(tmpdir(), 'fax-sunset-runbook-'));
  const bin = join(work, '.bin');
  mkdirSync(bin);
  // The local S3 endpoint reaches fax-sunset only for an s3:// store: the CLI reads AWS_ENDPOINT_URL_S3
  // as --s3-endpoint and refuses it next to a folder store (the inventory runs on the default folder).
  writeFileSync(
    join(bin, 'fax-sunset'),
    '#!/bin/sh\n' +
      'case " $* $FAX_SUNSET_STORE " in *" s3://"*|*"=s3://"*) ;; *) unset AWS_ENDPOINT_URL_S3 ;; esac\n' +
      `exec "${process.execPath}" --import "${TSX_LOADER}" "${CLI}" "$@"\n`,
  );
  chmodSync(join(bin, 'fax-sunset'), 0o755);
  env = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !INHERITED_NOISE.test(name)) env[name] = value;
  Object.assign(env, emu.env, { PATH: `${bin}:${process.env.PATH ?? ''}` });
  if (S3_MODE) {
    s3 = await startS3Server();
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      AWS_DEFAULT_REGION: s3.region,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      // The aws CLI must not pick up a profile of the machine it runs on.
      AWS_CONFIG_FILE: join(work, '.aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, '.aws-credentials'),
      AWS_PAGER: '',
    });
    // Without the aws CLI the runbook's bucket block cannot run: make what it would have made.
    if (!TOOLS.aws) for (const bucket of bucketsOf(DOCUMENT.steps)) await s3.createBucket(bucket, { objectLock: true });
  }
}, 120_000);

afterAll(async () => {
  await emu?.close();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function title(step: RunbookStep): string {
  const text = step.text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? step.text;
  return `MIGRATION.md:${step.line} ${text.trim().slice(0, 110)}`;
}

describe('MIGRATION.md, run top to bottom against the emulator', () => {
  it('has runnable commands, a shell check of the archive without this tool, and an IAM policy', () => {
    const commands = DOCUMENT.steps.filter((s) => s.kind === 'command').map((s) => s.text);
    for (const verb of ['archive', 'sync', 'verify', 'report', 'numbers plan', 'numbers apply', 'numbers rollback', 'serve']) {
      expect(commands.some((c) => c.startsWith(`fax-sunset ${verb} `)), `a runnable \`fax-sunset ${verb}\``).toBe(true);
    }
    expect(commands.some((c) => /--delete\b.*--max-delete \d+/.test(c))).toBe(true);
    expect(DOCUMENT.steps.some((s) => s.kind === 'shell' && /sha256sum (-c|--check)/.test(s.text))).toBe(true);
    expect(DOCUMENT.iamPolicies.length).toBe(1);
  });

  for (const step of DOCUMENT.steps) {
    if (step.kind === 'export') {
      // Not a test of its own: replayed before every later step, in order, as a shell session would.
      it(title(step), () => {
        exports.push(translate(step.text));
        expect(step.name).toMatch(/^[A-Z_][A-Z0-9_]*$/);
      });
      continue;
    }
    if (step.kind === 'shell') {
      const reason = shellSkipReason(step.text);
      it.skipIf(reason !== null)(`${title(step)}${reason ? ` (skipped: ${reason})` : ''}`, async () => {
        const run = await runBash(`${prelude()}${translate(step.text)}`, { strict: true });
        expect(run.code, describeRun(run)).toBe(0);
      }, 90_000);
      continue;
    }
    it(`${title(step)} -> exit ${step.expectedExit}`, async () => {
      const command = translate(step.text);
      if (step.background) {
        const run = await runServer(command);
        expect(run.code, describeRun(run)).toBe(step.expectedExit);
        if (run.healthStatus !== null) expect(run.healthStatus).toBe(200);
        return;
      }
      const run = await runBash(`${prelude()}${command}`);
      expect(run.code, describeRun(run)).toBe(step.expectedExit);
    }, 90_000);
  }

  it('grants in its IAM policy every S3 action the store calls, and nothing else', () => {
    const policy = JSON.parse(DOCUMENT.iamPolicies[0] ?? '{}') as { Statement?: Array<{ Action: string[] | string }> };
    const granted = new Set((policy.Statement ?? []).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
    const called = new Set<string>();
    for (const file of readdirSync(join(REPO, 'src', 'store')).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(REPO, 'src', 'store', file), 'utf8');
      for (const match of source.matchAll(/new (\w+)Command\(/g)) called.add(match[1] ?? '');
    }
    expect(called.size).toBeGreaterThan(0);
    const needed = new Set<string>(['kms:GenerateDataKey', 'kms:Decrypt']);
    for (const call of called) {
      const actions = S3_ACTIONS[call];
      expect(actions, `MIGRATION.md's IAM policy does not cover S3 ${call}: add its action and to S3_ACTIONS`).toBeDefined();
      for (const action of actions ?? []) {
        needed.add(action);
        expect(granted.has(action), `${call} needs ${action}`).toBe(true);
      }
    }
    expect([...granted].sort()).toEqual([...needed].sort());
  });

  it('followed to the end, left every fax archived and deleted from Twilio, and every number in voice mode', () => {
    const catalog = new Database(join(work, 'fax-archive', 'catalog.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const states = catalog.prepare('SELECT state, count(*) AS n FROM faxes GROUP BY state').all() as Array<{ state: string; n: number }>;
      expect(states).toEqual([{ state: 'deleted', n: 40 }]);
      const receipts = catalog.prepare('SELECT count(*) AS n FROM deletions WHERE http_status = 204').get() as { n: number };
      expect(receipts.n).toBe(40);
    } finally {
      catalog.close();
    }
    expect(emu.emulator.faxes()).toHaveLength(0);
    const numbers = emu.emulator.numbers();
    expect(numbers.length).toBe(6);
    expect(numbers.filter((n) => n.voice_receive_mode === 'fax')).toEqual([]);
  });
});
