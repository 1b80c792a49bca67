import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, neutralizeSpreadsheetCell, writeCatalogCsv } from '../../src/catalog/csv-export.js';
import { openCatalog, type SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ConfigurationError } from '../../src/errors.js';
import { HOST_TAG, ownTempName } from '../../src/temp-files.js';
import { driveTo, faxSid, tempDir, twilioFax } from './fax-fixtures.js';

describe('neutralizeSpreadsheetCell (pure)', () => {
  it('prefixes a single quote to cells a spreadsheet would read as a formula', () => {
    expect(neutralizeSpreadsheetCell('=HYPERLINK("http://evil.example","click")')).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(neutralizeSpreadsheetCell('+cmd|" /C calc"!A0')).toBe(`'+cmd|" /C calc"!A0`);
    expect(neutralizeSpreadsheetCell('-2+3')).toBe(`'-2+3`);
    expect(neutralizeSpreadsheetCell('@SUM(A1:A9)')).toBe(`'@SUM(A1:A9)`);
    expect(neutralizeSpreadsheetCell('\t=1')).toBe(`'\t=1`);
    expect(neutralizeSpreadsheetCell('\r=1')).toBe(`'\r=1`);
    expect(neutralizeSpreadsheetCell('+')).toBe(`'+`);
    expect(neutralizeSpreadsheetCell('+0123')).toBe(`+0123`); // a plain number (not E.164, but not a formula either)
  });

  it('keeps E.164 numbers, plain numbers and ordinary text exactly as they are', () => {
    for (const value of ['+14155551234', '+442071838750', '+861012345678901', '-0.00700', '-1', '+5', '1e-3', 'received', 'sip:alice@example.com', '', 'a=b']) {
      expect(neutralizeSpreadsheetCell(value), value).toBe(value);
    }
    // Too long for E.164 and with a letter: not exempt.
    expect(neutralizeSpreadsheetCell('+1415555123x')).toBe(`'+1415555123x`);
  });
});

/** A small RFC 4180 reader for the test (quoted fields, doubled quotes, CRLF or LF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

describe('writeCatalogCsv', () => {
  let dir: string;
  let cleanup: () => void;
  let catalog: SqliteCatalog;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('csv-'));
    catalog = openCatalog(join(dir, 'catalog.sqlite'));
  });
  afterEach(() => {
    catalog.close();
    cleanup();
  });

  it('sweeps the temp files a killed CSV write left (they hold phone numbers), not a live writer\'s', async () => {
    driveTo(catalog, 1, 'verified');
    const deadPid = spawnSync('true').pid!;
    const dead = join(dir, `.fax-sunset-${HOST_TAG}-${deadPid}-${'a'.repeat(12)}.tmp`);
    const live = join(dir, ownTempName());
    const older = join(dir, `.faxes.csv.${deadPid}.0123abcd.tmp`); // a version before host-and-pid names
    const olderFresh = join(dir, `.faxes.csv.${deadPid}.4567cdef.tmp`);
    for (const path of [dead, live, older, olderFresh]) writeFileSync(path, 'sid,from\nFX1,+15550000001\n');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(older, twoHoursAgo, twoHoursAgo);
    await writeCatalogCsv(catalog, join(dir, 'faxes.csv'));
    expect([dead, live, older, olderFresh].map((p) => existsSync(p))).toEqual([false, true, false, true]);
  });

  it('writes every fax with its archive fields, oldest first, spreadsheet-safe, mode 0600', async () => {
    driveTo(catalog, 3, 'deleted');
    driveTo(catalog, 1, 'verified');
    catalog.recordListed([twilioFax(2, { from: '=HYPERLINK("http://evil.example")', to: '+14155559876' })], null);
    catalog.markFailed(faxSid(2), '@import failed, "quoted", and a comma');
    const csvPath = join(dir, 'faxes.csv');
    expect(await writeCatalogCsv(catalog, csvPath)).toEqual({ rows: 3 });
    expect(statSync(csvPath).mode & 0o777).toBe(0o600);

    const [header, ...rows] = parseCsv(readFileSync(csvPath, 'utf8'));
    expect(header).toEqual([...CSV_COLUMNS]);
    const byColumn = rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]])));
    expect(byColumn.map((r) => r.sid)).toEqual([faxSid(1), faxSid(2), faxSid(3)]);

    const [verified, failed, deleted] = byColumn;
    expect(verified).toMatchObject({
      state: 'verified',
      from: '+14155550100',
      to: '+14155551234',
      num_pages: '2',
      media_size: '1234',
      media_sha256: 'a'.repeat(64),
      media_md5: 'b'.repeat(32),
      verification_method: 'checksum',
      verified_at: '2024-02-01T00:00:01.000Z',
      deleted_at: '',
      attempts: '0',
    });
    expect(verified!.media_key).toMatch(/\.pdf$/);
    expect(verified!.sidecar_key).toMatch(/\.json$/);
    expect(failed).toMatchObject({ state: 'failed', from: `'=HYPERLINK("http://evil.example")`, to: '+14155559876', attempts: '1', last_error: `'@import failed, "quoted", and a comma` });
    expect(deleted).toMatchObject({ state: 'deleted', deleted_at: '2024-02-01T00:00:01.000Z', delete_http_status: '204', twilio_request_id: 'RQ' + '1'.repeat(32) });
  });

  it('replaces an existing file atomically and leaves no temp file behind', async () => {
    const csvPath = join(dir, 'faxes.csv');
    writeFileSync(csvPath, 'old contents\n');
    driveTo(catalog, 1, 'listed');
    await writeCatalogCsv(catalog, csvPath);
    expect(readFileSync(csvPath, 'utf8')).toContain(faxSid(1));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the old file intact and removes its temp file when the export fails half-way', async () => {
    const csvPath = join(dir, 'faxes.csv');
    writeFileSync(csvPath, 'old contents\n');
    driveTo(catalog, 1, 'listed');
    catalog.close(); // reading a closed catalog fails inside the stream
    await expect(writeCatalogCsv(catalog, csvPath)).rejects.toThrow();
    expect(readFileSync(csvPath, 'utf8')).toBe('old contents\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an unwritable destination is one ConfigurationError line', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    await expect(writeCatalogCsv(catalog, join(dir, 'a-file', 'faxes.csv'))).rejects.toThrow(ConfigurationError);
  });
});
