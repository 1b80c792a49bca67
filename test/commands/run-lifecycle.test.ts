/**
 * One run lifecycle (issue 14 §4): whatever ends a command, its run record is finished with the
 * exit code the process ends with and the error's line, and the catalog's lock is released.
 * Real parts: the CLI in its own process, the emulator over HTTP, a SQLite catalog file.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireCatalogLock } from '../../src/catalog/catalog-lock.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { openLockedCatalog, withRun } from '../../src/commands/run-lifecycle.js';
import { ExitCode, ExternalServiceError } from '../../src/errors.js';
import { runCli } from '../support/cli-process.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

let emu: TestEmulator;
let dir: string;
let occupied: Server;
let occupiedPort: number;

beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 2, numbers: 1, accounts: 0, seed: 14 });
  dir = await mkdtemp(join(tmpdir(), 'fax-sunset-lifecycle-'));
  occupied = createServer();
  await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
  occupiedPort = (occupied.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => occupied?.close(resolve));
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function lockIsFree(catalogPath: string): boolean {
  try {
    acquireCatalogLock(catalogPath, { command: 'test' }).release();
    return true;
  } catch {
    return false;
  }
}

describe('serve failing after its run started', () => {
  it('finishes the run record with the real exit code and the error, and releases the lock', async () => {
    const catalogPath = join(dir, 'serve', 'catalog.sqlite');
    const run = await runCli(
      ['serve', '--port', String(occupiedPort), '--host', '127.0.0.1', '--catalog', catalogPath, '--store', join(dir, 'serve', 'media')],
      { cwd: dir, env: { ...emu.env } },
    );
    expect(run.stderr).toContain(`cannot listen on 127.0.0.1:${occupiedPort}: EADDRINUSE`);
    expect(run.code).toBe(ExitCode.usage);
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      const runs = catalog.listRuns().filter((r) => r.kind === 'serve');
      expect(runs).toHaveLength(1);
      expect(runs[0]!.finishedAt).not.toBeNull();
      // Not the literal 4 serve used to record: the code the process exited with.
      expect(runs[0]!.exitCode).toBe(run.code);
      expect(String(runs[0]!.summary?.error)).toContain('EADDRINUSE');
    } finally {
      catalog.close();
    }
    expect(lockIsFree(catalogPath)).toBe(true);
  }, 60_000);
});

describe('withRun over a real catalog file', () => {
  it('a throw mid-run leaves no open run record and no lock, and scrubs secrets from the error', async () => {
    const catalogPath = join(dir, 'direct', 'catalog.sqlite');
    await rm(join(dir, 'direct'), { recursive: true, force: true });
    mkdirSync(join(dir, 'direct'), { recursive: true });
    const failure = new ExternalServiceError('the store answered 503 past its retries (token s3cr3t-value)', { status: 503 });
    await expect(
      withRun(() => openLockedCatalog(catalogPath, 'numbers-apply'), async (_opened, run) => {
        run.start('numbers-apply', {});
        expect(lockIsFree(catalogPath)).toBe(false);
        throw failure;
      }, { secrets: () => ['s3cr3t-value'] }),
    ).rejects.toBe(failure);
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      const [record] = catalog.listRuns();
      expect(record?.finishedAt).not.toBeNull();
      expect(record?.exitCode).toBe(failure.exitCode);
      expect(String(record?.summary?.error)).toContain('503');
      expect(String(record?.summary?.error)).not.toContain('s3cr3t-value');
    } finally {
      catalog.close();
    }
    expect(lockIsFree(catalogPath)).toBe(true);
  });

  it('a body that returns without finishing its record gets it finished with the code it returned', async () => {
    const catalogPath = join(dir, 'direct', 'returned.sqlite');
    const code = await withRun(() => openLockedCatalog(catalogPath, 'numbers-apply'), async (_opened, run) => {
      run.start('numbers-apply', {});
      return ExitCode.itemsLeft;
    });
    expect(code).toBe(ExitCode.itemsLeft);
    const catalog = openCatalog(catalogPath, { readonly: true });
    try {
      expect(catalog.listRuns()[0]?.exitCode).toBe(ExitCode.itemsLeft);
    } finally {
      catalog.close();
    }
    expect(lockIsFree(catalogPath)).toBe(true);
  });
});

describe('archive when Twilio answers 500 past the retry budget', () => {
  it('exits 1 with its run record finished (exit 1) and the lock released', async () => {
    const failing = await startTestEmulator({ faxes: 3, numbers: 1, accounts: 0, seed: 15, faultRate: 1, faultKinds: ['500'] });
    try {
      const catalogPath = join(dir, 'archive-500', 'catalog.sqlite');
      const run = await runCli(['archive', '--json', '--catalog', catalogPath, '--store', join(dir, 'archive-500', 'media')], { cwd: dir, env: { ...failing.env } });
      expect(run.code, run.stderr.slice(0, 400)).toBe(ExitCode.itemsLeft);
      const catalog = openCatalog(catalogPath, { readonly: true });
      try {
        const runs = catalog.listRuns().filter((r) => r.kind === 'archive');
        expect(runs).toHaveLength(1);
        expect(runs[0]!.finishedAt).not.toBeNull();
        expect(runs[0]!.exitCode).toBe(run.code);
      } finally {
        catalog.close();
      }
      expect(lockIsFree(catalogPath)).toBe(true);
    } finally {
      await failing.close();
    }
  }, 120_000);
});
