/**
 * Migration 2 and the needs-review state (issue 11 §2): a v1 catalog keeps every row, object,
 * deletion and event through the table rebuild; a fax whose record says media is never filed
 * metadata-only by one field; needs-review is left only by a recorded decision or a change at Twilio.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src/catalog/migrations.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { InvariantError } from '../../src/errors.js';
import { driveTo, faxSid, recordProvenIntent, FETCHED_MEDIA, mediaObject, sidecarObject, tempDir, twilioFax } from './fax-fixtures.js';

const V1_FIXTURE = new URL('./fixtures/catalog-v1.sqlite', import.meta.url).pathname;
const AT = '2024-02-02T00:00:00.000Z';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('migration 2 on a catalog written by schema version 1', () => {
  it('keeps every fax in its state, its objects, deletion receipt and the event chain, and the catalog goes on working', () => {
    const path = join(dir, 'catalog.sqlite');
    copyFileSync(V1_FIXTURE, path);
    const before = new Database(path, { readonly: true });
    const dump = (db: Database.Database) => ({
      faxes: db.prepare('SELECT sid, state, raw, attempts, media_sha256 FROM faxes ORDER BY sid').all(),
      objects: db.prepare('SELECT * FROM objects ORDER BY id').all(),
      // The columns schema version 1 wrote (later migrations add proof columns, NULL for old rows).
      deletions: db.prepare('SELECT id, fax_sid, intent_at, run_id, receipt_at, http_status, request_id, cancelled_at FROM deletions ORDER BY id').all(),
      events: db.prepare('SELECT * FROM events ORDER BY id').all(),
    });
    const old = dump(before);
    expect(before.pragma('user_version', { simple: true })).toBe(1);
    before.close();

    const catalog = openCatalog(path);
    catalog.close();
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(dump(after)).toEqual(old);
    after.close();

    const again = openCatalog(path);
    expect(again.checkEventChain().intact).toBe(true);
    expect(again.countByState()).toMatchObject({ listed: 1, stored: 1, verified: 1, 'metadata-only': 1, failed: 1, deleted: 1, fetched: 1, lost: 1, 'needs-review': 0 });
    // The v1 rows move on under the v2 rules.
    again.markNeedsReview(faxSid(1), 'record says media, none to be had');
    expect(again.getFax(faxSid(1))).toMatchObject({ state: 'needs-review', reviewReason: 'record says media, none to be had' });
    again.close();
  });
});

describe('has media is never decided by one field', () => {
  let catalog: SqliteCatalog;
  beforeEach(() => {
    catalog = openCatalog(join(dir, 'catalog.sqlite'));
  });
  afterEach(() => catalog.close());

  it('a received fax with pages and a media_url but media_sid null must end verified with its media, never metadata-only', () => {
    const sid = faxSid(1);
    catalog.recordListed([twilioFax(1, { media_sid: null })], null);
    expect(() => catalog.markStored(sid, [sidecarObject(1)])).toThrow(/it has media/);
    catalog.markFetched(sid, FETCHED_MEDIA);
    catalog.markStored(sid, [mediaObject(1), sidecarObject(1)]);
    catalog.markVerified(sid, [{ kind: 'media', method: 'full', at: AT }, { kind: 'sidecar', method: 'full', at: AT }]);
    expect(catalog.getFax(sid)!.state).toBe('verified');
  });

  it('a received fax with pages and neither media field cannot be filed metadata-only; needs-review is not deletable, not unfinished', () => {
    const sid = faxSid(2);
    catalog.recordListed([twilioFax(2, { media_sid: null, media_url: null, num_pages: 2 })], null);
    expect(() => catalog.markStored(sid, [sidecarObject(2)])).toThrow(InvariantError);
    catalog.markNeedsReview(sid, 'received with 2 pages; no media_url on a fresh fetch; FaxMedia lists none');
    expect(catalog.listUnfinished({ limit: 10 })).toEqual([]);
    expect(catalog.listDeletable({ limit: 10 })).toEqual([]);
    expect(() => recordProvenIntent(catalog, sid)).toThrow(InvariantError);
    expect(catalog.listNeedsReview({ limit: 10 }).map((f) => [f.sid, f.reviewReason])).toEqual([[sid, 'received with 2 pages; no media_url on a fresh fetch; FaxMedia lists none']]);
  });

  it('resolve --accept-missing-media: recorded with its reason, back to listed, then metadata-only and deletable', () => {
    const sid = faxSid(3);
    catalog.recordListed([twilioFax(3, { media_url: null, status: 'canceled', num_pages: null })], null);
    expect(() => catalog.acceptMissingMedia(sid, 'x', null)).toThrow(/not needs-review/);
    catalog.markNeedsReview(sid, 'media_sid without media_url');
    expect(() => catalog.acceptMissingMedia(sid, '   ', null)).toThrow(/needs a reason/);
    catalog.acceptMissingMedia(sid, 'canceled before sending; the document is in the EHR', 'ops@clinic');
    const row = catalog.getFax(sid)!;
    expect(row.state).toBe('listed');
    expect(row.missingMediaAcceptedAt).not.toBeNull();
    const event = catalog.listEvents().find((e) => e.type === 'missing-media-accepted')!;
    expect(event).toMatchObject({ faxSid: sid, data: { reason: 'canceled before sending; the document is in the EHR', by: 'ops@clinic', from: 'needs-review' } });
    catalog.markStored(sid, [sidecarObject(3)]);
    catalog.markVerified(sid, [{ kind: 'sidecar', method: 'full', at: AT }]);
    expect(catalog.getFax(sid)!.state).toBe('metadata-only');
    expect(catalog.listDeletable({ limit: 10 }).map((f) => f.sid)).toEqual([sid]);
  });

  it('a needs-review fax whose record changes at Twilio goes back to listed; new media voids an acceptance', () => {
    const sid = driveTo(catalog, 4, 'needs-review');
    catalog.acceptMissingMedia(sid, 'accepted', null);
    catalog.recordListed([twilioFax(4, { date_updated: '2024-03-01T00:00:00Z', media_sid: 'ME' + 'e'.repeat(32) })], null);
    const row = catalog.getFax(sid)!;
    expect(row.state).toBe('listed');
    expect(row.missingMediaAcceptedAt).toBeNull();
  });
});
