/**
 * Everything the catalog knows about one fax (issue 18 §2), gathered once for `show` (text or
 * JSON): each metadata version (history, then the current one), its objects with how and when each
 * was verified, the earlier media versions still in the store, every deletion row with the
 * pre-delete proof and the receipt, the re-audit findings and its events (disclosures included).
 */
import type { CatalogEvent, FaxRow, ObjectRecord, ObjectVersionRecord } from '../catalog/catalog.js';
import type { DeletionHistoryEntry, RecordsQuery } from '../catalog/records-query.js';

export interface MetadataVersion {
  /** 1 = the first version the archive saw; the last is the current one. */
  version: number;
  dateUpdated: string | null;
  /** When a newer version replaced it; null for the current one. */
  supersededAt: string | null;
  runId: number | null;
  status: unknown;
  numPages: unknown;
  mediaSid: unknown;
  raw: Record<string, unknown>;
}

export interface FaxRecord {
  fax: Omit<FaxRow, 'objects' | 'previousObjects' | 'deletion' | 'raw'>;
  versions: MetadataVersion[];
  objects: ObjectRecord[];
  previousObjects: ObjectVersionRecord[];
  deletions: DeletionHistoryEntry[];
  findings: ReturnType<RecordsQuery['findings']>;
  events: CatalogEvent[];
}

/** The fax's record, or null when the catalog does not know the sid. */
export function faxRecordFor(query: RecordsQuery, sid: string): FaxRecord | null {
  const row = query.catalog.getFax(sid);
  if (!row) return null;
  const { objects, previousObjects, deletion: _current, raw, ...fax } = row;
  const history = query.catalog.getHistory(sid);
  const versions: MetadataVersion[] = history.map((h, i) => versionOf(i + 1, h.raw, h.dateUpdated, h.supersededAt, h.runId));
  versions.push(versionOf(history.length + 1, raw, row.dateUpdated, null, null));
  return {
    fax, versions, objects, previousObjects: previousObjects ?? [],
    deletions: query.deletions(sid), findings: query.findings(sid), events: query.events(sid),
  };
}

function versionOf(version: number, raw: Record<string, unknown>, dateUpdated: string | null, supersededAt: string | null, runId: number | null): MetadataVersion {
  return { version, dateUpdated, supersededAt, runId, status: raw.status ?? null, numPages: raw.num_pages ?? null, mediaSid: raw.media_sid ?? null, raw };
}

/** Terminal control characters never reach the screen from catalog text. */
function clean(value: unknown): string {
  if (value === null || value === undefined) return '-';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function objectLines(o: ObjectRecord, indent: string): string[] {
  return [
    `${indent}${o.kind} ${clean(o.key)}`,
    `${indent}  ${o.size} bytes, ${clean(o.contentType)}, sha256 ${o.sha256Hex}, md5 ${o.md5Hex}`,
    `${indent}  stored ${o.storedAt}${o.versionId ? `, S3 version ${clean(o.versionId)}` : ''}${o.etag ? `, etag ${clean(o.etag)}` : ''}`,
    `${indent}  ${o.verifiedAt ? `verified ${o.verifiedAt} by ${o.verificationMethod}` : 'NOT VERIFIED'}`,
  ];
}

/** The record as text for a person (pure). */
export function renderFaxRecord(record: FaxRecord): string {
  const f = record.fax;
  const lines: string[] = [
    `fax ${f.sid}`,
    `  account ${f.accountSid}, state ${f.state}, status ${clean(f.status)}, ${clean(f.direction)}`,
    `  from ${clean(f.from)} to ${clean(f.to)}, ${clean(f.numPages)} pages, created ${clean(f.dateCreated)}, updated ${clean(f.dateUpdated)}`,
    `  first seen ${f.firstSeenAt}, attempts ${f.attempts}${f.lastError ? `, last error: ${clean(f.lastError)}` : ''}`,
    `metadata versions (${record.versions.length}):`,
  ];
  for (const v of record.versions) {
    lines.push(`  v${v.version} date_updated ${clean(v.dateUpdated)}: status ${clean(v.status)}, ${clean(v.numPages)} pages, media ${clean(v.mediaSid)}` +
      (v.supersededAt ? `; superseded ${v.supersededAt}${v.runId !== null ? ` (run ${v.runId})` : ''}` : ' (current)'));
  }
  lines.push(`objects (${record.objects.length}):`);
  for (const o of record.objects) lines.push(...objectLines(o, '  '));
  if (record.previousObjects.length > 0) {
    lines.push(`earlier versions still in the store (${record.previousObjects.length}):`);
    for (const o of record.previousObjects) lines.push(...objectLines(o, '  '), `    superseded ${o.supersededAt}`);
  }
  lines.push(`deletion: ${record.deletions.length === 0 ? 'none' : ''}`.trimEnd());
  for (const d of record.deletions) {
    const outcome = d.receiptAt ? `receipt ${d.receiptAt}: HTTP ${d.httpStatus}${d.requestId ? `, request ${clean(d.requestId)}` : ''}` : d.cancelledAt ? `cancelled ${d.cancelledAt}` : 'OPEN (no receipt yet)';
    lines.push(`  intent ${d.intentAt} (run ${clean(d.runId)}); ${outcome}`);
    if (d.proofAt) {
      lines.push(`  pre-delete proof ${d.proofAt} by ${d.proofMethod} (run ${clean(d.proofRunId)}):`);
      for (const p of d.proofObjects ?? []) lines.push(`    ${p.kind} ${clean(p.key)} ${p.method} sha256 ${clean(p.sha256)}`);
    } else {
      lines.push('  pre-delete proof: none recorded (an intent from before schema version 3)');
    }
  }
  if (record.findings.length > 0) {
    lines.push(`re-audit findings (${record.findings.length}):`);
    for (const x of record.findings) lines.push(`  ${x.at} ${x.outcome} ${clean(x.key)} (${x.method})${x.detail ? `: ${clean(x.detail)}` : ''}`);
  }
  lines.push(`events (${record.events.length}):`);
  for (const e of record.events) lines.push(`  #${e.id} ${e.at} ${clean(e.type)} ${clean(e.data)}`);
  return `${lines.join('\n')}\n`;
}
