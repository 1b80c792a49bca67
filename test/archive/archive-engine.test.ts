/**
 * The one archive engine (issue 14 §1) on real parts: the emulator over HTTP, a real SQLite catalog,
 * a folder store. `drain` returns a result per fax (not-run when a stop was asked for first);
 * `kick(sid)` archives the fax handed over without a rescan of the backlog, `kick()` rescans.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveEngine, type DrainResult } from '../../src/archive/archive-engine.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { sanitizeFaxJson } from '../../src/archive/fax-metadata.js';
import { openMediaStore } from '../../src/store/open-media-store.js';
import type { TwilioFax } from '../../src/twilio/twilio-gateway.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { fastGateway } from '../webhook/webhook-harness.js';

let emu: TestEmulator;
beforeAll(async () => {
  emu = await startTestEmulator({ faxes: 4, numbers: 1, accounts: 0, seed: 41 });
});
afterAll(() => emu.close());

async function world() {
  const dir = await mkdtemp(join(tmpdir(), 'fax-sunset-engine-'));
  const catalog: SqliteCatalog = openCatalog(join(dir, 'catalog.sqlite'));
  const store = openMediaStore(join(dir, 'media'));
  await store.check();
  const gateway = fastGateway(emu);
  const faxes: TwilioFax[] = [];
  for await (const page of gateway.listFaxPages()) faxes.push(...page);
  const engine = (idlePollMs = 60_000) => new ArchiveEngine({
    catalog, store,
    accounts: { gatewayFor: (sid) => (sid === gateway.accountSid ? gateway : null), knownSecrets: () => [emu.authToken] },
    limits: { workers: 2, uploadConcurrency: 2, maxAttempts: 3 },
    spoolDir: join(dir, '.spool'), forceFullVerify: false, idlePollMs,
  });
  const done = (sid: string) => ['verified', 'metadata-only'].includes(catalog.getFax(sid)?.state ?? '');
  return {
    catalog, faxes, engine, done, accountSid: gateway.accountSid,
    async close() {
      catalog.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ArchiveEngine', () => {
  it('drain: a result per fax, every one archived; asked to stop first, none is started and all stay unfinished', async () => {
    const w = await world();
    try {
      w.catalog.recordListed(w.faxes.map((f) => sanitizeFaxJson(f)), null);
      const engine = w.engine();
      await engine.prepare();
      const stopped: DrainResult[] = [];
      const none = await engine.drain({ accounts: [w.accountSid], stop: () => true, onResult: (r) => stopped.push(r) });
      expect(none.notRun).toBe(0); // nothing was even taken: the walk itself stops
      expect(w.faxes.some((f) => w.done(f.sid))).toBe(false);

      const results: DrainResult[] = [];
      const summary = await engine.drain({ accounts: [w.accountSid], onResult: (r) => results.push(r) });
      expect(results.map((r) => r.sid).sort()).toEqual(w.faxes.map((f) => f.sid).sort());
      expect(results.every((r) => r.outcome === 'archived' || r.outcome === 'metadata-only')).toBe(true);
      expect(summary.archived + summary.metadataOnly).toBe(w.faxes.length);
      expect(w.faxes.every((f) => w.done(f.sid))).toBe(true);
      await engine.cleanUp();
    } finally {
      await w.close();
    }
  });

  it('kick(sid) archives the fax handed over and only it; kick() looks at the whole catalog', async () => {
    const w = await world();
    const engine = w.engine();
    try {
      await engine.start();
      await new Promise((r) => setTimeout(r, 200)); // the first pass, over an empty catalog, is done
      const [handed, other] = w.faxes as [TwilioFax, TwilioFax];
      w.catalog.recordListed([sanitizeFaxJson(handed), sanitizeFaxJson(other)], null);
      engine.kick(handed.sid);
      await until(() => w.done(handed.sid));
      await new Promise((r) => setTimeout(r, 200));
      expect(w.catalog.getFax(other.sid)?.state).toBe('listed');
      engine.kick();
      await until(() => w.done(other.sid));
      // The catalog says done a moment before the engine has counted it (the spool file is removed in between).
      const counted = () => engine.status().archived + engine.status().metadataOnly;
      await until(() => counted() === 2);
      expect(counted()).toBe(2);
      expect(await engine.stop(1_000)).toEqual({ abandoned: 0 });
    } finally {
      await engine.stop(0);
      await w.close();
    }
  });
});
