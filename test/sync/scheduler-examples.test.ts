/**
 * The README's "Running it every night" examples stay copy-pasteable: every fax-sunset command
 * line in the cron, systemd and Kubernetes blocks uses only flags that exist, and runs for real
 * against the emulator (paths and credentials swapped for a temp dir and the emulator's); the cron
 * script runs under /bin/sh as cron would; the env file sources; the unit files pass
 * `systemd-analyze verify` (when systemd-analyze is installed); the CronJob has what it promises.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireCatalogLock } from '../../src/catalog/catalog-lock.js';
import { archiveCommand, syncCommand } from '../../src/commands/archive-command.js';
import { verifyCommand } from '../../src/commands/verify-command.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { REPO, runCli, type CliRun } from './sync-cli.js';

interface Block {
  lang: string;
  /** The path named on the block's first comment line (`# /etc/...`), or null. */
  name: string | null;
  text: string;
}

function nightlySection(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Running it every night');
  if (start < 0) throw new Error('README has no "Running it every night" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    const text = m[2]!;
    const named = /^(?:#!\/bin\/sh\n)?#\s+(\S+)/.exec(text);
    blocks.push({ lang: m[1]!, name: named ? named[1]! : null, text });
  }
  return blocks;
}

function block(blocks: Block[], name: string): Block {
  const found = blocks.find((b) => b.name === name);
  if (!found) throw new Error(`README block ${name} not found`);
  return found;
}

/** A shell line's fax-sunset invocations as argument lists (up to a redirection or an operator). */
function shellInvocations(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    const re = /(?:^|[\s;'(&|])(?:\/usr\/local\/bin\/)?fax-sunset\s+([^;|&'\n]*)/g;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const args: string[] = [];
      for (const token of m[1]!.trim().split(/\s+/)) {
        if (/^\d?>>?/.test(token)) break;
        args.push(token);
      }
      // `fax-sunset` is also the service user's name (`useradd ... fax-sunset`, a crontab's user field).
      if (args.length > 0 && SUBCOMMANDS.has(args[0]!)) out.push(args);
    }
  }
  return out;
}

const COMMANDS: Record<string, () => Command> = { sync: syncCommand, verify: verifyCommand, archive: archiveCommand };
const SUBCOMMANDS = new Set(['archive', 'sync', 'verify', 'report', 'numbers', 'serve', 'emulator', 'demo']);

/** Every `--flag` used exists on that command (commander's own option table). */
function unknownFlags(args: string[]): string[] {
  const make = COMMANDS[args[0]!];
  if (!make) return [`unknown command ${args[0]}`];
  const longs = new Set(make().options.map((o) => o.long));
  return args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!).filter((flag) => !longs.has(flag));
}

let emu: TestEmulator;
let dir: string;
let blocks: Block[];
let paths: { env: string; state: string; log: string; bin: string; catalog: string; store: string };

/** The README env file with its values swapped for the emulator's and the temp dir's; every key must be one we know. */
function testEnvFile(readmeEnv: string): string {
  const values: Record<string, string> = {
    TWILIO_ACCOUNT_SID: emu.accountSid,
    TWILIO_AUTH_TOKEN: emu.authToken,
    FAX_SUNSET_CATALOG: paths.catalog,
    FAX_SUNSET_STORE: paths.store,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'unused-by-a-folder-store',
    AWS_SECRET_ACCESS_KEY: 'unused-by-a-folder-store',
  };
  const lines = readmeEnv.split('\n').map((line) => {
    const m = /^([A-Z0-9_]+)=/.exec(line);
    if (!m) return line;
    if (!(m[1]! in values)) throw new Error(`the README env file sets ${m[1]}, which this test does not know`);
    return `${m[1]}=${values[m[1]!]}`;
  });
  return [...lines, `FAX_SUNSET_TWILIO_URL=${emu.url}`, ''].join('\n');
}

/** README paths to the temp dir's. */
function localize(text: string): string {
  return text
    .replaceAll('/etc/fax-sunset/env', paths.env)
    .replaceAll('/var/lib/fax-sunset', paths.state)
    .replaceAll('/var/log/fax-sunset', paths.log)
    .replaceAll('/usr/local/bin/', `${paths.bin}/`);
}

function sh(script: string, extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    // Asynchronous: the emulator in this process must keep answering the child.
    import('node:child_process').then(({ spawn }) => {
      const child = spawn('/bin/sh', ['-c', script], {
        cwd: dir,
        env: { PATH: `${paths.bin}:/usr/bin:/bin`, HOME: dir, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    }, reject);
  });
}

function historyLines(): Record<string, unknown>[] {
  return readFileSync(join(paths.log, 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  blocks = codeBlocks(nightlySection());
  emu = await startTestEmulator({ faxes: 5, accounts: 1, seed: 61 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-scheduler-'));
  paths = {
    env: join(dir, 'etc', 'env'),
    state: join(dir, 'state'),
    log: join(dir, 'log'),
    bin: join(dir, 'bin'),
    catalog: join(dir, 'state', 'catalog.sqlite'),
    store: join(dir, 'state', 'media'),
  };
  for (const folder of [join(dir, 'etc'), paths.state, paths.log, paths.bin]) mkdirSync(folder, { recursive: true });
  // `fax-sunset` on PATH, as an installed package would put it: the CLI from source.
  const shim = join(paths.bin, 'fax-sunset');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" --import "${join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')}" "${join(REPO, 'src', 'cli.ts')}" "$@"\n`);
  chmodSync(shim, 0o755);
  writeFileSync(paths.env, testEnvFile(block(blocks, '/etc/fax-sunset/env').text), { mode: 0o600 });
});

afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README: Running it every night', () => {
  it('names the blocks it promises, and every fax-sunset command in them uses only existing flags', () => {
    const names = blocks.map((b) => b.name);
    for (const name of ['/etc/fax-sunset/env', '/usr/local/bin/fax-sunset-nightly', '/etc/cron.d/fax-sunset',
      '/etc/systemd/system/fax-sunset-sync.service', '/etc/systemd/system/fax-sunset-sync.timer', 'fax-sunset-cronjob.yaml']) {
      expect(names).toContain(name);
    }
    const invocations = [
      ...blocks.filter((b) => b.lang === 'sh' || b.lang === 'ini').flatMap((b) => shellInvocations(b.text.replaceAll('%%', '%'))),
      ...kubernetesCommands().map((c) => c.slice(1)),
    ];
    expect(invocations.length).toBeGreaterThanOrEqual(5);
    for (const args of invocations) expect(unknownFlags(args), args.join(' ')).toEqual([]);
    // The prose's verify unit line too (in a unit file % is written %%).
    const prose = nightlySection().match(/ExecStart=\/usr\/local\/bin\/fax-sunset [^`]+/g) ?? [];
    expect(prose.length).toBeGreaterThanOrEqual(2);
  });

  it('the env file is plain KEY=value lines that /bin/sh sources, with no secrets in the other blocks', () => {
    const env = block(blocks, '/etc/fax-sunset/env').text;
    const asIs = join(dir, 'readme.env');
    writeFileSync(asIs, env, { mode: 0o600 });
    const sourced = spawnSync('/bin/sh', ['-c', `set -a; . "${asIs}"; set +a; echo "$TWILIO_ACCOUNT_SID $FAX_SUNSET_STORE"`], { encoding: 'utf8' });
    expect(sourced.status, sourced.stderr).toBe(0);
    expect(sourced.stdout.trim()).toMatch(/^AC\w+ s3:\/\/\S+$/);
    for (const line of env.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      expect(line).toMatch(/^[A-Z0-9_]+=[^\s"'$`]+$/); // also what systemd's EnvironmentFile= reads literally
    }
    for (const b of blocks) {
      if (b.name === '/etc/fax-sunset/env' || b.text.includes('kubectl create secret')) continue;
      expect(b.text, b.name ?? b.lang).not.toMatch(/TWILIO_AUTH_TOKEN=|AWS_SECRET_ACCESS_KEY=/);
    }
  });

  it('the cron script runs under /bin/sh: sync and a 5% verify, one summary line each, silent when all is well', async () => {
    const script = localize(block(blocks, '/usr/local/bin/fax-sunset-nightly').text);
    const path = join(paths.bin, 'fax-sunset-nightly');
    writeFileSync(path, script, { mode: 0o755 });
    const run = await sh(path);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(''); // cron mails nothing
    const history = historyLines();
    expect(history.map((h) => [h.command, h.exitCode])).toEqual([['sync', 0], ['verify', 0]]);
    expect(history[0]!.newFaxes).toBe(emu.emulator.faxes().length);
    expect(history[1]!.faxesChecked).toBe(1); // 5% of a handful: one
    expect(readFileSync(join(paths.log, 'sync.log'), 'utf8')).toContain('"event":"phase"');
  });

  it('the cron script says so and exits 3 while another run holds the lock', async () => {
    const lock = acquireCatalogLock(paths.catalog, { command: 'test-holder' });
    try {
      const run = await sh(join(paths.bin, 'fax-sunset-nightly'));
      expect(run.code).toBe(3);
      expect(run.stdout).toMatch(/holds the catalog lock \(exit 3\)/);
    } finally {
      lock.release();
    }
  });

  it('the crontab lines are well formed and the monthly full verify runs', async () => {
    const crontab = block(blocks, '/etc/cron.d/fax-sunset').text;
    const jobs = crontab.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^[A-Z]+=/.test(l));
    expect(jobs).toHaveLength(2);
    for (const job of jobs) {
      const fields = job.trim().split(/\s+/);
      const [minute, hour, dom, month, dow, user] = fields;
      expect(Number(minute)).toBeGreaterThanOrEqual(0);
      expect(Number(minute)).toBeLessThan(60);
      expect(Number(hour)).toBeLessThan(24);
      expect([dom, month, dow].every((f) => f === '*' || /^\d+$/.test(f!))).toBe(true);
      expect(user).toBe('fax-sunset');
      expect(job).not.toContain('%'); // cron turns % into a newline
    }
    expect(jobs[0]).toMatch(/\/usr\/local\/bin\/fax-sunset-nightly$/);
    const monthly = jobs[1]!.trim().split(/\s+/).slice(6).join(' ');
    const run = await sh(localize(monthly));
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toBe('');
    expect(historyLines().at(-1)).toMatchObject({ command: 'verify', method: 'full', exitCode: 0 });
  });

  it('the systemd unit and timer pass systemd-analyze, and ExecStart runs with the EnvironmentFile', async (ctx) => {
    const service = block(blocks, '/etc/systemd/system/fax-sunset-sync.service').text;
    const timer = block(blocks, '/etc/systemd/system/fax-sunset-sync.timer').text;
    expect(service).toMatch(/^EnvironmentFile=\/etc\/fax-sunset\/env$/m);
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=\S+$/m);

    const exec = /^ExecStart=(.*)$/m.exec(service)![1]!;
    const args = exec.split(/\s+/).slice(1);
    const run = await runCli(args, { cwd: dir, env: envFileValues() });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ event: 'summary', command: 'sync', newFaxes: 0, exitCode: 0 });

    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.status !== 0) ctx.skip(); // systemd-analyze not installed here: the checks above still ran
    const calendar = spawnSync('systemd-analyze', ['calendar', /^OnCalendar=(.*)$/m.exec(timer)![1]!], { encoding: 'utf8' });
    expect(calendar.status, calendar.stderr).toBe(0);
    const unitDir = join(dir, 'units');
    mkdirSync(unitDir, { recursive: true });
    // verify wants ExecStart's binary to exist and EnvironmentFile to be readable: point them here.
    writeFileSync(join(unitDir, 'fax-sunset-sync.service'), localize(service));
    writeFileSync(join(unitDir, 'fax-sunset-sync.timer'), timer);
    const verify = spawnSync('systemd-analyze', ['verify', join(unitDir, 'fax-sunset-sync.service'), join(unitDir, 'fax-sunset-sync.timer')], { encoding: 'utf8' });
    const complaints = verify.stderr.split('\n').filter((l) => /unknown|invalid|failed|bad|not executable|missing/i.test(l));
    expect(complaints, verify.stderr).toEqual([]);
    expect(verify.status, verify.stderr).toBe(0);
  });

  it('the Kubernetes CronJob forbids overlap, keeps the catalog on a PVC, credentials in a Secret, media in S3; its command runs', async () => {
    const yaml = block(blocks, 'fax-sunset-cronjob.yaml').text;
    expect(yaml).toMatch(/^apiVersion: batch\/v1\nkind: CronJob$/m);
    expect(yaml).toMatch(/^\s+concurrencyPolicy: Forbid\b/m);
    expect(yaml).toMatch(/^\s+restartPolicy: Never$/m);
    expect(yaml).toMatch(/^kind: PersistentVolumeClaim$/m);
    const claim = /claimName: (\S+)/.exec(yaml)![1]!;
    expect(yaml).toMatch(new RegExp(`^kind: PersistentVolumeClaim\\nmetadata:\\n  name: ${claim}$`, 'm'));
    const mountPath = /mountPath: (\S+)/.exec(yaml)![1]!;

    // Every secretKeyRef names the Secret and a key the README's kubectl command creates.
    const createSecret = blocks.find((b) => b.text.includes('kubectl create secret generic'))!.text;
    const secretName = /kubectl create secret generic (\S+)/.exec(createSecret)![1]!;
    const keys = new Set([...createSecret.matchAll(/--from-literal=([a-z0-9-]+)=/g)].map((m) => m[1]!));
    const refs = [...yaml.matchAll(/- name: (\w+)\n\s+valueFrom:\n\s+secretKeyRef: \{ name: ([\w-]+), key: ([\w-]+) \}/g)];
    expect(refs.map((r) => r[1])).toEqual(expect.arrayContaining(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']));
    for (const [, , name, key] of refs) {
      expect(name).toBe(secretName);
      expect(keys).toContain(key);
    }

    const [command] = kubernetesCommands();
    expect(command![0]).toBe('fax-sunset');
    const args = command!.slice(1);
    expect(args[args.indexOf('--catalog') + 1]!.startsWith(`${mountPath}/`)).toBe(true);
    expect(args[args.indexOf('--store') + 1]).toMatch(/^s3:\/\/[a-z0-9.-]+\//);
    // Run it here: the same flags, the catalog and store swapped for the temp dir's (the last value wins).
    const run = await runCli([...args, '--catalog', paths.catalog, '--store', paths.store], { cwd: dir, env: envFileValues() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });
});

/** The `command: [...]` lists of the CronJob (a JSON-compatible YAML flow sequence). */
function kubernetesCommands(): string[][] {
  const yaml = block(blocks, 'fax-sunset-cronjob.yaml').text;
  return [...yaml.matchAll(/^\s+command: (\[.*\])$/gm)].map((m) => JSON.parse(m[1]!) as string[]);
}

/** What systemd's EnvironmentFile= would put in the environment (the test's env file). */
function envFileValues(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(paths.env, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}
