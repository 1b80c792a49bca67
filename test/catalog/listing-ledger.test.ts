/**
 * The listing ledger in the catalog (migration 4) and what it proves (listing-coverage.ts): the
 * watermark is the end of contiguous coverage by completed sweeps, never later than a sweep's own
 * start, and a completed sweep cannot be rewritten or removed (the database refuses).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listedCompletelyUpTo, rangeHolds, type ListingSweep } from '../../src/catalog/listing-coverage.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { fullListingDue, planOwnSweep } from '../../src/pipeline/listing-sweeps.js';
import { ACCOUNT, tempDir, twilioFax } from './fax-fixtures.js';

const DAY = 86_400_000;
let n = 0;
function sweep(over: Partial<ListingSweep>): ListingSweep {
  return {
    id: ++n, accountSid: ACCOUNT, runId: null, startedAt: '2021-12-01T00:00:00.000Z', rangeAfter: null, rangeOnOrBefore: null,
    coveredDownTo: null, pages: 1, faxes: 1, completedAt: '2021-12-01T00:01:00.000Z', absorbedBy: null, ...over,
  };
}

describe('coverage (pure)', () => {
  it('ends at the sweep\'s start, however far ahead a fax is dated; an unfinished sweep proves nothing', () => {
    expect(listedCompletelyUpTo([sweep({})])).toBe('2021-12-01T00:00:00.000Z');
    expect(listedCompletelyUpTo([sweep({ completedAt: null })])).toBeNull();
    expect(listedCompletelyUpTo([sweep({ rangeOnOrBefore: '2021-11-01T00:00:00.000Z' })])).toBe('2021-11-01T00:00:00.000Z');
  });

  it('joins contiguous sweeps and stops at a gap', () => {
    const full = sweep({ startedAt: '2021-12-01T00:00:00.000Z' });
    const next = sweep({ startedAt: '2021-12-02T00:00:00.000Z', rangeAfter: '2021-11-29T00:00:00.000Z' });
    const gap = sweep({ startedAt: '2021-12-09T00:00:00.000Z', rangeAfter: '2021-12-05T00:00:00.000Z' });
    expect(listedCompletelyUpTo([gap, next, full])).toBe('2021-12-02T00:00:00.000Z');
    // Without a sweep from the beginning, there is no coverage; from a floor, there is.
    expect(listedCompletelyUpTo([next])).toBeNull();
    expect(listedCompletelyUpTo([next], '2021-11-29T00:00:00.000Z')).toBe('2021-12-02T00:00:00.000Z');
  });

  it('a full range holds a bounded one, not the other way round', () => {
    expect(rangeHolds({ rangeAfter: null, rangeOnOrBefore: null }, { rangeAfter: '2021-01-01T00:00:00Z', rangeOnOrBefore: null })).toBe(true);
    expect(rangeHolds({ rangeAfter: '2021-01-01T00:00:00Z', rangeOnOrBefore: null }, { rangeAfter: null, rangeOnOrBefore: null })).toBe(false);
  });

  it('plans a sync after the watermark minus the lookback, and a full listing once a week', () => {
    const now = new Date('2021-12-03T00:00:00Z');
    const done = [sweep({ startedAt: '2021-12-01T00:00:00.000Z' })];
    expect(planOwnSweep(done, { incrementalLookbackMs: 2 * DAY, fullListingEveryMs: 7 * DAY }, now).range).toEqual({
      rangeAfter: '2021-11-29T00:00:00.000Z', rangeOnOrBefore: null,
    });
    expect(fullListingDue(done, null, new Date(Date.parse('2021-12-01T00:00:00Z') + 7 * DAY + 1), 7 * DAY)).toBe(true);
    const weekLater = new Date(Date.parse('2021-12-08T00:00:01Z'));
    expect(planOwnSweep(done, { incrementalLookbackMs: 2 * DAY, fullListingEveryMs: 7 * DAY }, weekLater)).toMatchObject({ full: true, range: { rangeAfter: null } });
    // Never scheduled: always from the watermark.
    expect(planOwnSweep(done, { incrementalLookbackMs: 2 * DAY }, weekLater).full).toBe(false);
    // An archive always lists its whole range.
    expect(planOwnSweep(done, {}, now)).toMatchObject({ full: true, fixed: true });
  });
});

describe('the ledger in the catalog', () => {
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

  it('records a sweep, its progress and its completion; the watermark follows completed sweeps only', () => {
    catalog.recordListed([twilioFax(1, { date_created: '2022-01-01T00:00:00Z' })], null); // dated ahead
    const s = catalog.startListingSweep(ACCOUNT, { startedAt: '2021-12-01T00:00:00.000Z', rangeAfter: null, rangeOnOrBefore: null }, null);
    expect(catalog.recordListingProgress(s.id, { coveredDownTo: '2021-11-01T00:00:00.000Z', pages: 1, faxes: 1000 })).toBe(true);
    expect(catalog.watermark(ACCOUNT)).toBeNull();
    catalog.completeListingSweep(s.id);
    expect(catalog.watermark(ACCOUNT)).toBe('2021-12-01T00:00:00.000Z');
    expect(catalog.listListingSweeps(ACCOUNT)[0]).toMatchObject({ pages: 1, faxes: 1000, coveredDownTo: '2021-11-01T00:00:00.000Z' });
    // A completed sweep is not changed through the catalog (no-op) nor by hand (the trigger refuses).
    expect(catalog.recordListingProgress(s.id, { pages: 1 })).toBe(false);
    catalog.close();
    const db = new Database(path);
    try {
      expect(() => db.prepare('UPDATE listing_sweeps SET started_at = ? WHERE id = ?').run('2030-01-01T00:00:00.000Z', s.id)).toThrow(/completed listing sweep/);
      expect(() => db.prepare('DELETE FROM listing_sweeps').run()).toThrow(/append-only/);
    } finally {
      db.close();
      catalog = openCatalog(path);
    }
  });

  it('completes the unfinished sweeps a later sweep absorbs', () => {
    const killed = catalog.startListingSweep(ACCOUNT, { startedAt: '2021-11-01T00:00:00.000Z', rangeAfter: null, rangeOnOrBefore: null }, null);
    const full = catalog.startListingSweep(ACCOUNT, { startedAt: '2021-12-01T00:00:00.000Z', rangeAfter: null, rangeOnOrBefore: null }, null);
    catalog.completeListingSweep(full.id, { absorbs: [killed.id] });
    const [first] = catalog.listListingSweeps(ACCOUNT);
    expect(first).toMatchObject({ id: killed.id, absorbedBy: full.id });
    expect(first!.completedAt).not.toBeNull();
  });
});
