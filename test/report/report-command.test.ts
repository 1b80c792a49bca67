import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { buildArchive } from './archive-fixture.js';
import { validateBag } from './bagit-validator.js';

let dir: string;
let catalogPath: string;
let storeRoot: string;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'report', ...args], { encoding: 'utf8', env: { ...process.env, FAX_SUNSET_ORGANIZATION: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-report-cli-'));
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

describe('fax-sunset report', () => {
  it('--bag --json writes a valid bag and prints one JSON summary line; exit 0', () => {
    const out = join(dir, 'out');
    const run = cli(['--out', out, '--catalog', catalogPath, '--store', storeRoot, '--organization', 'Example Health Clinic', '--bag', '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary).toMatchObject({ command: 'report', exitCode: 0, bagComplete: true, chain: { intact: true }, totals: { faxes: 12, archived: 8 } });
    expect(validateBag(out)).toEqual([]);
    expect(readFileSync(join(out, 'bag-info.txt'), 'utf8')).toContain('Source-Organization: Example Health Clinic');
  });

  it('exit 2 for bad usage: no --out, --bag on S3, no catalog', () => {
    expect(cli(['--catalog', catalogPath]).status).toBe(2);
    const s3 = cli(['--out', join(dir, 'o2'), '--catalog', catalogPath, '--store', 's3://some-bucket/prefix', '--bag']);
    expect(s3.status).toBe(2);
    expect(s3.stderr).toContain('--bag needs a filesystem store');
    expect(existsSync(join(dir, 'o2', 'report.html'))).toBe(false);
    const missing = cli(['--out', join(dir, 'o3'), '--catalog', join(dir, 'nope.sqlite'), '--store', storeRoot]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no catalog');
  });

  it('exit 1 and a loud line when the event chain is broken; the report is still written', () => {
    const tampered = join(dir, 'tampered.sqlite');
    copyFileSync(catalogPath, tampered);
    const db = new Database(tampered);
    db.exec('DROP TRIGGER events_no_delete');
    db.prepare('DELETE FROM events WHERE id = 5').run();
    db.close();
    const out = join(dir, 'out-tampered');
    const run = cli(['--out', out, '--catalog', tampered, '--store', storeRoot]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/event chain is BROKEN at event #6/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('data-intact="false"');
  });
});
