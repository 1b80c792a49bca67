/**
 * The torture audit's judgement (a pure function): it must pass a sound archive and name every kind
 * of broken promise, or a green torture run would prove nothing.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  auditArchive, type CatalogDeletionFact, type CatalogFaxFact, type CatalogObjectFact, type CatalogObjectVersionFact, type CatalogRunFact,
  type StoredObjectFact,
} from '../../scripts/torture/archive-audit.js';
import { recheckEventChain, type ChainCheck, type EventRowFact } from '../../scripts/torture/event-chain-recheck.js';
import type { SnapshotFax } from '../../scripts/torture/fax-snapshot.js';
import type { ListingSweepFact } from '../../scripts/torture/listing-ledger-audit.js';

const AC = 'AC' + 'a'.repeat(32);
const FX1 = 'FX' + '1'.repeat(32);
const FX2 = 'FX' + '2'.repeat(32);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** AuditFacts with mutable parts, so each case breaks one thing. */
interface Facts {
  snapshot: SnapshotFax[];
  remainingInTwilio: Set<string>;
  twilioDeletedCount: number;
  catalog: {
    faxes: CatalogFaxFact[];
    objects: CatalogObjectFact[];
    deletions: CatalogDeletionFact[];
    integrity: string;
    chain: ChainCheck;
    events: { id: number; type: string; faxSid: string | null }[];
    sweeps: ListingSweepFact[];
    runs: CatalogRunFact[];
    objectVersions: CatalogObjectVersionFact[];
  };
  stored: StoredObjectFact[];
  pendingMultipartUploads: number;
  finishedClean: boolean;
  lockFilePresent: boolean;
}

/** The pre-delete proof fields of a deletion row: taken by run `runId` a moment before its intent. */
function proof(runId: number, objects: Array<{ kind: string; key: string; sha256: string }>) {
  return { runId, proofAt: '2025-12-31T23:59:59.000Z', proofMethod: 'checksum', proofRunId: runId, proofObjects: objects };
}

/** Two faxes (one with media, one metadata-only), both archived, verified and deleted. */
function soundFacts(): Facts {
  const mediaKey = `${AC}/2021/11/${FX1}.pdf`;
  return {
    snapshot: [
      { sid: FX1, accountSid: AC, hasMedia: true, sha256Hex: sha('pdf-bytes'), size: 9, contentType: 'application/pdf', dateCreated: '2021-11-20T00:00:00Z' },
      { sid: FX2, accountSid: AC, hasMedia: false, sha256Hex: null, size: null, contentType: null, dateCreated: '2021-10-20T00:00:00Z' },
    ],
    remainingInTwilio: new Set(),
    twilioDeletedCount: 2,
    catalog: {
      faxes: [
        { sid: FX1, accountSid: AC, state: 'deleted', mediaSha256: sha('pdf-bytes') },
        { sid: FX2, accountSid: AC, state: 'deleted', mediaSha256: null },
      ],
      objects: [
        { faxSid: FX1, kind: 'media', key: mediaKey, size: 9, sha256: sha('pdf-bytes'), verifiedAt: '2021-12-01T00:00:00.000Z' },
        { faxSid: FX1, kind: 'sidecar', key: `${AC}/2021/11/${FX1}.json`, size: 4, sha256: sha('json1'), verifiedAt: '2021-12-01T00:00:00.000Z' },
        { faxSid: FX2, kind: 'sidecar', key: `${AC}/2021/10/${FX2}.json`, size: 4, sha256: sha('json2'), verifiedAt: '2021-12-01T00:00:00.000Z' },
      ],
      deletions: [
        { faxSid: FX1, intentAt: '2026-01-01T00:00:00.000Z', receiptAt: '2026-01-01T00:00:01.000Z', httpStatus: 204, cancelledAt: null, ...proof(1, [
          { kind: 'media', key: mediaKey, sha256: sha('pdf-bytes') }, { kind: 'sidecar', key: `${AC}/2021/11/${FX1}.json`, sha256: sha('json1') },
        ]) },
        { faxSid: FX2, intentAt: '2026-01-01T00:00:00.000Z', receiptAt: '2026-01-01T00:00:01.000Z', httpStatus: 404, cancelledAt: null, ...proof(1, [
          { kind: 'sidecar', key: `${AC}/2021/10/${FX2}.json`, sha256: sha('json2') },
        ]) },
      ],
      runs: [{ id: 1, startedAt: '2025-12-31T23:59:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z' }],
      objectVersions: [],
      integrity: 'ok',
      chain: { events: 4, brokenAtId: null },
      events: [
        { id: 1, type: 'verified', faxSid: FX1 },
        { id: 2, type: 'metadata-only', faxSid: FX2 },
        { id: 3, type: 'deletion-intent', faxSid: FX1 },
        { id: 4, type: 'deletion-intent', faxSid: FX2 },
      ],
      // A killed archive's sweep, absorbed by the full listing of the run that finished.
      sweeps: [
        { id: 1, accountSid: AC, startedAt: '2021-12-01T00:00:00.000Z', rangeAfter: null, rangeOnOrBefore: null, completedAt: '2021-12-01T00:10:00.000Z' },
        { id: 2, accountSid: AC, startedAt: '2021-12-01T00:05:00.000Z', rangeAfter: null, rangeOnOrBefore: null, completedAt: '2021-12-01T00:10:00.000Z' },
      ],
    },
    stored: [
      { key: mediaKey, size: 9, sha256Hex: sha('pdf-bytes') },
      { key: `${AC}/2021/11/${FX1}.json`, size: 4, sha256Hex: sha('json1') },
      { key: `${AC}/2021/10/${FX2}.json`, size: 4, sha256Hex: sha('json2') },
    ],
    pendingMultipartUploads: 0,
    finishedClean: true,
    lockFilePresent: false,
  };
}

describe('auditArchive', () => {
  it('passes a sound archive and counts it', () => {
    const result = auditArchive(soundFacts());
    expect(result.violations).toEqual([]);
    expect(result.figures).toMatchObject({ faxes: 2, withMedia: 1, archived: 2, deleted: 2, remainingInTwilio: 0, lost: 0, storedObjects: 3 });
  });

  it('checks the listing ledger: the last sweep completed, none left open, the coverage reaching every fax', () => {
    const open = soundFacts();
    open.catalog.sweeps[1]!.completedAt = null;
    expect(auditArchive(open).violations).toEqual(expect.arrayContaining([
      expect.stringContaining('the last listing sweep (#2)'), expect.stringContaining('unfinished listing sweeps after a clean finish: #2'),
    ]));
    const short = soundFacts();
    short.catalog.sweeps = [{ ...short.catalog.sweeps[0]!, rangeOnOrBefore: '2021-11-01T00:00:00.000Z' }];
    expect(auditArchive(short).violations).toEqual([expect.stringContaining(`1 faxes of ${AC} lie after its complete listing`)]);
    const none = soundFacts();
    none.catalog.sweeps = [];
    expect(auditArchive(none).violations).toEqual([expect.stringContaining('has faxes but no listing sweep')]);
    const partial = soundFacts();
    partial.catalog.sweeps = [{ ...partial.catalog.sweeps[0]!, rangeAfter: '2021-11-01T00:00:00.000Z' }];
    expect(auditArchive(partial).violations).toEqual([expect.stringContaining('never listed completely from the beginning')]);
  });

  it('calls a fax lost when it left Twilio and the store holds other bytes than Twilio served', () => {
    const facts = soundFacts();
    facts.stored[0]!.sha256Hex = sha('corrupt');
    const result = auditArchive(facts);
    expect(result.figures.lost).toBe(1);
    expect(result.violations.some((v) => v.startsWith(`LOST: ${FX1}`))).toBe(true);
    expect(result.violations.some((v) => v.includes('is verified but the store holds other bytes'))).toBe(true);
  });

  it('catches bytes that were corrupt before they reached the store (catalog hash is not what Twilio served)', () => {
    const facts = soundFacts();
    const bad = sha('corrupted-in-download');
    facts.catalog.faxes[0]!.mediaSha256 = bad;
    facts.catalog.objects[0]!.sha256 = bad;
    facts.stored[0]!.sha256Hex = bad;
    const result = auditArchive(facts);
    expect(result.figures.lost).toBe(1);
    expect(result.violations.some((v) => v.includes('is not the hash of the bytes Twilio served'))).toBe(true);
  });

  it('refuses a fax gone from Twilio without a receipt, or whose intent came before its proof', () => {
    const facts = soundFacts();
    facts.catalog.deletions = [facts.catalog.deletions[1]!];
    facts.catalog.events = [
      { id: 1, type: 'deletion-intent', faxSid: FX2 },
      { id: 2, type: 'metadata-only', faxSid: FX2 },
      { id: 3, type: 'verified', faxSid: FX1 },
    ];
    const result = auditArchive(facts);
    expect(result.violations).toContain(`${FX1}: gone from Twilio without a deletion receipt in the catalog`);
    expect(result.violations.some((v) => v.startsWith(`${FX2}: event #1 records a deletion intent before`))).toBe(true);
  });

  it('finds an object stored twice, a stray key and an orphan', () => {
    const facts = soundFacts();
    facts.stored = [
      ...facts.stored,
      { key: `${AC}/2021/12/${FX1}.pdf`, size: 9, sha256Hex: sha('pdf-bytes') },
      { key: `${AC}/2021/11/.${FX1}.pdf.tmp`, size: 3, sha256Hex: sha('x') },
    ];
    const result = auditArchive(facts);
    expect(result.violations.some((v) => v.startsWith(`store: ${FX1} media stored twice`))).toBe(true);
    expect(result.violations.some((v) => v.startsWith('store: stray object'))).toBe(true);
    expect(result.violations).toContain(`store: ${AC}/2021/12/${FX1}.pdf is not recorded in the catalog (orphan)`);
    expect(result.violations).toContain('counts: 5 fax objects in the store, 3 in the catalog');
  });

  it("accepts a recorded run's chain anchor beside the fax objects, and names one for a run the catalog never had", () => {
    const facts = soundFacts();
    facts.stored = [...facts.stored, { key: '_anchors/00000001-402c4618afe4284a.json', size: 300, sha256Hex: sha('anchor') }];
    expect(auditArchive(facts).violations).toEqual([]);
    facts.stored = [...facts.stored, { key: '_anchors/00000009-402c4618afe4284a.json', size: 300, sha256Hex: sha('anchor 9') }];
    expect(auditArchive(facts).violations).toEqual(['store: anchor _anchors/00000009-402c4618afe4284a.json names run 9, which the catalog never recorded']);
  });

  it('after a clean finish, wants nothing left in Twilio, no open intent, no lock file', () => {
    const facts = soundFacts();
    facts.remainingInTwilio = new Set([FX2]);
    facts.twilioDeletedCount = 1;
    facts.catalog.faxes[1]!.state = 'metadata-only';
    facts.catalog.deletions = [
      facts.catalog.deletions[0]!,
      { ...facts.catalog.deletions[1]!, receiptAt: null, httpStatus: null },
    ];
    facts.lockFilePresent = true;
    const result = auditArchive(facts);
    expect(result.figures).toMatchObject({ deleted: 1, remainingInTwilio: 1, lost: 0 });
    expect(result.violations).toContain(`${FX2}: the last run exited 0 with --delete but Twilio still has it`);
    expect(result.violations).toContain(`${FX2}: the last run exited 0 but a deletion intent is still open`);
    expect(result.violations).toContain('catalog: the lock file is left behind after a clean exit');
  });

  it('checks the pre-delete proof of every deletion: present, of its own run, before the intent, covering every object (issue 11 §1)', () => {
    const facts = soundFacts();
    const [first, second] = facts.catalog.deletions as [CatalogDeletionFact, CatalogDeletionFact];
    facts.catalog.deletions = [
      { ...first, proofObjects: first.proofObjects!.map((o) => (o.kind === 'media' ? { ...o, sha256: sha('other') } : o)) },
      { ...second, proofAt: null, proofObjects: null },
    ];
    let result = auditArchive(facts);
    expect(result.violations).toContain(`${FX1}: deletion intent at 2026-01-01T00:00:00.000Z: the proof does not cover media ${AC}/2021/11/${FX1}.pdf as recorded`);
    expect(result.violations).toContain(`${FX2}: deletion intent at 2026-01-01T00:00:00.000Z carries no pre-delete proof`);

    facts.catalog.deletions = [
      { ...first, proofRunId: 7 },
      { ...second, proofAt: '2026-01-01T00:00:02.000Z' },
    ];
    facts.catalog.runs = [{ id: 1, startedAt: '2026-01-01T00:00:01.500Z', finishedAt: null }];
    result = auditArchive(facts);
    expect(result.violations).toContain(`${FX1}: deletion intent at 2026-01-01T00:00:00.000Z: proof taken by run 7, intent by run 1`);
    expect(result.violations).toContain(`${FX2}: deletion intent at 2026-01-01T00:00:00.000Z: proof taken after the intent (2026-01-01T00:00:02.000Z)`);
    expect(result.violations.some((v) => v.startsWith(`${FX1}: deletion intent at 2026-01-01T00:00:00.000Z: proof at 2025-12-31T23:59:59.000Z is outside its run`))).toBe(true);
  });

  it('accepts a superseded media version kept beside the current one, and misses none that went', () => {
    const facts = soundFacts();
    const v1 = { faxSid: FX1, kind: 'media', key: `${AC}/2021/11/${FX1}.pdf`, size: 9, sha256: sha('pdf-bytes') };
    const v2Key = `${AC}/2021/11/${FX1}.v2.pdf`;
    facts.snapshot[0]!.sha256Hex = sha('pdf-v2');
    facts.catalog.faxes[0]!.mediaSha256 = sha('pdf-v2');
    facts.catalog.objects[0] = { ...facts.catalog.objects[0]!, key: v2Key, sha256: sha('pdf-v2') };
    facts.catalog.deletions[0]!.proofObjects![0] = { kind: 'media', key: v2Key, sha256: sha('pdf-v2') };
    facts.catalog.objectVersions = [v1];
    facts.stored.push({ key: v2Key, size: 9, sha256Hex: sha('pdf-v2') });
    expect(auditArchive(facts).violations).toEqual([]);
    facts.stored = facts.stored.filter((o) => o.key !== v1.key);
    expect(auditArchive(facts).violations).toContain(`store: superseded version ${v1.key} is missing or holds other bytes`);
  });

  it('reports a broken catalog (integrity, event chain)', () => {
    const facts = soundFacts();
    facts.catalog.integrity = 'row 3 missing from index faxes_state_created';
    facts.catalog.chain = { events: 4, brokenAtId: 3 };
    const result = auditArchive(facts);
    expect(result.violations).toContain('catalog: integrity_check says row 3 missing from index faxes_state_created');
    expect(result.violations).toContain('catalog: event chain broken at event #3');
  });
});

describe('recheckEventChain', () => {
  function chain(datas: Record<string, unknown>[]): EventRowFact[] {
    let prev = '0'.repeat(64);
    return datas.map((data, i) => {
      const id = i + 1;
      const at = `2026-01-01T00:00:0${i}.000Z`;
      // The documented formula, written out by hand: keys sorted, no whitespace.
      const body = `{"at":${JSON.stringify(at)},"data":${JSON.stringify(data)},"fax_sid":null,"id":${id},"type":"t"}`;
      const hash = createHash('sha256').update(prev + body).digest('hex');
      const row = { id, at, type: 't', fax_sid: null, data: JSON.stringify(data), prev_hash: prev, hash };
      prev = hash;
      return row;
    });
  }

  it('accepts an intact chain and finds an edited or removed event', () => {
    const rows = chain([{ a: 1 }, { b: 2 }, { c: 3 }]);
    expect(recheckEventChain(rows)).toEqual({ events: 3, brokenAtId: null });
    expect(recheckEventChain(rows.map((r) => (r.id === 2 ? { ...r, data: '{"b":3}' } : r))).brokenAtId).toBe(2);
    expect(recheckEventChain([rows[0]!, rows[2]!]).brokenAtId).toBe(3);
  });
});
