/**
 * How `find` shows faxes (pure): the columns, a record per fax, a fixed-width table for a terminal
 * and CSV lines for a file or a pipe. Every CSV text cell goes through the project's one
 * spreadsheet-cell rule (src/spreadsheet-cell.ts); E.164 numbers stay as they are.
 */
import { stringify } from 'csv-stringify/sync';
import type { FaxRow } from '../catalog/catalog.js';
import { neutralizeSpreadsheetCell } from '../spreadsheet-cell.js';

export const FIND_COLUMNS = [
  'sid', 'account_sid', 'date_created', 'direction', 'status', 'state', 'from', 'to', 'num_pages', 'media_key', 'media_sha256', 'deleted_at',
] as const;
export type FindColumn = (typeof FIND_COLUMNS)[number];

export function findRecordFor(fax: FaxRow): Record<FindColumn, string | number | null> {
  const media = fax.objects.find((o) => o.kind === 'media') ?? null;
  return {
    sid: fax.sid,
    account_sid: fax.accountSid,
    date_created: fax.dateCreated,
    direction: fax.direction,
    status: fax.status,
    state: fax.state,
    from: fax.from,
    to: fax.to,
    num_pages: fax.numPages,
    media_key: media?.key ?? null,
    media_sha256: media?.sha256Hex ?? null,
    deleted_at: fax.deletion?.receiptAt ?? null,
  };
}

export function csvHeader(): string {
  return stringify([[...FIND_COLUMNS]]);
}

export function csvLine(record: Record<FindColumn, string | number | null>): string {
  return stringify([FIND_COLUMNS.map((c) => {
    const value = record[c];
    return typeof value === 'string' ? neutralizeSpreadsheetCell(value) : value ?? '';
  })]);
}

/** The table's columns: the ones a person scans (the key and hash are in CSV and JSON). */
const TABLE_COLUMNS: readonly FindColumn[] = ['sid', 'date_created', 'direction', 'status', 'state', 'from', 'to', 'num_pages'];
const TABLE_WIDTHS: Record<string, number> = { sid: 34, date_created: 20, direction: 9, status: 10, state: 13, from: 16, to: 16, num_pages: 5 };

/** Terminal control characters never reach the screen from catalog text (a crafted number or status). */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function tableHeader(): string {
  return `${TABLE_COLUMNS.map((c) => (c === 'num_pages' ? 'pages' : c).padEnd(TABLE_WIDTHS[c]!)).join(' ').trimEnd()}\n`;
}

export function tableLine(record: Record<FindColumn, string | number | null>): string {
  return `${TABLE_COLUMNS.map((c) => printable(String(record[c] ?? '-')).padEnd(TABLE_WIDTHS[c]!)).join(' ').trimEnd()}\n`;
}
