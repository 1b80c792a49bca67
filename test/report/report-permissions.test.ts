/**
 * Issue 13 §7: the report names accounts, the store and (faxes.csv) phone numbers, so like the
 * catalog it is private by default: --out 0700, every file 0600. `--shareable` makes it 0755/0644,
 * exactly, whatever the umask.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { HOST_TAG } from '../../src/temp-files.js';
import { buildArchive } from './archive-fixture.js';

let dir: string;
let catalogPath: string;
let storeRoot: string;

/** `fax-sunset report ...` under the given umask, as an operator's shell would run it. */
function report(args: string[], umask: string): { status: number | null; stderr: string } {
  const command = `umask ${umask} && exec "${process.execPath}" --import tsx src/cli.ts report "$@"`;
  const result = spawnSync('sh', ['-c', command, 'sh', ...args], { encoding: 'utf8', env: { ...process.env, FAX_SUNSET_ORGANIZATION: '' } });
  return { status: result.status, stderr: result.stderr };
}

/** Every entry under `root` (root included) with its permission bits, files and folders apart. */
function modes(root: string): { dirs: Set<number>; files: Set<number> } {
  const dirs = new Set<number>([statSync(root).mode & 0o777]);
  const files = new Set<number>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const mode = statSync(join(entry.parentPath, entry.name)).mode & 0o777;
    (entry.isDirectory() ? dirs : files).add(mode);
  }
  return { dirs, files };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-report-modes-'));
  catalogPath = join(dir, 'catalog.sqlite');
  storeRoot = join(dir, 'media');
  const store = new FsMediaStore(storeRoot);
  await store.check();
  const catalog = openCatalog(catalogPath);
  try {
    await buildArchive(catalog, store, new Date());
  } finally {
    catalog.close();
    await store.close();
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report permissions', () => {
  it('default: --out 0700 and every file 0600, also over a folder an older version left 0755/0644', () => {
    const out = join(dir, 'private');
    mkdirSync(out, { mode: 0o755 });
    chmodSync(out, 0o755);
    writeFileSync(join(out, 'report.html'), 'an older report', { mode: 0o644 });
    const run = report(['--out', out, '--catalog', catalogPath, '--store', storeRoot], '022');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const found = modes(out);
    expect([...found.dirs]).toEqual([0o700]);
    expect([...found.files]).toEqual([0o600]);
    expect(readdirSync(out)).toContain('faxes.csv');
  });

  it('--shareable: 0755 folders and 0644 files, exactly, even under umask 077', () => {
    const out = join(dir, 'shared');
    const run = report(['--out', out, '--catalog', catalogPath, '--store', storeRoot, '--shareable'], '077');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const found = modes(out);
    expect([...found.dirs]).toEqual([0o755]);
    expect([...found.files]).toEqual([0o644]);
  });

  it('removes the staging folder a killed report left on this host (its pid is gone), never a live one', () => {
    const out = join(dir, 'after-kill');
    const deadPid = spawnSync('true').pid!;
    const dead = join(out, `.fax-sunset-report-${HOST_TAG}-${deadPid}-0123abcd`);
    const live = join(out, `.fax-sunset-report-${HOST_TAG}-${process.pid}-4567cdef`);
    const otherHost = join(out, `.fax-sunset-report-0badf00d-${deadPid}-89abcdef`);
    for (const folder of [dead, live, otherHost]) {
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'faxes.csv'), 'sid,from\nFX1,+15550000001\n');
    }
    const run = report(['--out', out, '--catalog', catalogPath, '--store', storeRoot], '022');
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(otherHost)).toBe(true);
  });
});
