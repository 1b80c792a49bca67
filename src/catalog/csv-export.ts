/**
 * The archive listing as CSV: one row per fax with where its bytes are, their checksums, how and
 * when they were verified, and the deletion receipt. Streamed (csv-stringify over the catalog's
 * keyset pages) to a temp file in the same folder, fsynced and renamed, so a reader sees the old
 * file or the new one, never half of one. The file holds phone numbers: mode 0600.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { ConfigurationError } from '../errors.js';
import { neutralizeSpreadsheetCell } from '../spreadsheet-cell.js';
import { ownTempName, STALE_TEMP_AFTER_MS, sweepStaleTempFiles } from '../temp-files.js';
import type { Catalog, FaxRow } from './catalog.js';
import { fsProblem } from './fs-problem.js';
import { syncFile, syncFolder } from '../durable-file.js';

export const CSV_COLUMNS = [
  'sid',
  'account_sid',
  'state',
  'status',
  'direction',
  'from',
  'to',
  'num_pages',
  'date_created',
  'date_updated',
  'media_key',
  'media_size',
  'media_sha256',
  'media_md5',
  'media_content_type',
  'verified_at',
  'verification_method',
  'sidecar_key',
  'sidecar_sha256',
  'sidecar_verified_at',
  'previous_media',
  'deleted_at',
  'delete_http_status',
  'twilio_request_id',
  'attempts',
  'last_error',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/**
 * Neutralises a cell a spreadsheet would run as a formula: the project's one rule, shared with
 * plan.csv (see src/spreadsheet-cell.ts). E.164 numbers and plain numbers stay as they are.
 */
export { neutralizeSpreadsheetCell };

/** One fax as a CSV record (pure). Numbers stay numbers; every text cell is neutralised. */
export function csvRecordFor(fax: FaxRow): Record<CsvColumn, string | number | null> {
  const media = fax.objects.find((o) => o.kind === 'media') ?? null;
  const sidecar = fax.objects.find((o) => o.kind === 'sidecar') ?? null;
  const receipt = fax.deletion?.receiptAt ? fax.deletion : null;
  const record: Record<CsvColumn, string | number | null> = {
    sid: fax.sid,
    account_sid: fax.accountSid,
    state: fax.state,
    status: fax.status,
    direction: fax.direction,
    from: fax.from,
    to: fax.to,
    num_pages: fax.numPages,
    date_created: fax.dateCreated,
    date_updated: fax.dateUpdated,
    media_key: media?.key ?? null,
    media_size: media?.size ?? null,
    media_sha256: media?.sha256Hex ?? null,
    media_md5: media?.md5Hex ?? null,
    media_content_type: media?.contentType ?? null,
    verified_at: media?.verifiedAt ?? sidecar?.verifiedAt ?? null,
    verification_method: media?.verificationMethod ?? sidecar?.verificationMethod ?? null,
    sidecar_key: sidecar?.key ?? null,
    sidecar_sha256: sidecar?.sha256Hex ?? null,
    sidecar_verified_at: sidecar?.verifiedAt ?? null,
    // Every earlier verified media version, still in the store (issue 11 §6): `key sha256 verified_at method`, oldest first.
    previous_media: (fax.previousObjects ?? []).filter((o) => o.kind === 'media')
      .map((o) => `${o.key} ${o.sha256Hex} ${o.verifiedAt} ${o.verificationMethod}`).join(' | ') || null,
    deleted_at: receipt?.receiptAt ?? null,
    delete_http_status: receipt?.httpStatus ?? null,
    twilio_request_id: receipt?.requestId ?? null,
    attempts: fax.attempts,
    last_error: fax.lastError,
  };
  for (const column of CSV_COLUMNS) {
    const value = record[column];
    if (typeof value === 'string') record[column] = neutralizeSpreadsheetCell(value);
  }
  return record;
}

/**
 * Where archive/sync write the CSV without --csv: `faxes.csv` beside a catalog named `catalog.sqlite`
 * (the default), `<name>.faxes.csv` beside any other (`shard-0.sqlite` -> `shard-0.faxes.csv`), so
 * catalogs sharing a folder (shards side by side, issue 15 §0) never overwrite each other's CSV.
 */
export function defaultCsvPathFor(catalogPath: string): string {
  const name = basename(catalogPath);
  if (name === 'catalog.sqlite') return join(dirname(catalogPath), 'faxes.csv');
  return join(dirname(catalogPath), `${name.replace(/\.(sqlite3?|db)$/i, '')}.faxes.csv`);
}

/** Writes every fax of the catalog, oldest first, atomically to `csvPath`. */
export async function writeCatalogCsv(catalog: Catalog, csvPath: string): Promise<{ rows: number }> {
  const target = resolve(csvPath);
  // A CSV write killed half-way leaves phone numbers in its temp file: the next write sweeps those (issue 13 §5).
  await sweepStaleTempFiles(dirname(target));
  await sweepOlderTempFiles(target);
  const temp = join(dirname(target), ownTempName());
  let rows = 0;
  function* records(): Generator<Record<CsvColumn, string | number | null>> {
    for (const fax of catalog.iterateFaxes()) {
      rows++;
      yield csvRecordFor(fax);
    }
  }
  try {
    await mkdir(dirname(target), { recursive: true });
    await pipeline(
      Readable.from(records()),
      stringify({ header: true, columns: [...CSV_COLUMNS]}),
      createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
    );
    await syncFile(temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined); // best effort: the folder may not even exist
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'EROFS' || code === 'ENOSPC' || code === 'EPERM') {
      throw new ConfigurationError(`cannot write the CSV ${target}: ${fsProblem(error)}; pass --csv with a writable folder`, { cause: error });
    }
    throw error;
  }
  await syncFolder(dirname(target));
  return { rows };
}

/**
 * Temp files of this CSV as versions before the host-and-pid names wrote them
 * (`.<name>.<pid>.<8 hex>.tmp`): removed once untouched for an hour, as any temp file of ours.
 */
async function sweepOlderTempFiles(target: string): Promise<void> {
  const folder = dirname(target);
  const prefix = `.${basename(target)}.`;
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length))) continue;
    const info = await stat(join(folder, name)).catch(() => null);
    if (info?.isFile() && Date.now() - info.mtimeMs > STALE_TEMP_AFTER_MS) await rm(join(folder, name), { force: true }).catch(() => undefined);
  }
}

