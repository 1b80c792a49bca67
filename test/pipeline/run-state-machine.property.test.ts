/**
 * Issue 11 §5, "No run wedges the next", as a property over the state machine: from every state the
 * catalog can reach (open deletion intents included), under every answer Twilio can give for the
 * fax (200, 404, 5xx, timeout) and every answer the store can give (match, missing, mismatch,
 * unavailable), the next run returns exit 0 or 1 with its summary (never a throw, which is exit 4
 * with no summary line), and nothing leaves Twilio without a proof of that run on its deletion row.
 *
 * Fast by design: the real archive engine (runArchive) on a real SQLite catalog and a real folder
 * store, with Twilio played by a scripted gateway (one fax, its answers chosen per case) and the
 * store's answers made real (files removed or changed) or, for `unavailable`, a store whose every
 * call fails. The CLI itself is driven end to end by the wedge test at the bottom.
 *
 * A new state is one entry in REACHABLE (the first test fails until it has one).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FAX_STATES, type FaxState } from '../../src/catalog/fax-states.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { createFaxMediaStream, faxMediaSize } from '../../src/emulator/media/fax-media.js';
import { ExternalServiceError } from '../../src/errors.js';
import { runArchive, type ArchiveOptions } from '../../src/pipeline/archive-run.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import type { MediaStore } from '../../src/store/media-store.js';
import { MediaUrlCache, openFaxMediaVia } from '../../src/twilio/fax-media-urls.js';
import type { DeletionReceipt, MediaDownload, TwilioFax, TwilioFaxMedia, TwilioGateway } from '../../src/twilio/twilio-gateway.js';
import { deletionProofFor } from '../catalog/fax-fixtures.js';
import { startTestEmulator } from '../support/emulator.js';
import { runCli } from '../support/cli-process.js';
import { summaryOf } from '../archive/archive-cli.js';

type TwilioAnswer = '200' | '404' | '5xx' | 'timeout';
type StoreAnswer = 'match' | 'missing' | 'mismatch' | 'unavailable';
const TWILIO_ANSWERS: readonly TwilioAnswer[] = ['200', '404', '5xx', 'timeout'];
const STORE_ANSWERS: readonly StoreAnswer[] = ['match', 'missing', 'mismatch', 'unavailable'];

const ACCOUNT = 'AC' + '5'.repeat(32);
const MAX_ATTEMPTS = 3;

/** One fax on a scripted Twilio: its record while it exists, and what each call answers. */
class ScriptedTwilio implements TwilioGateway {
  readonly accountSid = ACCOUNT;
  answer: TwilioAnswer = '200';
  exists = true;
  deletes = 0;
  constructor(private readonly fax: TwilioFax) {}

  private fail(what: string): never {
    if (this.answer === 'timeout') throw new ExternalServiceError(`${what}: timed out`, { retryable: true });
    throw new ExternalServiceError(`${what}: HTTP 503`, { status: 503, retryable: true });
  }
  private gone(): boolean {
    return !this.exists || this.answer === '404';
  }
  async *listFaxPages(): AsyncIterable<TwilioFax[]> {
    // The listing itself answers (an account's failing listing is the accounts' own issue); the fax is in it while it exists.
    yield this.gone() ? [] : [{ ...this.fax }];
  }
  async fetchFax(): Promise<TwilioFax | null> {
    if (this.answer === '5xx' || this.answer === 'timeout') this.fail('fetch');
    return this.gone() ? null : { ...this.fax };
  }
  async deleteFax(): Promise<DeletionReceipt> {
    if (this.answer === '5xx' || this.answer === 'timeout') this.fail('DELETE');
    const status = this.gone() ? 404 : 204;
    if (status === 204) this.deletes++;
    this.exists = false;
    return { httpStatus: status, requestId: 'RQ' + '0'.repeat(32), at: new Date() };
  }
  async openMedia(): Promise<MediaDownload> {
    if (this.answer === '5xx' || this.answer === 'timeout') this.fail('media');
    if (this.gone()) throw new ExternalServiceError('media: HTTP 404', { status: 404, retryable: false });
    const spec = { faxSid: this.fax.sid, seed: 7, contentType: 'application/pdf' as const, numPages: 1, quality: 'fine' as const };
    return { httpStatus: 200, contentType: 'application/pdf', contentLength: faxMediaSize(spec), etag: null, body: createFaxMediaStream(spec) as Readable };
  }
  openFaxMedia(faxSid: string) {
    return openFaxMediaVia(this, new MediaUrlCache(), faxSid);
  }
  async listFaxMedia(): Promise<TwilioFaxMedia[] | null> {
    if (this.answer === '5xx' || this.answer === 'timeout') this.fail('media list');
    return this.gone() ? null : [];
  }
  async listSubaccounts() {
    return [];
  }
  forSubaccount(): TwilioGateway {
    return this;
  }
}

/** A store that does not answer: every call fails as S3 does when it keeps returning 503. */
function unavailable(store: MediaStore): MediaStore {
  const down = async (): Promise<never> => {
    throw new ExternalServiceError('S3 HeadObject: HTTP 503 SlowDown', { status: 503, retryable: true });
  };
  return {
    displayUrl: store.displayUrl,
    capabilities: store.capabilities,
    check: () => store.check(),
    put: down,
    head: down,
    read: down,
    list: () => ({ [Symbol.asyncIterator]: () => ({ next: down }) }),
    remove: down,
    close: () => store.close(),
  };
}

interface World {
  dir: string;
  catalog: SqliteCatalog;
  store: FsMediaStore;
  twilio: ScriptedTwilio;
  sid: string;
  /** One run of the real engine, with a run record, as the CLI makes it. */
  run(options?: Partial<ArchiveOptions>, store?: MediaStore): ReturnType<typeof runArchive>;
}

let worlds = 0;
const cleanups: string[] = [];
afterAll(() => {
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
});

/** A world of one fax; `from` copies a built one (its catalog closed), so each state is built once. */
function makeWorld(withMedia: boolean, from?: { dir: string; n: number; exists: boolean }): World & { n: number } {
  const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-states-'));
  cleanups.push(dir);
  if (from) cpSync(from.dir, dir, { recursive: true });
  const n = from?.n ?? ++worlds;
  const sid = 'FX' + n.toString(16).padStart(32, '0');
  const fax: TwilioFax = {
    sid, account_sid: ACCOUNT, from: '+14155550100', to: '+14155551234', quality: 'fine',
    media_sid: withMedia ? 'ME' + n.toString(16).padStart(32, '0') : null,
    media_url: withMedia ? `https://media.example.test/${sid}` : null,
    num_pages: withMedia ? 1 : 0, duration: 30, status: withMedia ? 'received' : 'failed', direction: 'inbound',
    api_version: 'v1', price: '-0.007', price_unit: 'USD',
    date_created: '2021-11-01T00:00:00Z', date_updated: '2021-11-01T00:01:00Z', links: { media: `https://fax.twilio.com/v1/Faxes/${sid}/Media` },
    url: `https://fax.twilio.com/v1/Faxes/${sid}`,
  };
  const catalog = openCatalog(join(dir, 'catalog.sqlite'));
  const store = new FsMediaStore(join(dir, 'media'));
  const twilio = new ScriptedTwilio(fax);
  if (from) twilio.exists = from.exists;
  const run: World['run'] = async (options = {}, runStore = store) => {
    const runId = catalog.startRun('sync', {});
    try {
      const result = await runArchive(
        { catalog, store: runStore, gateway: twilio, runId },
        {
          subaccounts: false, delete: false, dryRun: false, forceFullVerify: false, workers: 2, uploadConcurrency: 2,
          maxAttempts: MAX_ATTEMPTS, spoolDir: join(dir, 'spool'), ...options,
        },
      );
      catalog.finishRun(runId, result.exitCode, { ...result.summary });
      return result;
    } catch (error) {
      // Exit 4 and no summary: what the property forbids. The run record is left open, as a crash leaves it.
      throw error;
    }
  };
  return { dir, catalog, store, twilio, sid, run, n };
}

/** Leaves an open deletion intent, as a run killed between intent and DELETE does. */
function openIntent(w: World): void {
  const { runId, proof } = deletionProofFor(w.catalog, w.sid);
  w.catalog.recordDeletionIntent(w.sid, runId, proof);
  w.catalog.finishRun(runId, 1, {});
}

async function archived(w: World): Promise<void> {
  const result = await w.run();
  expect(result.exitCode, JSON.stringify(result.failures)).toBe(0);
}

interface Reachable {
  /** The catalog state this entry ends in (with an open intent where `intent` says so). */
  state: FaxState;
  name: string;
  media: boolean;
  build(w: World): Promise<void>;
}

/**
 * Every state the catalog can reach, built through the catalog and the engine as runs reach them.
 * A new state (e.g. `needs-review`) is one entry here.
 */
const REACHABLE: readonly Reachable[] = [
  { state: 'listed', name: 'listed (new)', media: true, build: async (w) => void w.catalog.recordListed([await w.twilio.fetchFax() as never], null) },
  { state: 'fetched', name: 'fetched (killed while storing)', media: true, build: async (w) => {
    await archived(w);
    const row = w.catalog.getFax(w.sid)!;
    w.catalog.resetToListed(w.sid, 'test');
    w.catalog.markFetched(w.sid, { size: row.objects[0]!.size, sha256Hex: row.objects.find((o) => o.kind === 'media')!.sha256Hex, md5Hex: row.objects.find((o) => o.kind === 'media')!.md5Hex, contentType: 'application/pdf', pages: 1 });
  } },
  { state: 'stored', name: 'stored (killed before verifying)', media: false, build: async (w) => {
    await archived(w);
    const { verifiedAt: _v, verificationMethod: _m, ...sidecar } = w.catalog.getFax(w.sid)!.objects[0]!;
    w.catalog.resetToListed(w.sid, 'test');
    w.catalog.markStored(w.sid, [sidecar]);
  } },
  { state: 'verified', name: 'verified', media: true, build: archived },
  { state: 'metadata-only', name: 'metadata-only', media: false, build: archived },
  { state: 'deleted', name: 'deleted', media: true, build: async (w) => {
    const result = await w.run({ delete: true });
    expect(result.summary.deleted).toBe(1);
  } },
  { state: 'failed', name: 'failed (retry left)', media: true, build: async (w) => void (w.catalog.recordListed([await w.twilio.fetchFax() as never], null), w.catalog.markFailed(w.sid, 'test')) },
  { state: 'failed', name: 'failed (attempts used up)', media: true, build: async (w) => {
    w.catalog.recordListed([await w.twilio.fetchFax() as never], null);
    for (let i = 0; i < MAX_ATTEMPTS; i++) w.catalog.markFailed(w.sid, 'test');
  } },
  { state: 'lost', name: 'lost', media: true, build: async (w) => void (w.catalog.recordListed([await w.twilio.fetchFax() as never], null), w.catalog.markLost(w.sid, 'test')) },
  { state: 'verified', name: 'verified, open deletion intent', media: true, build: async (w) => (await archived(w), openIntent(w)) },
  { state: 'metadata-only', name: 'metadata-only, open deletion intent', media: false, build: async (w) => (await archived(w), openIntent(w)) },
  // The wedge: verify sent the fax back (its object went missing) while an intent was open.
  { state: 'listed', name: 'listed by verify, open deletion intent', media: true, build: async (w) => {
    await archived(w);
    openIntent(w);
    w.catalog.resetToListed(w.sid, 're-audit found media missing');
  } },
  { state: 'failed', name: 'failed, open deletion intent', media: true, build: async (w) => {
    await archived(w);
    openIntent(w);
    w.catalog.resetToListed(w.sid, 'test');
    w.catalog.markFailed(w.sid, 'test');
  } },
  { state: 'needs-review', name: 'needs-review (no media to be had)', media: true, build: async (w) => {
    w.catalog.recordListed([await w.twilio.fetchFax() as never], null);
    w.catalog.markNeedsReview(w.sid, 'test: the record says media, none can be had');
  } },
  { state: 'lost', name: 'lost, open deletion intent', media: true, build: async (w) => {
    await archived(w);
    openIntent(w);
    w.catalog.resetToListed(w.sid, 'test');
    w.catalog.markLost(w.sid, 'test');
  } },
];

/** Makes the store answer `answer` about the fax's objects (the files themselves change). */
function storeAnswers(w: World, answer: StoreAnswer): MediaStore {
  const files = listFiles(join(w.dir, 'media'));
  if (answer === 'missing') for (const file of files) rmSync(file);
  if (answer === 'mismatch') {
    for (const file of files) writeFileSync(file, Buffer.alloc(statSync(file).size, 0x41));
  }
  return answer === 'unavailable' ? unavailable(w.store) : w.store;
}

function listFiles(dir: string): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(listFiles(path));
    else if (!e.name.startsWith('.')) out.push(path);
  }
  return out;
}

describe('the run state machine (property)', () => {
  it('REACHABLE has an entry for every state of the catalog', () => {
    expect(new Set(REACHABLE.map((r) => r.state))).toEqual(new Set(FAX_STATES));
  });

  for (const reachable of REACHABLE) {
    it(`from "${reachable.name}", under every Twilio and store answer, the next run ends 0 or 1 with its summary`, async () => {
      const template = makeWorld(reachable.media);
      await reachable.build(template);
      expect(template.catalog.getFax(template.sid)?.state).toBe(reachable.state);
      template.catalog.close();
      const built = { dir: template.dir, n: template.n, exists: template.twilio.exists };
      for (const twilioAnswer of TWILIO_ANSWERS) {
        for (const storeAnswer of STORE_ANSWERS) {
          const w = makeWorld(reachable.media, built);
          const label = `${reachable.name} / Twilio ${twilioAnswer} / store ${storeAnswer}`;
          expect(w.catalog.getFax(w.sid)?.state, label).toBe(reachable.state);
          const runStore = storeAnswers(w, storeAnswer);
          w.twilio.answer = twilioAnswer;
          const deletesBefore = w.twilio.deletes;

          let result: Awaited<ReturnType<typeof runArchive>>;
          try {
            result = await w.run({ delete: true }, runStore);
          } catch (error) {
            throw new Error(`${label}: the run threw (exit ${(error as { exitCode?: number }).exitCode ?? '?'}, no summary): ${(error as Error).message}`);
          }
          expect([0, 1], label).toContain(result.exitCode);
          expect(result.summary, label).toBeDefined();

          // Nothing left Twilio unless the store had just proven every object, in this run.
          const row = w.catalog.getFax(w.sid)!;
          if (w.twilio.deletes > deletesBefore) {
            // A store that never answers proves nothing; an archived copy changed or gone before the
            // run is not deleted on (a fax archived afresh in this run is proven by what it wrote).
            expect(storeAnswer, label).not.toBe('unavailable');
            if (reachable.state === 'verified' || reachable.state === 'metadata-only') expect(storeAnswer, label).toBe('match');
            const runId = w.catalog.listRuns(1)[0]!.id;
            expect(row.deletion?.proofRunId, label).toBe(runId);
            expect(row.deletion?.proofAt, label).not.toBeNull();
          }
          // An intent is never left open by a run Twilio answered.
          if (twilioAnswer === '200' || twilioAnswer === '404') expect(w.catalog.listOpenDeletionIntents(), label).toEqual([]);
          w.catalog.close();
        }
      }
    });
  }
});

describe('the wedge of issue 11 §5, end to end', () => {
  it('an open intent whose fax verify sent back to listed, then answered 404: sync exits 1 with its summary, the fax is named lost, the next sync exits 0', async () => {
    const emu = await startTestEmulator({ faxes: 4, accounts: 0, numbers: 2, seed: 1105 });
    const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-wedge-'));
    cleanups.push(dir);
    try {
      const catalogPath = join(dir, 'catalog.sqlite');
      const args = (command: string) => [command, '--now', '2021-12-01T00:00:00Z', '--json', '--catalog', catalogPath, '--store', join(dir, 'media')];
      const first = await runCli(args('archive'), { cwd: dir, env: emu.env });
      expect(first.code, first.stderr).toBe(0);

      // A run killed after its intent, then `verify` finding the object missing, then the fax gone.
      const catalog = openCatalog(catalogPath);
      const victim = catalog.listDeletable({ limit: 10 }).find((row) => row.objects.some((o) => o.kind === 'media'))!;
      const { runId, proof } = deletionProofFor(catalog, victim.sid);
      catalog.recordDeletionIntent(victim.sid, runId, proof);
      catalog.resetToListed(victim.sid, 're-audit found media missing');
      catalog.close();
      expect(emu.emulator.pruneFax(victim.sid)).toBeTruthy();

      const sync = await runCli(args('sync'), { cwd: dir, env: emu.env });
      expect(sync.code, sync.stderr).toBe(1);
      const summary = summaryOf(sync)!;
      expect(summary).not.toBeNull();
      expect(summary.lostSids).toContain(victim.sid);
      const after = openCatalog(catalogPath, { readonly: true });
      expect(after.getFax(victim.sid)!.state).toBe('lost');
      expect(after.listOpenDeletionIntents()).toEqual([]);
      after.close();

      const next = await runCli(args('sync'), { cwd: dir, env: emu.env });
      expect(next.code, next.stderr).toBe(0);
      expect(summaryOf(next)).not.toBeNull();
    } finally {
      await emu.close();
    }
  });
});
