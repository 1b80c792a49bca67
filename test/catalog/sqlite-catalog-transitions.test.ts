import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import { canTransition, FAX_STATES, type FaxState } from '../../src/catalog/fax-states.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { InvariantError } from '../../src/errors.js';
import { driveTo, FETCHED_MEDIA, mediaObject, recordProvenIntent, sidecarObject, tempDir } from './fax-fixtures.js';

let catalog: Catalog;
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

const AT = '2024-02-02T00:00:00.000Z';

/** The catalog method whose job is to move a fax to `to`. */
function moveTo(sid: string, to: FaxState, n: number, hasMedia: boolean): void {
  switch (to) {
    case 'listed':
      return catalog.resetToListed(sid, 'test');
    case 'fetched':
      return catalog.markFetched(sid, FETCHED_MEDIA);
    case 'stored':
      return catalog.markStored(sid, hasMedia ? [mediaObject(n), sidecarObject(n)] : [sidecarObject(n)]);
    case 'verified':
    case 'metadata-only':
      return catalog.markVerified(sid, hasMedia ? [{ kind: 'media', method: 'checksum', at: AT }, { kind: 'sidecar', method: 'checksum', at: AT }] : [{ kind: 'sidecar', method: 'full', at: AT }]);
    case 'deleted':
      recordProvenIntent(catalog, sid);
      return catalog.recordDeletionReceipt(sid, { httpStatus: 204, requestId: null, at: AT });
    case 'failed':
      return catalog.markFailed(sid, 'test');
    case 'lost':
      return catalog.markLost(sid, 'test');
    case 'needs-review':
      return catalog.markNeedsReview(sid, 'test');
  }
}

/** States a fax can really be in, per media variant (verified needs media; metadata-only and the sidecar-only store do not). */
const REACHABLE: Record<'media' | 'none', FaxState[]> = {
  media: ['listed', 'fetched', 'stored', 'verified', 'deleted', 'failed', 'lost', 'needs-review'],
  none: ['listed', 'stored', 'metadata-only', 'deleted', 'failed', 'lost', 'needs-review'],
};

describe('every transition through the catalog follows FAX_TRANSITIONS', () => {
  let n = 0;
  for (const variant of ['media', 'none'] as const) {
    const hasMedia = variant === 'media';
    for (const from of REACHABLE[variant]) {
      for (const to of FAX_STATES) {
        // markVerified picks verified or metadata-only from the media itself; the other target is not a separate call.
        if ((hasMedia && to === 'metadata-only') || (!hasMedia && to === 'verified')) continue;
        const allowed = canTransition(from, to, { hasMedia });
        it(`${variant} media: ${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
          const id = ++n;
          const sid = driveTo(catalog, id, from, { hasMedia });
          expect(catalog.getFax(sid)!.state).toBe(from);
          if (allowed) {
            moveTo(sid, to, id, hasMedia);
            expect(catalog.getFax(sid)!.state).toBe(to);
          } else {
            expect(() => moveTo(sid, to, id, hasMedia)).toThrow(InvariantError);
            expect(catalog.getFax(sid)!.state).toBe(from);
          }
        });
      }
    }
  }
});

describe('what each step records', () => {
  it('a failure counts attempts, keeps a one-line reason without secrets, and failed rows beyond maxAttempts are not unfinished', () => {
    const sid = driveTo(catalog, 1, 'listed');
    catalog.markFailed(sid, 'GET https://user:hunter2secret@example.com/x?X-Amz-Signature=abcdef123456 failed\nstack line');
    catalog.markFailed(sid, 'again');
    const row = catalog.getFax(sid)!;
    expect(row.attempts).toBe(2);
    expect(row.lastError).toBe('again');
    const events = catalog.listEvents().filter((e) => e.type === 'failed');
    expect(JSON.stringify(events)).not.toContain('hunter2secret');
    expect(JSON.stringify(events)).not.toContain('abcdef123456');
    expect(String(events[0]!.data.reason)).not.toContain('\n');
    expect(catalog.listUnfinished({ limit: 10, maxAttempts: 2 })).toHaveLength(0);
    expect(catalog.listUnfinished({ limit: 10, maxAttempts: 3 }).map((f) => f.sid)).toEqual([sid]);
  });

  it('a fax with media cannot be stored without its media object, nor verified while an object is unverified', () => {
    const sid = driveTo(catalog, 1, 'fetched');
    expect(() => catalog.markStored(sid, [sidecarObject(1)])).toThrow(/stored only together with its media object/);
    catalog.markStored(sid, [mediaObject(1), sidecarObject(1)]);
    expect(() => catalog.markVerified(sid, [{ kind: 'media', method: 'checksum', at: AT }])).toThrow(InvariantError);
    const row = catalog.getFax(sid)!;
    expect(row.state).toBe('stored');
    expect(row.objects.every((o) => o.verifiedAt === null)).toBe(true); // the refused transaction left nothing behind
  });

  it('stored -> verified records method and time per object, and re-storing replaces objects of the same kind unverified', () => {
    const sid = driveTo(catalog, 1, 'verified');
    const verified = catalog.getFax(sid)!;
    expect(verified.objects.map((o) => [o.kind, o.verificationMethod, o.verifiedAt])).toEqual([
      ['media', 'checksum', '2024-02-01T00:00:01.000Z'],
      ['sidecar', 'checksum', '2024-02-01T00:00:01.000Z'],
    ]);
    expect(verified.media).toEqual(FETCHED_MEDIA);
    catalog.resetToListed(sid, 're-audit found a changed object');
    expect(catalog.getFax(sid)!.media).toBeNull();
    catalog.markFetched(sid, FETCHED_MEDIA);
    catalog.markStored(sid, [{ ...mediaObject(1), sha256Hex: 'd'.repeat(64) }, sidecarObject(1)]);
    const restored = catalog.getFax(sid)!;
    expect(restored.objects).toHaveLength(2);
    expect(restored.objects.find((o) => o.kind === 'media')).toMatchObject({ sha256Hex: 'd'.repeat(64), verifiedAt: null, verificationMethod: null });
    expect(catalog.listEvents().some((e) => e.type === 'object-replaced' && e.faxSid === sid)).toBe(true);
  });

  it('an unknown fax is an InvariantError, not a silent no-op', () => {
    expect(() => catalog.markFailed('FX' + 'f'.repeat(32), 'x')).toThrow(/not in the catalog/);
  });
});
