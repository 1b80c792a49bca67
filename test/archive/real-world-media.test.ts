/**
 * The archiver against the emulator made as hard as Twilio was (issues 11 §2 and 12 §3-§4), through
 * the real CLI, a real SQLite catalog and the folder store:
 * - a fax's media is never decided by one field: a media_url without a media_sid is archived with
 *   its media; a media_sid without a media_url (seen on canceled faxes) is fetched again, FaxMedia is
 *   asked, and the fax waits in needs-review: never deleted, named, not a retry that fails every run;
 *   `resolve --accept-missing-media` is the recorded way out;
 * - 400 ExpiredToken from the media host is an expired URL: the fax is fetched again in the same run;
 * - the bytes decide PDF or TIFF: media served as application/ or binary/octet-stream is archived,
 *   its served type recorded beside it; pages are counted in PDFs with object streams and incremental
 *   updates and in multi-strip TIFFs;
 * - outbound faxes that ended unsent carry their document as media, and it is archived.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestEmulator } from '../support/emulator.js';
import { EMULATOR_NOW, onlySummaryLine, runCli } from '../sync/sync-cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-real-media-'));
  dirs.push(dir);
  return dir;
}

type Fax = { sid: string; status: string; direction: string; media_sid: string | null; media_url: string | null };
interface Row { sid: string; state: string; review_reason: string | null; media_content_type: string | null; media_served_content_type: string | null }

function rows(catalog: string): Map<string, Row> {
  const db = new Database(catalog, { readonly: true });
  try {
    const out = new Map<string, Row>();
    for (const r of db.prepare('SELECT sid, state, review_reason, media_content_type, media_served_content_type FROM faxes').all() as Row[]) out.set(r.sid, r);
    return out;
  } finally {
    db.close();
  }
}

describe('archive against contradictory records', () => {
  it('archives media_url-without-media_sid with its media; media_sid-without-media_url waits in needs-review, undeleted, exit 0; resolve lets it go', async () => {
    const emu = await startTestEmulator({ faxes: 30, accounts: 0, seed: 31, world: { contradictoryMedia: 0.6, inexactContentTypes: 0 } });
    try {
      const faxes = emu.emulator.faxes() as unknown as Fax[];
      const urlOnly = faxes.filter((f) => f.media_sid === null && f.media_url !== null).map((f) => f.sid);
      const sidOnly = faxes.filter((f) => f.media_sid !== null && f.media_url === null).map((f) => f.sid);
      expect(urlOnly.length).toBeGreaterThan(2);
      expect(sidOnly.length).toBeGreaterThan(2);
      const cwd = tempDir();
      const catalog = join(cwd, 'fax-archive/catalog.sqlite');
      const args = ['archive', '--delete', '--json', '--now', EMULATOR_NOW];

      const first = await runCli(args, { cwd, env: emu.env });
      expect(first.code, first.stderr).toBe(0);
      const summary = onlySummaryLine(first);
      expect(summary.needsReview).toBe(sidOnly.length);
      expect([...(summary.needsReviewSids as string[])].sort()).toEqual([...sidOnly].sort());
      expect(summary.failed).toBe(0);
      const after = rows(catalog);
      for (const sid of urlOnly) expect(after.get(sid)?.state, sid).toBe('deleted');
      for (const sid of sidOnly) {
        expect(after.get(sid)?.state, sid).toBe('needs-review');
        expect(after.get(sid)?.review_reason).toMatch(/record says media \(media_sid.*no media_url.*FaxMedia lists ME[0-9a-f]{32} but gives no download URL/);
      }
      // Nothing that needs review was deleted from Twilio; everything else was.
      expect((emu.emulator.faxes() as unknown as Fax[]).map((f) => f.sid).sort()).toEqual([...sidOnly].sort());
      const db = new Database(catalog, { readonly: true });
      const mediaObjects = db.prepare(`SELECT fax_sid FROM objects WHERE kind = 'media'`).all() as { fax_sid: string }[];
      db.close();
      for (const sid of urlOnly) expect(mediaObjects.some((o) => o.fax_sid === sid), sid).toBe(true);

      // verify names them too; a second run does not retry them and still exits 0.
      const verify = await runCli(['verify', '--json'], { cwd, env: emu.env });
      expect(onlySummaryLine(verify).needsReview).toBe(sidOnly.length);
      const second = await runCli(args, { cwd, env: emu.env });
      expect(second.code, second.stderr).toBe(0);
      expect(onlySummaryLine(second).needsReview).toBe(sidOnly.length);

      // The recorded way out: accept one without media; the next run archives its metadata and deletes it.
      const chosen = sidOnly[0]!;
      const refused = await runCli(['resolve', chosen, '--accept-missing-media', '--json'], { cwd, env: emu.env });
      expect(refused.code).toBe(2);
      const resolved = await runCli(['resolve', chosen, '--accept-missing-media', '--reason', 'canceled before sending; the document is kept elsewhere', '--by', 'ops', '--json'], { cwd, env: emu.env });
      expect(resolved.code, resolved.stderr).toBe(0);
      expect(onlySummaryLine(resolved).acceptedSids).toEqual([chosen]);
      const third = await runCli(args, { cwd, env: emu.env });
      expect(third.code, third.stderr).toBe(0);
      expect(rows(catalog).get(chosen)?.state).toBe('deleted');
      expect(onlySummaryLine(third).needsReview).toBe(sidOnly.length - 1);
      const events = new Database(catalog, { readonly: true });
      const accepted = events.prepare(`SELECT data FROM events WHERE type = 'missing-media-accepted' AND fax_sid = ?`).all(chosen) as { data: string }[];
      events.close();
      expect(accepted.map((e) => JSON.parse(e.data))).toEqual([{ by: 'ops', from: 'needs-review', reason: 'canceled before sending; the document is kept elsewhere' }]);
    } finally {
      await emu.close();
    }
  });
});

describe('archive against media served the way S3 serves it', () => {
  it('400 ExpiredToken is an expired URL (fetched again, same run); octet-stream PDFs (object streams, incremental updates) and multi-strip TIFFs are archived by their bytes, pages counted; unsent faxes keep their document', async () => {
    const emu = await startTestEmulator({
      faxes: 24, accounts: 0, seed: 32, mediaTokenTtlSeconds: 900,
      world: { expiredTokenInListings: 1, inexactContentTypes: 1, failedWithMedia: true, realWorldFiles: 1 },
    });
    try {
      const faxes = emu.emulator.faxes() as unknown as Fax[];
      const withMedia = faxes.filter((f) => f.media_url !== null).map((f) => f.sid);
      const unsentWithMedia = faxes.filter((f) => f.direction === 'outbound' && ['failed', 'busy', 'no-answer'].includes(f.status) && f.media_sid !== null);
      expect(withMedia.length).toBeGreaterThan(10);
      const cwd = tempDir();
      const catalog = join(cwd, 'fax-archive/catalog.sqlite');
      const run = await runCli(['archive', '--json', '--now', EMULATOR_NOW], { cwd, env: emu.env });
      expect(run.code, run.stderr).toBe(0);
      const summary = onlySummaryLine(run);
      expect(summary.failed).toBe(0);
      expect(summary.archived).toBe(withMedia.length);
      const after = rows(catalog);
      const kinds = new Set<string>();
      for (const sid of withMedia) {
        const row = after.get(sid)!;
        expect(row.state, sid).toBe('verified');
        expect(['application/octet-stream', 'binary/octet-stream']).toContain(row.media_served_content_type);
        kinds.add(row.media_content_type!);
      }
      expect(kinds).toEqual(new Set(['application/pdf', 'image/tiff']));
      for (const f of unsentWithMedia) expect(after.get(f.sid)?.state, f.sid).toBe('verified');
      // Pages counted in the real-world files match Twilio's num_pages on every finished fax.
      const db = new Database(catalog, { readonly: true });
      const pages = db.prepare(`SELECT sid, num_pages, media_pages FROM faxes WHERE status IN ('received', 'delivered') AND media_sha256 IS NOT NULL`).all() as { sid: string; num_pages: number; media_pages: number }[];
      db.close();
      expect(pages.length).toBeGreaterThan(5);
      for (const p of pages) expect(p.media_pages, p.sid).toBe(p.num_pages);
      // Every listed URL was refused as ExpiredToken and each fax fetched again for a fresh one.
      const stats = emu.emulator.stats() as unknown as { requests: Record<string, number> };
      expect(stats.requests['GET /v1/Faxes/{Sid}']).toBeGreaterThanOrEqual(withMedia.length);
    } finally {
      await emu.close();
    }
  });
});

describe('archive as the emulator clock moves', () => {
  it('in-progress faxes are archived once final, with their media; a fax pruned at 180 days before it was archived is lost', async () => {
    // First run: every download is cut short, so every fax with media is left failed.
    const seed = 33;
    const world = { inProgress: 0.3 };
    const faulty = await startTestEmulator({ faxes: 20, accounts: 0, seed, world, faultRate: 1, faultKinds: ['truncate'] });
    const cwd = tempDir();
    const catalog = join(cwd, 'fax-archive/catalog.sqlite');
    let inProgress: Fax[];
    try {
      inProgress = (faulty.emulator.faxes() as unknown as Fax[]).filter((f) => ['queued', 'processing', 'sending', 'receiving'].includes(f.status));
      expect(inProgress.length).toBeGreaterThanOrEqual(3);
      const first = await runCli(['archive', '--json', '--max-attempts', '5'], { cwd, env: faulty.env });
      expect(first.code).toBe(1);
    } finally {
      await faulty.close();
    }
    const failed = [...rows(catalog).values()].filter((r) => r.state === 'failed');
    expect(failed.length).toBeGreaterThan(2);
    // The same world, its clock moved: the in-progress faxes are final, the oldest faxes pruned.
    const emu = await startTestEmulator({ faxes: 20, accounts: 0, seed, world });
    try {
      const all = emu.emulator.faxes() as unknown as (Fax & { date_created: string })[];
      const failedCreated = failed.map((r) => Date.parse(all.find((f) => f.sid === r.sid)!.date_created)).sort((a, b) => a - b);
      // Just past 180 days for the oldest failed fax only.
      const advance = Math.ceil((failedCreated[0]! + 180 * 86_400_000 - Date.parse(EMULATOR_NOW)) / 1000) + 120;
      expect(failedCreated[1]! + 180 * 86_400_000).toBeGreaterThan(Date.parse(EMULATOR_NOW) + advance * 1000);
      emu.emulator.advanceClock(advance);
      const second = await runCli(['archive', '--json'], { cwd, env: emu.env });
      const summary = onlySummaryLine(second);
      expect(summary.lost, second.stderr).toBe(1);
      expect(second.code).toBe(1);
      const after = rows(catalog);
      expect([...after.values()].filter((r) => r.state === 'lost')).toHaveLength(1);
      const now = emu.emulator.faxes() as unknown as Fax[];
      for (const f of inProgress) {
        const final = now.find((x) => x.sid === f.sid)!;
        expect(['queued', 'processing', 'sending', 'receiving']).not.toContain(final.status);
        expect(after.get(f.sid)?.state, f.sid).toBe(final.media_sid ? 'verified' : 'metadata-only');
      }
    } finally {
      await emu.close();
    }
  });
});
