/**
 * The database itself refuses what would break the invariant, even when the catalog code is bypassed:
 * these tests open the file with better-sqlite3 directly, as a bug elsewhere or a person with a shell would.
 *
 * Every test runs twice: on a fresh catalog, and on a catalog written by schema version 1 (the
 * fixture catalog-v1.sqlite, made by the v1 code with faxes 1-8 in every state) and then migrated:
 * migration 2 rebuilds the faxes table, and every guard must hold on the rebuilt one.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { driveTo, faxSid, tempDir } from './fax-fixtures.js';

const V1_FIXTURE = new URL('./fixtures/catalog-v1.sqlite', import.meta.url).pathname;

let dir: string;
let cleanup: () => void;
let path: string;
let raw: Database.Database;
const sids: Record<string, string> = {};

function setUp(variant: 'fresh' | 'migrated v1'): void {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'catalog.sqlite');
  if (variant === 'migrated v1') {
    copyFileSync(V1_FIXTURE, path);
    openCatalog(path).close(); // migrates
    Object.assign(sids, { listed: faxSid(1), stored: faxSid(2), verified: faxSid(3), metadataOnly: faxSid(4), failed: faxSid(5), deleted: faxSid(6) });
  } else {
    const catalog = openCatalog(path);
    sids.listed = driveTo(catalog, 1, 'listed');
    sids.stored = driveTo(catalog, 2, 'stored');
    sids.verified = driveTo(catalog, 3, 'verified');
    sids.metadataOnly = driveTo(catalog, 4, 'metadata-only');
    sids.failed = driveTo(catalog, 5, 'failed');
    sids.deleted = driveTo(catalog, 6, 'deleted');
    catalog.close();
  }
  raw = new Database(path);
  raw.pragma('foreign_keys = ON');
}

/** An open run, as a deletion intent needs one (migration 3). */
const openRun = (startedAt = '2024-01-01T00:00:00Z', finishedAt: string | null = null) =>
  Number(raw.prepare(`INSERT INTO runs (kind, started_at, finished_at, options) VALUES ('archive', ?, ?, '{}')`).run(startedAt, finishedAt).lastInsertRowid);
/** A deletion intent with a pre-delete proof of this run (the proof's own contents are the code's business). */
const insertIntent = (sid: string) => {
  const run = openRun();
  return raw.prepare(`INSERT INTO deletions (fax_sid, intent_at, run_id, proof_at, proof_method, proof_run_id, proof)
    VALUES (?, '2024-01-01T00:00:01Z', ?, '2024-01-01T00:00:01Z', 'checksum', ?, '[]')`).run(sid, run, run);
};
const stateOf = (sid: string) => (raw.prepare('SELECT state FROM faxes WHERE sid = ?').get(sid) as { state: string }).state;

describe.each(['fresh', 'migrated v1'] as const)('triggers (%s catalog)', (variant) => {
  beforeEach(() => setUp(variant));
  afterEach(() => {
    raw.close();
    cleanup();
  });

  it('are the same on a migrated v1 file and a fresh one: every index and trigger of migration 1 on faxes, plus the new', () => {
    const onFaxes = (db: Database.Database) =>
      db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'faxes' AND type IN ('index','trigger') AND sql IS NOT NULL ORDER BY type, name`).all();
    const v1 = new Database(V1_FIXTURE, { readonly: true });
    const v1Names = (onFaxes(v1) as { name: string }[]).map((r) => r.name);
    v1.close();
    const names = (onFaxes(raw) as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(v1Names));
    expect(names).toEqual(expect.arrayContaining(['faxes_needs_review', 'faxes_metadata_only_needs_no_media_or_acceptance']));
    const { dir: freshDir, cleanup: freshCleanup } = tempDir();
    const freshPath = join(freshDir, 'fresh.sqlite');
    openCatalog(freshPath).close();
    const fresh = new Database(freshPath, { readonly: true });
    expect(onFaxes(raw)).toEqual(onFaxes(fresh));
    fresh.close();
    freshCleanup();
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it("refuse needs-review without a reason, and metadata-only for a fax whose record says media unless a person accepted it", () => {
    expect(() => raw.prepare(`UPDATE faxes SET state = 'needs-review' WHERE sid = ?`).run(sids.listed)).toThrow(/CHECK constraint failed/);
    raw.prepare(`UPDATE faxes SET state = 'needs-review', review_reason = 'no media to be had' WHERE sid = ?`).run(sids.listed);
    expect(() => insertIntent(sids.listed!)).toThrow(/refused by the catalog: a deletion intent needs a verified/);
    // A stored fax with media on Twilio, its objects verified by hand, still cannot become metadata-only...
    raw.exec(`DROP TRIGGER objects_keep_proof_on_update`);
    raw.prepare(`UPDATE objects SET verified_at = 'x', verification_method = 'full' WHERE fax_sid = ?`).run(sids.stored);
    expect(() => raw.prepare(`UPDATE faxes SET state = 'metadata-only' WHERE sid = ?`).run(sids.stored)).toThrow(/metadata-only only when a person accepted it/);
    // ...until the acceptance is recorded.
    raw.prepare(`UPDATE faxes SET missing_media_accepted_at = 'x', state = 'metadata-only' WHERE sid = ?`).run(sids.stored);
    expect(stateOf(sids.stored!)).toBe('metadata-only');
  });

  it('refuse a deletion intent on a fax that is not verified or metadata-only, even by raw SQL', () => {
    for (const sid of [sids.listed!, sids.stored!, sids.failed!, 'FX' + '9'.repeat(32)]) {
      expect(() => insertIntent(sid), sid).toThrow(/refused by the catalog: a deletion intent needs a verified/);
    }
    expect(raw.prepare('SELECT count(*) AS n FROM deletions WHERE receipt_at IS NULL').get()).toEqual({ n: 0 });
    insertIntent(sids.verified!);
    insertIntent(sids.metadataOnly!);
    expect(raw.prepare('SELECT count(*) AS n FROM deletions WHERE receipt_at IS NULL').get()).toEqual({ n: 2 });
  });

  it('refuse a deletion intent without a store proof taken in the same, unfinished run (issue 11 §1)', () => {
    const insert = (runId: number | null, proofAt: string | null, proofRunId: number | null, method: string | null = 'checksum') =>
      raw.prepare(`INSERT INTO deletions (fax_sid, intent_at, run_id, proof_at, proof_method, proof_run_id, proof)
        VALUES (?, '2024-06-01T00:00:00Z', ?, ?, ?, ?, '[]')`).run(sids.verified, runId, proofAt, method, proofRunId);
    const current = openRun('2024-06-01T00:00:00Z');
    const earlier = openRun('2024-05-01T00:00:00Z', '2024-05-01T01:00:00Z');
    const refused = /a deletion intent needs a store proof taken in the same, unfinished run/;
    expect(() => raw.prepare(`INSERT INTO deletions (fax_sid, intent_at, run_id) VALUES (?, '2024-06-01T00:00:00Z', ?)`).run(sids.verified, current)).toThrow(refused);
    expect(() => insert(current, '2024-05-01T00:30:00Z', earlier)).toThrow(refused); // a proof of another run
    expect(() => insert(current, '2024-05-31T23:59:59Z', current)).toThrow(refused); // taken before this run started
    expect(() => insert(earlier, '2024-05-01T00:30:00Z', earlier)).toThrow(refused); // the run is over
    expect(() => insert(null, '2024-06-01T00:00:01Z', null)).toThrow(refused); // no run at all
    expect(() => insert(current, '2024-06-01T00:00:01Z', current, 'trust-me')).toThrow(/CHECK|refused/);
    expect(raw.prepare('SELECT count(*) AS n FROM deletions WHERE fax_sid = ?').get(sids.verified)).toEqual({ n: 0 });
    insert(current, '2024-06-01T00:00:01Z', current);
    expect(raw.prepare('SELECT count(*) AS n FROM deletions WHERE fax_sid = ?').get(sids.verified)).toEqual({ n: 1 });
  });

  it('refuse a deletion intent when an object of a verified fax has lost its verification', () => {
    raw.exec('DROP TRIGGER objects_keep_proof_on_update'); // a tamperer first removes one guard...
    raw.prepare(`UPDATE objects SET verified_at = NULL, verification_method = NULL WHERE fax_sid = ? AND kind = 'media'`).run(sids.verified);
    expect(() => insertIntent(sids.verified!)).toThrow(/refused by the catalog/); // ...and the next one still holds
  });

  it('refuse the deleted state without a deletion receipt', () => {
    expect(() => raw.prepare(`UPDATE faxes SET state = 'deleted' WHERE sid = ?`).run(sids.verified)).toThrow(/becomes deleted only/);
    insertIntent(sids.verified!);
    expect(() => raw.prepare(`UPDATE faxes SET state = 'deleted' WHERE sid = ?`).run(sids.verified)).toThrow(/becomes deleted only/);
    raw.prepare(`UPDATE deletions SET receipt_at = '2024-01-01T00:00:01Z', http_status = 500 WHERE fax_sid = ?`).run(sids.verified);
    expect(() => raw.prepare(`UPDATE faxes SET state = 'deleted' WHERE sid = ?`).run(sids.verified)).toThrow(/becomes deleted only/);
    expect(stateOf(sids.verified!)).toBe('verified');
    expect(() => raw.prepare(`UPDATE faxes SET state = 'deleted' WHERE sid = ?`).run(sids.listed)).toThrow(/becomes deleted only/);
  });

  it('refuse verified / metadata-only while any object lacks verified_at', () => {
    expect(() => raw.prepare(`UPDATE faxes SET state = 'verified' WHERE sid = ?`).run(sids.stored)).toThrow(/verified only when every stored object is verified/);
    expect(() => raw.prepare(`UPDATE faxes SET state = 'metadata-only' WHERE sid = ?`).run(sids.listed)).toThrow(/verified only when every stored object is verified/);
    expect(() =>
      raw.prepare(`INSERT INTO faxes (sid, account_sid, state, created_key, raw, first_seen_at, updated_at, state_changed_at)
        VALUES ('FX${'8'.repeat(32)}', 'AC${'a'.repeat(32)}', 'verified', '', '{}', 'x', 'x', 'x')`).run(),
    ).toThrow(/cannot start verified/);
    expect(() =>
      raw.prepare(`INSERT INTO objects (fax_sid, kind, key, size, sha256, md5, content_type, stored_at) VALUES (?, 'media', 'k', 1, ?, ?, 'application/pdf', 'x')`)
        .run(sids.metadataOnly, 'e'.repeat(64), 'f'.repeat(32)),
    ).toThrow(/unverified object cannot join/);
    expect(stateOf(sids.stored!)).toBe('stored');
  });

  it('refuse removing the proof or the receipt of a deleted fax', () => {
    expect(() => raw.prepare('DELETE FROM objects WHERE fax_sid = ?').run(sids.deleted)).toThrow(/not removed/);
    expect(() => raw.prepare('DELETE FROM deletions WHERE fax_sid = ?').run(sids.deleted)).toThrow(/never removed/);
    expect(() => raw.prepare('UPDATE deletions SET http_status = 204, request_id = NULL WHERE fax_sid = ?').run(sids.deleted)).toThrow(/never changed/);
  });

  it('keep the event log and the findings append-only', () => {
    const count = (raw.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    expect(count).toBeGreaterThan(5);
    expect(() => raw.prepare(`UPDATE events SET type = 'nothing' WHERE id = 1`).run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM events WHERE id = 2').run()).toThrow(/append-only/);
    raw.prepare(`INSERT INTO findings (fax_sid, key, at, method, outcome) VALUES (?, 'k', 'x', 'full', 'match')`).run(sids.verified);
    expect(() => raw.prepare(`UPDATE findings SET outcome = 'mismatch'`).run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM findings').run()).toThrow(/append-only/);
    expect((raw.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(count);
  });
});
