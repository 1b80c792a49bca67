/**
 * The README's shard section stays copy-pasteable (issue 15 §3), checked the way its CronJob is
 * (test/sync/scheduler-examples.test.ts): the Indexed Job and the merge Job have what they promise,
 * and their commands run for real, the n pods' commands at once with `$(JOB_COMPLETION_INDEX)`
 * expanded as Kubernetes does, then the merge's verify and report over the folder of catalogs
 * (paths swapped for a temp dir's, the store for a folder, Twilio for the emulator).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveCommand } from '../../src/commands/archive-command.js';
import { reportCommand } from '../../src/commands/report-command.js';
import { verifyCommand } from '../../src/commands/verify-command.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { REPO, runCli } from '../support/cli-process.js';

function shardSection(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Many subaccounts: shards');
  if (start < 0) throw new Error('README has no "Many subaccounts: shards" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function yamlBlock(name: string): string {
  const fence = /^```yaml\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(shardSection()); m; m = fence.exec(shardSection())) {
    if (m[1]!.startsWith(`# ${name}\n`)) return m[1]!;
  }
  throw new Error(`README block ${name} not found`);
}

/** The `command: [...]` lists of a manifest (JSON-compatible YAML flow sequences), in order. */
function commandsOf(yaml: string): string[][] {
  return [...yaml.matchAll(/^\s+command: (\[.*\])$/gm)].map((m) => JSON.parse(m[1]!) as string[]);
}

const COMMANDS: Record<string, () => Command> = { archive: archiveCommand, verify: verifyCommand, report: reportCommand };

function unknownFlags(args: string[]): string[] {
  const make = COMMANDS[args[0]!];
  if (!make) return [`unknown command ${args[0]}`];
  const longs = new Set(make().options.map((o) => o.long));
  return args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!).filter((flag) => !longs.has(flag));
}

const valueOf = (args: string[], flag: string): string => args[args.indexOf(flag) + 1]!;

let emu: TestEmulator;
let dir: string;
beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 24, accounts: 6, seed: 153, latencyMs: 2 });
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-shard-job-'));
});
afterAll(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README: Many subaccounts: shards', () => {
  const job = yamlBlock('fax-sunset-shards.yaml');
  const merge = yamlBlock('fax-sunset-shards-merge.yaml');

  it('the Indexed Job runs n pods, one per shard, each with its own catalog on the shared claim; the merge reads that folder', () => {
    expect(job).toMatch(/^apiVersion: batch\/v1\nkind: Job$/m);
    expect(job).toMatch(/^\s+completionMode: Indexed$/m);
    expect(job).toMatch(/^\s+restartPolicy: Never$/m);
    const completions = Number(/^\s+completions: (\d+)$/m.exec(job)![1]);
    expect(Number(/^\s+parallelism: (\d+)$/m.exec(job)![1])).toBe(completions);
    const [archive] = commandsOf(job);
    expect(archive![0]).toBe('fax-sunset');
    const args = archive!.slice(1);
    expect(args[0]).toBe('archive');
    expect(args).toContain('--subaccounts');
    expect(valueOf(args, '--shard')).toBe(`$(JOB_COMPLETION_INDEX)/${completions}`);
    const catalog = valueOf(args, '--catalog');
    expect(posix.basename(catalog)).toBe(`shard-$(JOB_COMPLETION_INDEX)-of-${completions}.sqlite`);
    const mountPath = /mountPath: (\S+)/.exec(job)![1]!;
    expect(posix.dirname(catalog)).toBe(mountPath);
    expect(valueOf(args, '--store')).toMatch(/^s3:\/\/[a-z0-9.-]+\//);
    const claim = /claimName: (\S+)/.exec(job)![1]!;
    expect(job).toMatch(new RegExp(`^kind: PersistentVolumeClaim\\nmetadata:\\n  name: ${claim}\\nspec:\\n  accessModes: \\["ReadWriteMany"\\]$`, 'm'));

    expect(merge).toMatch(/^apiVersion: batch\/v1\nkind: Job$/m);
    expect(/claimName: (\S+)/.exec(merge)![1]).toBe(claim);
    const [verify, report] = commandsOf(merge);
    expect(verify!.slice(0, 2)).toEqual(['fax-sunset', 'verify']);
    expect(report!.slice(0, 2)).toEqual(['fax-sunset', 'report']);
    // verify is the init container: the report runs only after it exits 0.
    expect(merge.indexOf('initContainers:')).toBeLessThan(merge.indexOf('"verify"'));
    expect(merge.indexOf('"verify"')).toBeLessThan(merge.indexOf('containers:\n        - name: report'));
    for (const command of [verify!, report!]) {
      expect(valueOf(command.slice(1), '--catalog')).toBe(mountPath);
      expect(/mountPath: (\S+)/.exec(merge)![1]).toBe(mountPath);
    }
    for (const command of [archive!, verify!, report!]) expect(unknownFlags(command.slice(1)), command.join(' ')).toEqual([]);
  });

  it('its commands run: the n pods at once, then the merge verify and report over the folder, all exit 0', async () => {
    const completions = Number(/^\s+completions: (\d+)$/m.exec(job)![1]);
    const mountPath = /mountPath: (\S+)/.exec(job)![1]!;
    const volume = join(dir, 'volume');
    mkdirSync(volume);
    const store = join(dir, 'store');
    // The pod's view: $(JOB_COMPLETION_INDEX) expanded, the volume and the store swapped for the temp dir's.
    const localize = (args: string[], index?: number) => args.map((a) => {
      let out = index === undefined ? a : a.replaceAll('$(JOB_COMPLETION_INDEX)', String(index));
      if (out === mountPath || out.startsWith(`${mountPath}/`)) out = volume + out.slice(mountPath.length);
      return out.startsWith('s3://') ? store : out;
    });
    const [archive] = commandsOf(job);
    const pods = await Promise.all(Array.from({ length: completions }, (_, i) =>
      runCli([...localize(archive!.slice(1), i), '--now', '2021-12-01T00:00:00Z'], { cwd: dir, env: emu.env })));
    for (const pod of pods) expect(pod.code, pod.stderr).toBe(0);

    const [verify, report] = commandsOf(merge);
    const verified = await runCli(localize(verify!.slice(1)), { cwd: dir, env: {} });
    expect(verified.code, verified.stderr).toBe(0);
    const summary = JSON.parse(verified.stdout.trim().split('\n').pop()!);
    expect(summary.catalogs).toBe(completions);
    expect(summary.shardProblems).toEqual([]);
    const reported = await runCli(localize(report!.slice(1)), { cwd: dir, env: {} });
    expect(reported.code, reported.stderr).toBe(0);
    const out = valueOf(localize(report!.slice(1)), '--out');
    const rows = readFileSync(join(out, 'faxes.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows).toHaveLength(emu.emulator.faxes().length);
    // A second merge over the same folder: the report inside it is not taken for a catalog.
    const again = await runCli(localize(verify!.slice(1)), { cwd: dir, env: {} });
    expect(again.code, again.stderr).toBe(0);
  }, 120_000);
});
