/**
 * Issue 13 §5: a SIGKILL during a folder-store write left a hidden temp file of fax bytes that no
 * later run removed. The store keeps temp files in `<root>/.fax-sunset-tmp/`, named with host and
 * pid, and `check()` (run at every start) removes those no live writer can own, and nothing else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FS_TEMP_FOLDER, FsMediaStore } from '../../src/store/fs-media-store.js';
import { HOST_TAG, isStaleTempFile, ownTempName, STALE_TEMP_AFTER_MS } from '../../src/temp-files.js';
import { REPO } from '../support/cli-process.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});
function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-sweep-'));
  roots.push(dir);
  return dir;
}

const KEY = `AC${'a'.repeat(32)}/2021/06/FX${'b'.repeat(32)}.pdf`;

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the folder store sweeps its own leftovers at start', () => {
  it('a write killed with SIGKILL leaves a temp file; the next check() removes it', async () => {
    const dir = newDir();
    const root = join(dir, 'media');
    const fifo = join(dir, 'body.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'put-from-fifo.ts'), root, fifo, KEY], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const writer = createWriteStream(fifo);
    writer.on('error', () => undefined); // the reader is killed below
    writer.write(Buffer.alloc(3 * 1024 * 1024, 7));
    const temps = () => readdirSync(join(root, FS_TEMP_FOLDER));
    await waitFor(() => temps().length === 1 && statSync(join(root, FS_TEMP_FOLDER, temps()[0]!)).size > 0, 'bytes in the temp file');
    child.kill('SIGKILL');
    await exited;
    writer.destroy();
    const leftover = temps();
    expect(leftover).toHaveLength(1);
    expect(leftover[0]).toMatch(new RegExp(`^\\.fax-sunset-${HOST_TAG}-${child.pid}-[0-9a-f]{12}\\.tmp$`));
    expect(existsSync(join(root, ...KEY.split('/')))).toBe(false);

    const next = new FsMediaStore(root);
    await next.check();
    expect(next.sweptTempFiles).toBe(1);
    expect(temps()).toEqual([]);
  });

  it('keeps what a live writer may own and anything not named like its own temp files', async () => {
    const root = join(newDir(), 'media');
    const tempDir = join(root, FS_TEMP_FOLDER);
    mkdirSync(tempDir, { recursive: true });
    const old = new Date(Date.now() - STALE_TEMP_AFTER_MS - 60_000);
    const files = {
      mineLive: ownTempName(), // this process: alive
      otherHostFresh: `.fax-sunset-0badf00d-4242-${'c'.repeat(12)}.tmp`,
      otherHostOld: `.fax-sunset-0badf00d-4243-${'d'.repeat(12)}.tmp`,
      notOursOld: 'notes.tmp',
      notOursPattern: `.fax-sunset-${HOST_TAG}-x-${'e'.repeat(12)}.tmp`,
    };
    for (const name of Object.values(files)) writeFileSync(join(tempDir, name), 'x');
    for (const name of [files.otherHostOld, files.notOursOld, files.notOursPattern]) utimesSync(join(tempDir, name), old, old);
    const store = new FsMediaStore(root);
    await store.check();
    expect(store.sweptTempFiles).toBe(1);
    expect(readdirSync(tempDir).sort()).toEqual([files.mineLive, files.otherHostFresh, files.notOursOld, files.notOursPattern].sort());
  });

  it('decides staleness from host, pid and age (pure)', () => {
    const here = { hostTag: 'aaaaaaaa', nowMs: 10 * STALE_TEMP_AFTER_MS, isAlive: (pid: number) => pid === 20 };
    const name = (host: string, pid: number) => `.fax-sunset-${host}-${pid}-${'f'.repeat(12)}.tmp`;
    const fresh = here.nowMs - 1000;
    expect(isStaleTempFile({ name: name('aaaaaaaa', 30), mtimeMs: fresh }, here)).toBe(true); // dead writer here
    expect(isStaleTempFile({ name: name('aaaaaaaa', 20), mtimeMs: fresh }, here)).toBe(false); // live writer
    expect(isStaleTempFile({ name: name('bbbbbbbb', 30), mtimeMs: fresh }, here)).toBe(false); // another host's, recent
    expect(isStaleTempFile({ name: name('bbbbbbbb', 30), mtimeMs: here.nowMs - STALE_TEMP_AFTER_MS - 1 }, here)).toBe(true);
    expect(isStaleTempFile({ name: name('aaaaaaaa', 20), mtimeMs: here.nowMs - STALE_TEMP_AFTER_MS - 1 }, here)).toBe(true); // a live pid silent for an hour: reused
    expect(isStaleTempFile({ name: 'FX1.part', mtimeMs: 0 }, here)).toBe(false);
  });
});
