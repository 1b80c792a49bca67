import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH } from '../../src/catalog/event-chain.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { InvariantError } from '../../src/errors.js';
import { driveTo, OTHER_ACCOUNT, recordProvenIntent, tempDir, twilioFax } from './fax-fixtures.js';

let catalog: SqliteCatalog;
let path: string;
let cleanup: () => void;
beforeEach(() => {
  const temp = tempDir();
  cleanup = temp.cleanup;
  path = join(temp.dir, 'catalog.sqlite');
  catalog = openCatalog(path);
});
afterEach(() => {
  catalog.close();
  cleanup();
});

const RECEIPT = { httpStatus: 204, requestId: 'RQ' + '2'.repeat(32), at: '2024-03-01T00:00:00.000Z' };

describe('two-phase deletion', () => {
  it('refuses an intent on an unverified fax in code, with the state untouched', () => {
    for (const state of ['listed', 'fetched', 'stored', 'failed', 'lost'] as const) {
      const sid = driveTo(catalog, ['listed', 'fetched', 'stored', 'failed', 'lost'].indexOf(state) + 1, state);
      expect(() => recordProvenIntent(catalog, sid), state).toThrow(InvariantError);
      expect(catalog.getFax(sid)!.deletion).toBeNull();
    }
    expect(catalog.listOpenDeletionIntents()).toEqual([]);
  });

  it('intent, then receipt: the fax is deleted with its evidence; both calls are idempotent', () => {
    const runId = catalog.startRun('archive', { delete: true });
    const sid = driveTo(catalog, 1, 'verified');
    expect(catalog.listDeletable({ limit: 10 }).map((f) => f.sid)).toEqual([sid]);
    recordProvenIntent(catalog, sid, runId);
    recordProvenIntent(catalog, sid, runId);
    expect(catalog.listDeletable({ limit: 10 })).toEqual([]); // an open intent is not offered twice
    expect(catalog.listOpenDeletionIntents()).toEqual([expect.objectContaining({ faxSid: sid, runId, receiptAt: null })]);
    expect(() => catalog.recordDeletionReceipt(sid, { ...RECEIPT, httpStatus: 500 })).toThrow(/not a deletion receipt/);
    catalog.recordDeletionReceipt(sid, RECEIPT);
    catalog.recordDeletionReceipt(sid, RECEIPT);
    const row = catalog.getFax(sid)!;
    expect(row.state).toBe('deleted');
    expect(row.deletion).toMatchObject({ faxSid: sid, runId, receiptAt: RECEIPT.at, httpStatus: 204, requestId: RECEIPT.requestId });
    expect(row.objects).toHaveLength(2); // the proof stays
    expect(catalog.listOpenDeletionIntents()).toEqual([]);
    expect(catalog.listEvents().map((e) => e.type)).toEqual(expect.arrayContaining(['deletion-intent', 'deletion-receipt']));
  });

  it('a receipt without an intent is refused (the intent is committed before DELETE)', () => {
    const sid = driveTo(catalog, 1, 'metadata-only');
    expect(() => catalog.recordDeletionReceipt(sid, { ...RECEIPT, httpStatus: 404 })).toThrow(/no open deletion intent/);
    expect(catalog.getFax(sid)!.state).toBe('metadata-only');
  });

  it('a cancelled intent is withdrawn, kept as evidence, and the fax is deletable again', () => {
    const sid = driveTo(catalog, 1, 'verified');
    recordProvenIntent(catalog, sid);
    catalog.cancelDeletionIntent(sid);
    expect(catalog.getFax(sid)!.deletion).toBeNull();
    expect(catalog.listDeletable({ limit: 10 }).map((f) => f.sid)).toEqual([sid]);
    recordProvenIntent(catalog, sid);
    catalog.recordDeletionReceipt(sid, { ...RECEIPT, httpStatus: 404, requestId: null });
    expect(catalog.getFax(sid)!.deletion).toMatchObject({ httpStatus: 404 });
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM deletions').get()).toEqual({ n: 2 });
    raw.close();
  });

  it('an intent left open when the fax changed cannot become a deletion receipt', () => {
    const sid = driveTo(catalog, 1, 'verified');
    recordProvenIntent(catalog, sid);
    catalog.recordListed([twilioFax(1, { date_updated: '2024-09-01T00:00:00Z', num_pages: 9 })], null);
    expect(catalog.getFax(sid)!.state).toBe('listed');
    expect(catalog.listOpenDeletionIntents().map((d) => d.faxSid)).toEqual([sid]);
    expect(() => catalog.recordDeletionReceipt(sid, RECEIPT)).toThrow(/cannot be recorded as safe/);
    catalog.cancelDeletionIntent(sid);
    expect(catalog.listOpenDeletionIntents()).toEqual([]);
  });

  it('filters deletable faxes and open intents by account, oldest first, with keyset paging', () => {
    const a = driveTo(catalog, 1, 'verified');
    catalog.recordListed([twilioFax(2, { account_sid: OTHER_ACCOUNT })], null);
    const b = driveTo(catalog, 3, 'metadata-only');
    expect(catalog.listDeletable({ limit: 1 }).map((f) => f.sid)).toEqual([a]);
    const first = catalog.listDeletable({ limit: 1 })[0]!;
    expect(catalog.listDeletable({ limit: 5, after: { dateCreated: first.dateCreated, sid: first.sid } }).map((f) => f.sid)).toEqual([b]);
    expect(catalog.listDeletable({ limit: 5, accountSid: OTHER_ACCOUNT })).toEqual([]);
    recordProvenIntent(catalog, a);
    expect(catalog.listOpenDeletionIntents(OTHER_ACCOUNT)).toEqual([]);
    expect(catalog.listOpenDeletionIntents(twilioFax(1).account_sid as string)).toHaveLength(1);
  });
});

describe('the hash-chained event log', () => {
  function someHistory(): void {
    const runId = catalog.startRun('archive', {});
    for (let n = 1; n <= 4; n++) driveTo(catalog, n, n % 2 ? 'verified' : 'deleted');
    catalog.appendEvent('note', { text: 'operator says hi', nested: { b: 2, a: [1, { z: true, y: null }] } }, null);
    catalog.finishRun(runId, 0, { ok: true });
  }

  it('is intact after normal use, and each hash recomputes from the previous one', () => {
    someHistory();
    const check = catalog.checkEventChain();
    expect(check).toMatchObject({ intact: true, brokenAtId: null });
    const events = catalog.listEvents({ limit: 10_000 });
    expect(check.events).toBe(events.length);
    let prev = GENESIS_HASH;
    for (const e of events) {
      expect(e.prevHash).toBe(prev);
      expect(e.hash).toBe(eventHash(prev, e));
      prev = e.hash;
    }
    expect(catalog.listEvents({ afterId: 2, limit: 2 }).map((e) => e.id)).toEqual([3, 4]);
  });

  it('detects an edited event even when the tamperer drops the append-only trigger', () => {
    someHistory();
    catalog.close();
    const raw = new Database(path);
    const target = raw.prepare(`SELECT id FROM events WHERE type = 'deletion-receipt' ORDER BY id LIMIT 1`).get() as { id: number };
    raw.exec('DROP TRIGGER events_no_update');
    raw.prepare(`UPDATE events SET data = '{"httpStatus":204,"requestId":null,"receiptAt":"2020-01-01T00:00:00.000Z"}' WHERE id = ?`).run(target.id);
    raw.close();
    catalog = openCatalog(path);
    expect(catalog.checkEventChain()).toMatchObject({ intact: false, brokenAtId: target.id });
  });

  it('detects a removed event in the middle, and a rehashed edit breaks the link to the next event', () => {
    someHistory();
    catalog.close();
    const raw = new Database(path);
    raw.exec('DROP TRIGGER events_no_delete; DROP TRIGGER events_no_update');
    raw.prepare('DELETE FROM events WHERE id = 5').run();
    raw.close();
    catalog = openCatalog(path);
    expect(catalog.checkEventChain()).toMatchObject({ intact: false, brokenAtId: 6 });
    catalog.close();

    // A careful tamperer recomputes the edited row's own hash: the following event still points at the old one.
    const raw2 = new Database(path);
    const row = raw2.prepare('SELECT * FROM events WHERE id = 2').get() as { id: number; at: string; type: string; fax_sid: string | null; prev_hash: string };
    const data = { forged: true };
    raw2.prepare('UPDATE events SET data = ?, hash = ? WHERE id = 2').run(JSON.stringify(data), eventHash(row.prev_hash, { id: 2, at: row.at, type: row.type, faxSid: row.fax_sid, data }));
    raw2.close();
    catalog = openCatalog(path);
    expect(catalog.checkEventChain()).toMatchObject({ intact: false, brokenAtId: 3 });
  });

  it('redacts secret-looking strings from event data before they are chained', () => {
    catalog.appendEvent('note', { url: 'https://media.example/x?X-Amz-Signature=0123456789abcdef' });
    const [event] = catalog.listEvents();
    expect(JSON.stringify(event!.data)).not.toContain('0123456789abcdef');
    expect(catalog.checkEventChain().intact).toBe(true);
  });
});
