/**
 * Issue 17 §9: the report an auditor can use alone. Each fax counted once in the exceptions card;
 * bytes in one labelled decimal base, media and sidecars apart; who ran each run and where; the
 * period the archive covers; the event chain's head hash; every kind of run in the history (the
 * report's own runs too); and a per-fax lookup (a CSV per account, linked and in the tag manifest).
 * Ground truth is read without the code under test (better-sqlite3, the files themselves).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { writeReport, type ReportResult } from '../../src/report/write-report.js';
import { FsMediaStore } from '../../src/store/fs-media-store.js';
import { ACCOUNT_MAIN, ACCOUNT_SUB, buildArchive, faxSidFor } from './archive-fixture.js';
import { REPO } from '../support/cli-process.js';

let dir: string;
let catalogPath: string;
let result: ReportResult;
let html: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fax-sunset-auditor-report-'));
  catalogPath = join(dir, 'catalog.sqlite');
  const store = new FsMediaStore(join(dir, 'media'));
  await store.check();
  const catalog = openCatalog(catalogPath);
  try {
    await buildArchive(catalog, store, new Date());
    result = await writeReport({ catalog, store, outDir: join(dir, 'out') });
  } finally {
    catalog.close();
    await store.close();
  }
  html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cardValue = (id: string): string | undefined => new RegExp(`id="card-${id}" data-value="(\\d+)"`).exec(html)?.[1];

describe('the report for an auditor', () => {
  it('counts a fax in two exception lists once (the failed fax close to pruning)', () => {
    const e = result.model.exceptions;
    const failedAndAtRisk = e.failed.items.filter((f) => e['at-risk'].items.some((a) => a.sid === f.sid));
    expect(failedAndAtRisk.map((f) => f.sid)).toEqual([faxSidFor(10)]);
    const listed = e.failed.total + e.lost.total + e.unverified.total + e['at-risk'].total;
    const distinct = new Set([...e.failed.items, ...e.lost.items, ...e.unverified.items, ...e['at-risk'].items].map((i) => i.sid)).size;
    expect(result.model.totals.faxesWithExceptions).toBe(distinct);
    expect(distinct).toBe(listed - 1);
    expect(cardValue('exceptions')).toBe(String(distinct));
  });

  it('gives bytes in one decimal base, labelled, with media and sidecars apart', () => {
    const db = new Database(catalogPath, { readonly: true });
    try {
      const rows = db.prepare(`SELECT o.kind, SUM(o.size) AS bytes FROM objects o JOIN faxes f ON f.sid = o.fax_sid
        WHERE f.state IN ('verified', 'metadata-only', 'deleted') GROUP BY o.kind`).all() as Array<{ kind: string; bytes: number }>;
      const media = rows.find((r) => r.kind === 'media')!.bytes;
      const sidecars = rows.find((r) => r.kind === 'sidecar')!.bytes;
      expect(result.model.totals.archivedMediaBytes).toBe(media);
      expect(result.model.totals.archivedBytes).toBe(media + sidecars);
      const fmt = (n: number) => (n < 1000 ? `${n} B` : `${(n / 1000).toFixed(n / 1000 < 10 ? 2 : n / 1000 < 100 ? 1 : 0)} KB`);
      expect(html).toContain(`${fmt(media)} media + ${fmt(sidecars)} metadata sidecars (1 MB = 1,000,000 bytes)`);
    } finally {
      db.close();
    }
  });

  it('names the period covered and the event chain head hash (as the catalog holds it)', () => {
    const db = new Database(catalogPath, { readonly: true });
    try {
      const head = (db.prepare('SELECT hash FROM events ORDER BY id DESC LIMIT 1').get() as { hash: string }).hash;
      expect(result.model.chain.headHash).toBe(head);
      expect(html).toContain(`<dd id="chain-head"><code>${head}</code></dd>`);
      const span = db.prepare('SELECT MIN(date_created) AS a, MAX(date_created) AS b FROM faxes').get() as { a: string; b: string };
      expect(result.model.period.earliest?.slice(0, 19)).toBe(span.a.slice(0, 19));
      expect(result.model.period.latest?.slice(0, 19)).toBe(span.b.slice(0, 19));
      expect(html).toContain(`<dd id="period">${span.a.slice(0, 10)} – ${span.b.slice(0, 10)} (created, UTC)</dd>`);
    } finally {
      db.close();
    }
  });

  it('shows who ran each run and on which host', () => {
    const who = `${userInfo().username}@${hostname()}`;
    expect(result.model.runs[0]!.options.ranBy).toEqual({ user: userInfo().username, host: hostname() });
    expect(html).toContain(`<td class="who">${who}</td>`);
  });

  it('a CSV per account for the per-fax lookup: every fax of the account, linked, in the tag manifest', () => {
    const tagManifest = readFileSync(join(dir, 'out', 'tagmanifest-sha256.txt'), 'utf8');
    for (const account of [ACCOUNT_MAIN, ACCOUNT_SUB]) {
      const name = `accounts/${account}.csv`;
      const text = readFileSync(join(dir, 'out', name), 'utf8');
      const rows = text.trim().split('\n').slice(1);
      const expected = result.model.byAccount.find((a) => a.accountSid === account)!.faxes;
      expect(rows).toHaveLength(expected);
      expect(rows.every((row) => row.includes(account))).toBe(true);
      expect(html).toContain(`<a href="${name}" download>`);
      expect(tagManifest).toContain(`${createHash('sha256').update(text).digest('hex')}  ${name}\n`);
    }
    expect(readFileSync(join(dir, 'out', `accounts/${ACCOUNT_MAIN}.csv`), 'utf8')).toContain(faxSidFor(10));
  });

  it('the report command records its own run, so the next report lists it with the other kinds', () => {
    const cli = (out: string) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'report', '--out', out, '--catalog', catalogPath, '--store', join(dir, 'media'), '--json'], { cwd: REPO, encoding: 'utf8' });
    const first = cli(join(dir, 'r1'));
    expect(first.status, first.stderr).toBe(0);
    const second = cli(join(dir, 'r2'));
    expect(second.status, second.stderr).toBe(0);
    const db = new Database(catalogPath, { readonly: true });
    try {
      const reports = db.prepare(`SELECT options, summary FROM runs WHERE kind = 'report' ORDER BY id`).all() as Array<{ options: string; summary: string }>;
      expect(reports).toHaveLength(2);
      expect(JSON.parse(reports[0]!.options)).toMatchObject({ outDir: join(dir, 'r1'), ranBy: { host: hostname() } });
      expect(JSON.parse(reports[0]!.summary)).toMatchObject({ chainIntact: true, faxes: 12 });
    } finally {
      db.close();
    }
    const page = readFileSync(join(dir, 'r2', 'report.html'), 'utf8');
    const kinds = [...page.matchAll(/<tr><td class="num">\d+<\/td><td>([a-z-]+)<\/td>/g)].map((m) => m[1]);
    expect(kinds).toContain('report');
    expect(kinds).toContain('archive');
  });
});
