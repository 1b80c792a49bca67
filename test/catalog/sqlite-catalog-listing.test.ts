import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaxRow } from '../../src/catalog/catalog.js';
import { compareFaxVersions, mediaChanged } from '../../src/catalog/fax-version.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { InvariantError } from '../../src/errors.js';
import { ACCOUNT, driveTo, faxSid, mediaSid, OTHER_ACCOUNT, tempDir, twilioFax } from './fax-fixtures.js';

let catalog: SqliteCatalog;
let cleanup: () => void;
beforeEach(() => {
  const temp = tempDir();
  cleanup = temp.cleanup;
  catalog = openCatalog(join(temp.dir, 'catalog.sqlite'));
});
afterEach(() => {
  catalog.close();
  cleanup();
});

describe('version decisions (pure)', () => {
  it('compares date_updated as instants, not text', () => {
    expect(compareFaxVersions('2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z')).toBe('updated');
    expect(compareFaxVersions('2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000Z')).toBe('unchanged');
    expect(compareFaxVersions('2024-01-02T00:00:00Z', '2024-01-01T23:59:59Z')).toBe('stale');
    expect(compareFaxVersions(null, '2024-01-01T00:00:00Z')).toBe('updated');
    expect(compareFaxVersions('2024-01-01T00:00:00Z', null)).toBe('unchanged');
  });

  it('sees a media change in the media sid or the page count', () => {
    expect(mediaChanged({ mediaSid: 'ME1', numPages: 2 }, { mediaSid: 'ME1', numPages: 2 })).toBe(false);
    expect(mediaChanged({ mediaSid: 'ME1', numPages: 2 }, { mediaSid: 'ME2', numPages: 2 })).toBe(true);
    expect(mediaChanged({ mediaSid: 'ME1', numPages: 2 }, { mediaSid: 'ME1', numPages: 3 })).toBe(true);
    expect(mediaChanged({ mediaSid: 'ME1', numPages: 2 }, { mediaSid: null, numPages: 2 })).toBe(true);
  });
});

describe('recordListed', () => {
  it('classifies a page as new / unchanged / updated / stale in one call', () => {
    expect(catalog.recordListed([twilioFax(1), twilioFax(2)], null)).toEqual(['new', 'new']);
    const changes = catalog.recordListed(
      [
        twilioFax(1),
        twilioFax(2, { date_updated: '2024-06-01T00:00:00Z', status: 'received' }),
        twilioFax(3),
      ],
      null,
    );
    expect(changes).toEqual(['unchanged', 'updated', 'new']);
    expect(catalog.recordListed([twilioFax(2, { date_updated: '2024-05-01T00:00:00Z', status: 'failed' })], null)).toEqual(['stale']);
    expect(catalog.getFax(faxSid(2))!.dateUpdated).toBe('2024-06-01T00:00:00Z');
  });

  it('keeps the old version in history when date_updated advances, and ignores a stale one', () => {
    const sid = driveTo(catalog, 1, 'verified');
    catalog.recordListed([twilioFax(1, { date_updated: '2024-06-01T00:00:00Z', price: '-0.01400' })], null);
    const row = catalog.getFax(sid)!;
    // Back through the pipeline so the stored sidecar is rewritten; the same media keeps its facts
    // and objects, so only the sidecar is written again.
    expect(row.state).toBe('listed');
    expect(row.media).not.toBeNull();
    expect(row.objects.map((o) => o.kind).sort()).toEqual(['media', 'sidecar']);
    expect(row.raw.price).toBe('-0.01400');
    const history = catalog.getHistory(sid);
    expect(history).toHaveLength(1);
    expect(history[0]!.raw.price).toBe('-0.00700');
    expect(history[0]!.dateUpdated).toBe(twilioFax(1).date_updated);
    expect(String(history[0]!.raw.media_url)).not.toContain('?');

    catalog.recordListed([twilioFax(1, { date_updated: '2024-05-01T00:00:00Z', price: '-9' })], null);
    expect(catalog.getHistory(sid)).toHaveLength(1);
    expect(catalog.getFax(sid)!.raw.price).toBe('-0.01400');
  });

  it('moves a fax whose media changed back to listed, but never a deleted one', () => {
    const verified = driveTo(catalog, 1, 'verified');
    const deleted = driveTo(catalog, 2, 'deleted');
    catalog.recordListed(
      [
        twilioFax(1, { date_updated: '2024-06-01T00:00:00Z', media_sid: mediaSid(1001), num_pages: 3 }),
        twilioFax(2, { date_updated: '2024-06-01T00:00:00Z', num_pages: 5 }),
      ],
      null,
    );
    const row = catalog.getFax(verified)!;
    expect(row.state).toBe('listed');
    expect(row.numPages).toBe(3);
    expect(row.media).toBeNull();
    expect(row.objects.map((o) => o.kind)).toEqual(['media', 'sidecar']); // kept until replaced
    expect(catalog.listDeletable({ limit: 10 })).toHaveLength(0);
    expect(catalog.getFax(deleted)!.state).toBe('deleted');
    expect(catalog.getHistory(deleted)).toHaveLength(1);
  });

  it('a lost fax that Twilio lists again is archived after all', () => {
    const sid = driveTo(catalog, 1, 'lost');
    expect(catalog.recordListed([twilioFax(1)], null)).toEqual(['unchanged']);
    expect(catalog.getFax(sid)!.state).toBe('listed');
  });

  it('refuses a page with a malformed sid and writes nothing of it', () => {
    expect(() => catalog.recordListed([twilioFax(1), { ...twilioFax(2), sid: 'FXnot-a-sid' }], null)).toThrow(InvariantError);
    expect(catalog.getFax(faxSid(1))).toBeNull();
  });

  it('stores every Twilio field as a column and the raw JSON', () => {
    catalog.recordListed([twilioFax(7)], 42);
    const row = catalog.getFax(faxSid(7))!;
    expect(row).toMatchObject({
      sid: faxSid(7),
      accountSid: ACCOUNT,
      state: 'listed',
      status: 'received',
      direction: 'inbound',
      from: '+14155550100',
      to: '+14155551234',
      numPages: 2,
      mediaSid: mediaSid(7),
      attempts: 0,
      lastError: null,
      media: null,
      objects: [],
      deletion: null,
    });
    expect(row.raw).toMatchObject({ quality: 'fine', duration: 61, price_unit: 'USD', api_version: 'v1' });
  });
});

describe('reading in pages', () => {
  /** Lists faxes 1..n in a shuffled order so insertion order cannot fake the sort. */
  function listMany(n: number): void {
    const ns = Array.from({ length: n }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    catalog.recordListed(ns.map((i) => twilioFax(i, i % 3 === 0 ? { account_sid: OTHER_ACCOUNT } : {})), null);
  }

  it('listUnfinished pages by keyset, oldest date_created first, with every unfinished state and no duplicate', () => {
    listMany(25);
    driveTo(catalog, 30, 'verified'); // finished: never listed as unfinished
    catalog.markFailed(faxSid(4), 'x');
    catalog.markFetched(faxSid(5), { size: 1, sha256Hex: 'a'.repeat(64), md5Hex: 'b'.repeat(32), contentType: 'application/pdf', pages: 1 });
    const seen: FaxRow[] = [];
    let after: { dateCreated: string | null; sid: string } | undefined;
    for (;;) {
      const page = catalog.listUnfinished({ limit: 4, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(4);
      seen.push(...page);
      const last = page[page.length - 1]!;
      after = { dateCreated: last.dateCreated, sid: last.sid };
    }
    expect(seen.map((f) => f.sid)).toEqual(Array.from({ length: 25 }, (_, i) => faxSid(i + 1)));
    expect(seen.find((f) => f.sid === faxSid(4))!.state).toBe('failed');

    const other = catalog.listUnfinished({ limit: 100, accountSid: OTHER_ACCOUNT }).map((f) => f.sid);
    expect(other).toEqual([3, 6, 9, 12, 15, 18, 21, 24].map(faxSid));
  });

  it('iterateFaxes walks every fax oldest first in batches while the catalog is written in between', () => {
    listMany(23);
    const order: string[] = [];
    for (const fax of catalog.iterateFaxes(5)) {
      order.push(fax.sid);
      if (fax.state === 'listed') catalog.markFailed(fax.sid, 'touched during iteration');
    }
    expect(order).toEqual(Array.from({ length: 23 }, (_, i) => faxSid(i + 1)));
    expect(catalog.countByState().failed).toBe(23);
  });

  it('counts by state (every state present) and per account; listing faxes alone sets no watermark (only completed sweeps do)', () => {
    listMany(9);
    driveTo(catalog, 10, 'verified');
    const counts = catalog.countByState();
    expect(counts).toEqual({ listed: 9, fetched: 0, stored: 0, verified: 1, 'metadata-only': 0, deleted: 0, failed: 0, lost: 0, 'needs-review': 0 });
    expect(catalog.countByState(OTHER_ACCOUNT).listed).toBe(3);
    // The newest fax seen is no proof that the listing completed (issue 11 §3): see listing-ledger.test.ts.
    expect(catalog.watermark(ACCOUNT)).toBeNull();
    expect(catalog.watermark(OTHER_ACCOUNT)).toBeNull();
    expect(catalog.watermark('AC' + '0'.repeat(32))).toBeNull();
  });
});

describe('runs and findings', () => {
  it('records a run with redacted options and its summary', () => {
    const id = catalog.startRun('archive', { twilioUrl: 'http://AC123:sekrit-token-value@localhost:1234', delete: true });
    catalog.finishRun(id, 1, { failed: 2 });
    const [run] = catalog.listRuns();
    expect(run).toMatchObject({ id, kind: 'archive', exitCode: 1, summary: { failed: 2 } });
    expect(JSON.stringify(run)).not.toContain('sekrit-token-value');
    expect(run!.finishedAt).not.toBeNull();
  });

  it('records findings append-only and logs non-matches as events', () => {
    const sid = driveTo(catalog, 1, 'verified');
    const runId = catalog.startRun('verify', {});
    catalog.recordFinding({ faxSid: sid, key: 'a/b.pdf', at: '2024-03-01T00:00:00Z', method: 'full', outcome: 'match', runId });
    catalog.recordFinding({ faxSid: sid, key: 'a/b.json', at: '2024-03-01T00:00:00Z', method: 'presence', outcome: 'missing', detail: 'HEAD 404', runId });
    expect(catalog.listFindings({ runId }).map((f) => f.outcome)).toEqual(['match', 'missing']);
    expect(catalog.listFindings({ outcome: 'missing' })).toHaveLength(1);
    const findingEvents = catalog.listEvents().filter((e) => e.type === 'finding');
    expect(findingEvents).toHaveLength(1);
    expect(findingEvents[0]!.data).toMatchObject({ outcome: 'missing', key: 'a/b.json' });
  });
});
