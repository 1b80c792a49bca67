/**
 * `recordSteps` (issue 16): many archive steps in one transaction, each exactly as its single-step
 * method; a refused step is undone alone. And the event chain written without a JSON round trip
 * still checks (eventHashOfJson agrees with eventHash).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveStep } from '../../src/catalog/catalog.js';
import { canonicalJson, eventHash, eventHashOfJson, GENESIS_HASH } from '../../src/catalog/event-chain.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { InvariantError } from '../../src/errors.js';
import { driveTo, FETCHED_MEDIA, faxSid, mediaObject, sidecarObject, tempDir, twilioFax } from './fax-fixtures.js';

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

const AT = '2024-02-01T00:00:01.000Z';

function stepsToVerified(n: number): ArchiveStep[] {
  const sid = faxSid(n);
  return [
    { step: 'fetched', sid, media: FETCHED_MEDIA },
    { step: 'stored', sid, objects: [mediaObject(n), sidecarObject(n)] },
    { step: 'verified', sid, verifications: [{ kind: 'media', method: 'checksum', at: AT }, { kind: 'sidecar', method: 'etag-md5', at: AT }] },
  ];
}

describe('recordSteps', () => {
  it('takes faxes through fetched, stored and verified in one call, with the same rows and events as the single-step methods', () => {
    catalog.recordListed([1, 2, 3].map((n) => twilioFax(n)), null);
    const outcomes = catalog.recordSteps([...stepsToVerified(1), ...stepsToVerified(2)]);
    expect(outcomes).toEqual([null, null, null, null, null, null]);
    // The reference: fax 3 one step at a time.
    catalog.markFetched(faxSid(3), FETCHED_MEDIA);
    catalog.markStored(faxSid(3), [mediaObject(3), sidecarObject(3)]);
    catalog.markVerified(faxSid(3), [{ kind: 'media', method: 'checksum', at: AT }, { kind: 'sidecar', method: 'etag-md5', at: AT }]);

    const strip = (sid: string) => {
      const row = catalog.getFax(sid)!;
      return { state: row.state, media: row.media, objects: row.objects.map((o) => ({ kind: o.kind, size: o.size, method: o.verificationMethod, verifiedAt: o.verifiedAt })) };
    };
    expect(strip(faxSid(1))).toEqual(strip(faxSid(3)));
    expect(strip(faxSid(2)).state).toBe('verified');
    const typesOf = (sid: string) => catalog.listEvents({ limit: 100 }).filter((e) => e.faxSid === sid).map((e) => e.type);
    expect(typesOf(faxSid(1))).toEqual(typesOf(faxSid(3)));
    expect(typesOf(faxSid(1))).toEqual(['stored', 'verified']);
    expect(catalog.checkEventChain()).toMatchObject({ intact: true });
  });

  it('refuses a bad step alone: the others of the batch commit, the refused fax is untouched', () => {
    catalog.recordListed([1, 2].map((n) => twilioFax(n)), null);
    const storedTooEarly: ArchiveStep = { step: 'verified', sid: faxSid(2), verifications: [{ kind: 'media', method: 'checksum', at: AT }] };
    const unknown: ArchiveStep = { step: 'fetched', sid: faxSid(9), media: FETCHED_MEDIA };
    const badHash: ArchiveStep = { step: 'fetched', sid: faxSid(2), media: { ...FETCHED_MEDIA, sha256Hex: 'nothex' } };
    const outcomes = catalog.recordSteps([storedTooEarly, ...stepsToVerified(1), unknown, badHash]);
    expect(outcomes[0]).toBeInstanceOf(InvariantError);
    expect(outcomes.slice(1, 4)).toEqual([null, null, null]);
    expect(outcomes[4]).toBeInstanceOf(InvariantError);
    expect(String(outcomes[4])).toMatch(/not in the catalog/);
    expect(outcomes[5]).toBeInstanceOf(InvariantError);
    expect(catalog.getFax(faxSid(1))!.state).toBe('verified');
    expect(catalog.getFax(faxSid(2))).toMatchObject({ state: 'listed', media: null, objects: [] });
    expect(catalog.checkEventChain()).toMatchObject({ intact: true });
  });

  it('the database triggers still refuse through a batch (verified while an object is unproven)', () => {
    driveTo(catalog, 1, 'stored');
    const outcomes = catalog.recordSteps([{ step: 'verified', sid: faxSid(1), verifications: [{ kind: 'sidecar', method: 'checksum', at: AT }] }]);
    expect(outcomes[0]).toBeInstanceOf(InvariantError);
    expect(catalog.getFax(faxSid(1))!.state).toBe('stored');
    expect(catalog.getFax(faxSid(1))!.objects.every((o) => o.verifiedAt === null)).toBe(true);
  });

  it('an empty batch writes nothing', () => {
    expect(catalog.recordSteps([])).toEqual([]);
    expect(catalog.listEvents()).toEqual([]);
  });
});

describe('eventHashOfJson', () => {
  it('gives eventHash of the parsed data for every kind of value the catalog logs', () => {
    const samples: Record<string, unknown>[] = [
      {},
      { runId: null, new: 1000, updated: 0 },
      { objects: [{ kind: 'media', key: 'a/b.pdf', size: 3, sha256: 'f'.repeat(64) }], note: 'quote " and \\ and \u00e9 and \u2028' },
      { b: { z: [1, 2.5, -0, 1e21, true, null], a: 'x' }, a: [], '10': 'ten', '2': 'two' },
    ];
    for (const [i, data] of samples.entries()) {
      const dataJson = canonicalJson(data);
      for (const faxSidValue of [null, faxSid(1)]) {
        const event = { id: i + 1, at: AT, type: 'stored', faxSid: faxSidValue };
        expect(eventHashOfJson(GENESIS_HASH, { ...event, dataJson })).toBe(eventHash(GENESIS_HASH, { ...event, data: JSON.parse(dataJson) as Record<string, unknown> }));
      }
    }
  });
});
