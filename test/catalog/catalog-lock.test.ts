import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireCatalogLock, isStaleHolder, lockPathFor, realCatalogPath } from '../../src/catalog/catalog-lock.js';
import { ExitCode, exitCodeFor, LockError } from '../../src/errors.js';
import { tempDir } from './fax-fixtures.js';

let dir: string;
let cleanup: () => void;
let catalogPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('lock-'));
  catalogPath = join(dir, 'sub', 'catalog.sqlite');
});
afterEach(() => cleanup());

const FIXTURE = join(import.meta.dirname, 'fixtures', 'hold-lock.ts');

/** Runs the fixture in a real child process; resolves with the child once it has the lock. */
function childHoldingLock(mode: 'exit' | 'wait' | 'wait-as-other-host'): Promise<{ pid: number; exited: Promise<number | null>; kill: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, catalogPath, mode], { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '..', '..') });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return new Promise((resolveLocked, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolveLocked({ pid: child.pid!, exited, kill: () => child.kill('SIGKILL') });
    });
    void exited.then((code) => reject(new Error(`child exited ${code} before locking`)));
  });
}

describe('the catalog lock', () => {
  it('is a 0600 file beside the catalog naming pid, host and start; a second taker gets LockError (exit 3)', () => {
    const lock = acquireCatalogLock(catalogPath, { command: 'archive' });
    expect(lock.path).toBe(lockPathFor(catalogPath));
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    const holder = JSON.parse(readFileSync(lock.path, 'utf8'));
    expect(holder).toMatchObject({ pid: process.pid, hostname: hostname(), command: 'archive' });
    let error: unknown;
    try {
      acquireCatalogLock(catalogPath, { command: 'sync' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockError);
    expect(exitCodeFor(error)).toBe(ExitCode.locked);
    expect((error as Error).message).toBe(
      `another fax-sunset run (pid ${process.pid} on host ${hostname()}, since ${holder.started_at}) holds the catalog lock: ${lock.path}`,
    );
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    acquireCatalogLock(catalogPath, { command: 'sync' }).release();
  });

  it('a live process elsewhere keeps it; once that process is killed (SIGKILL) the stale lock is taken over', async () => {
    const child = await childHoldingLock('wait');
    expect(() => acquireCatalogLock(catalogPath, { command: 'archive' })).toThrow(new RegExp(`pid ${child.pid} on host`));
    child.kill();
    await child.exited;
    expect(existsSync(lockPathFor(catalogPath))).toBe(true); // SIGKILL ran no handler
    const lock = acquireCatalogLock(catalogPath, { command: 'archive' });
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('is released when the holding process exits', async () => {
    const child = await childHoldingLock('exit');
    expect(await child.exited).toBe(0);
    expect(existsSync(lockPathFor(catalogPath))).toBe(false);
  });

  it('from another host (a killed Kubernetes pod) is taken over once its holder is dead, never while it lives', async () => {
    const child = await childHoldingLock('wait-as-other-host');
    expect(() => acquireCatalogLock(catalogPath, { command: 'sync' })).toThrow(/on host other-pod\.example/);
    child.kill();
    await child.exited;
    // The file still names the other host, but the kernel dropped the dead holder's liveness lock.
    expect(JSON.parse(readFileSync(lockPathFor(catalogPath), 'utf8')).hostname).toBe('other-pod.example');
    const lock = acquireCatalogLock(catalogPath, { command: 'sync' });
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname(), liveness: 'sqlite' });
    lock.release();
  });

  it('a lock from another host without a liveness proof (an older version) is never taken over', () => {
    const lock = acquireCatalogLock(catalogPath, { command: 'x' });
    lock.release();
    writeFileSync(lock.path, JSON.stringify({ pid: 999_999, hostname: 'other-host.example', started_at: '2024-01-01T00:00:00Z', command: 'archive' }));
    expect(() => acquireCatalogLock(catalogPath, { command: 'archive' })).toThrow(/pid 999999 on host other-host\.example, since 2024-01-01T00:00:00Z/);
  });

  it('release leaves alone a lock that someone else has taken since', () => {
    const lock = acquireCatalogLock(catalogPath, { command: 'x' });
    const theirs = JSON.stringify({ pid: 1, hostname: 'other-host.example', started_at: 'later', command: 'sync' });
    writeFileSync(lock.path, theirs);
    lock.release();
    expect(readFileSync(lock.path, 'utf8')).toBe(theirs);
  });

  it('decides staleness from host, pid liveness and whether this process holds it (pure)', () => {
    const here = { hostname: 'h', pid: 10, holdsIt: false, isAlive: (pid: number) => pid === 20 };
    const holder = (pid: number, host = 'h') => ({ pid, hostname: host, started_at: 't', command: 'c' });
    expect(isStaleHolder(holder(30), here)).toBe(true); // dead pid on this host
    expect(isStaleHolder(holder(20), here)).toBe(false); // alive
    expect(isStaleHolder(holder(30, 'other'), here)).toBe(false); // cannot know about another host
    expect(isStaleHolder(holder(10), here)).toBe(true); // our pid, not ours: a restarted container
    expect(isStaleHolder(holder(10), { ...here, holdsIt: true })).toBe(false);
  });
});

describe('one catalog, one lock, whatever path names it (issue 13 §3)', () => {
  it('a run through a symlink to the catalog, or to its folder, is kept out while another process holds it', async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(catalogPath, '');
    mkdirSync(join(dir, 'elsewhere'));
    const fileLink = join(dir, 'elsewhere', 'link.sqlite');
    symlinkSync(catalogPath, fileLink);
    const folderLink = join(dir, 'sub-link');
    symlinkSync(join(dir, 'sub'), folderLink);
    expect(realCatalogPath(fileLink)).toBe(realCatalogPath(catalogPath));
    expect(lockPathFor(join(folderLink, 'catalog.sqlite'))).toBe(lockPathFor(catalogPath));
    const child = await childHoldingLock('wait');
    try {
      for (const other of [fileLink, join(folderLink, 'catalog.sqlite'), join(dir, 'sub', '..', 'sub', 'catalog.sqlite')]) {
        let error: unknown;
        try {
          acquireCatalogLock(other, { command: 'archive' }).release();
        } catch (e) {
          error = e;
        }
        expect(error, other).toBeInstanceOf(LockError);
        expect((error as Error).message).toMatch(new RegExp(`pid ${child.pid} on host`));
      }
      expect(existsSync(`${fileLink}.lock`)).toBe(false);
    } finally {
      child.kill();
      await child.exited;
    }
    acquireCatalogLock(fileLink, { command: 'archive' }).release();
  });

  it('a dangling symlink (the catalog not created yet) locks where the catalog will be', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const link = join(dir, 'future.sqlite');
    symlinkSync(catalogPath, link);
    const lock = acquireCatalogLock(catalogPath, { command: 'archive' });
    try {
      expect(lockPathFor(link)).toBe(lock.path);
      expect(() => acquireCatalogLock(link, { command: 'sync' })).toThrow(LockError);
    } finally {
      lock.release();
    }
  });

  it('a hard link to the catalog (another name for the same file) is kept out too', async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(catalogPath, '');
    const hardLink = join(dir, 'sub', 'same-file.sqlite');
    linkSync(catalogPath, hardLink);
    const child = await childHoldingLock('wait');
    try {
      expect(() => acquireCatalogLock(hardLink, { command: 'archive' })).toThrow(/another name for the same file/);
      expect(existsSync(`${hardLink}.lock`)).toBe(false); // refused before any lock file of its own
    } finally {
      child.kill();
      await child.exited;
    }
    acquireCatalogLock(hardLink, { command: 'archive' }).release();
  });
});
