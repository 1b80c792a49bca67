/**
 * Gathers the audit's facts without the code under test: the catalog through raw SQL (better-sqlite3,
 * read-only), the archive through the AWS SDK straight at the S3 server (not through the fault
 * proxy), every object's bytes re-read and hashed here.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pLimit from 'p-limit';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { CatalogDeletionFact, CatalogFaxFact, CatalogObjectFact, CatalogObjectVersionFact, CatalogRunFact, StoredObjectFact } from './archive-audit.js';
import type { ListingSweepFact } from './listing-ledger-audit.js';
import { recheckEventChain, type ChainCheck, type EventRowFact } from './event-chain-recheck.js';

export interface CatalogFacts {
  faxes: CatalogFaxFact[];
  objects: CatalogObjectFact[];
  deletions: CatalogDeletionFact[];
  integrity: string;
  chain: ChainCheck;
  events: { id: number; type: string; faxSid: string | null }[];
  sweeps: ListingSweepFact[];
  runs: CatalogRunFact[];
  objectVersions: CatalogObjectVersionFact[];
}

/** For a torture whose runs never got as far as creating the catalog: the reason stands in for integrity. */
export function emptyCatalogFacts(reason: string): CatalogFacts {
  return { faxes: [], objects: [], deletions: [], integrity: reason, chain: { events: 0, brokenAtId: null }, events: [], sweeps: [], runs: [], objectVersions: [] };
}

export function readCatalogFacts(catalogPath: string): CatalogFacts {
  // Read-only: the audit must not checkpoint, recover or otherwise touch what it audits (the WAL is still read).
  const db = new Database(catalogPath, { fileMustExist: true, readonly: true });
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    const faxes = (db.prepare('SELECT sid, account_sid, state, media_sha256 FROM faxes').all() as
      { sid: string; account_sid: string; state: string; media_sha256: string | null }[])
      .map((r) => ({ sid: r.sid, accountSid: r.account_sid, state: r.state, mediaSha256: r.media_sha256 }));
    const objects = (db.prepare('SELECT fax_sid, kind, key, size, sha256, verified_at FROM objects').all() as
      { fax_sid: string; kind: string; key: string; size: number; sha256: string; verified_at: string | null }[])
      .map((r) => ({ faxSid: r.fax_sid, kind: r.kind, key: r.key, size: r.size, sha256: r.sha256, verifiedAt: r.verified_at }));
    const deletions = (db.prepare(`SELECT fax_sid, intent_at, receipt_at, http_status, cancelled_at, run_id, proof_at, proof_method, proof_run_id, proof
        FROM deletions`).all() as
      { fax_sid: string; intent_at: string; receipt_at: string | null; http_status: number | null; cancelled_at: string | null;
        run_id: number | null; proof_at: string | null; proof_method: string | null; proof_run_id: number | null; proof: string | null }[])
      .map((r): CatalogDeletionFact => ({
        faxSid: r.fax_sid, intentAt: r.intent_at, receiptAt: r.receipt_at, httpStatus: r.http_status, cancelledAt: r.cancelled_at,
        runId: r.run_id, proofAt: r.proof_at, proofMethod: r.proof_method, proofRunId: r.proof_run_id, proofObjects: parseProof(r.proof),
      }));
    const runs = (db.prepare('SELECT id, started_at, finished_at FROM runs').all() as { id: number; started_at: string; finished_at: string | null }[])
      .map((r) => ({ id: r.id, startedAt: r.started_at, finishedAt: r.finished_at }));
    const objectVersions = (db.prepare('SELECT fax_sid, kind, key, size, sha256 FROM object_versions').all() as
      { fax_sid: string; kind: string; key: string; size: number; sha256: string }[])
      .map((r) => ({ faxSid: r.fax_sid, kind: r.kind, key: r.key, size: r.size, sha256: r.sha256 }));
    const eventRows = db.prepare('SELECT id, at, type, fax_sid, data, prev_hash, hash FROM events ORDER BY id').all() as EventRowFact[];
    const hasLedger = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'listing_sweeps'`).get() !== undefined;
    const sweeps = hasLedger
      ? (db.prepare('SELECT id, account_sid, started_at, range_after, range_on_or_before, completed_at FROM listing_sweeps ORDER BY id').all() as
        { id: number; account_sid: string; started_at: string; range_after: string | null; range_on_or_before: string | null; completed_at: string | null }[])
        .map((r) => ({ id: r.id, accountSid: r.account_sid, startedAt: r.started_at, rangeAfter: r.range_after, rangeOnOrBefore: r.range_on_or_before, completedAt: r.completed_at }))
      : [];
    return {
      faxes,
      objects,
      deletions,
      integrity,
      chain: recheckEventChain(eventRows),
      events: eventRows.map((e) => ({ id: e.id, type: e.type, faxSid: e.fax_sid })),
      sweeps,
      runs,
      objectVersions,
    };
  } finally {
    db.close();
  }
}

/** Progress between runs: faxes archived (verified, metadata-only, or deleted after that) and deleted. */
export function readCatalogProgress(catalogPath: string): { archived: number; deleted: number } {
  // Read-only between runs: the next run must meet the catalog exactly as the killed one left it.
  const db = new Database(catalogPath, { fileMustExist: true, readonly: true });
  try {
    const rows = db.prepare('SELECT state, count(*) AS n FROM faxes GROUP BY state').all() as { state: string; n: number }[];
    const count = (state: string) => rows.find((r) => r.state === state)?.n ?? 0;
    return { archived: count('verified') + count('metadata-only') + count('deleted'), deleted: count('deleted') };
  } finally {
    db.close();
  }
}

export interface S3Location {
  endpoint: string;
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket root). */
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StoreFacts {
  stored: StoredObjectFact[];
  pendingMultipartUploads: number;
}

/** Lists every object under the prefix and hashes its bytes as the server returns them. */
export async function readStoreFacts(location: S3Location, options: { concurrency?: number } = {}): Promise<StoreFacts> {
  const client = new S3Client({
    endpoint: location.endpoint,
    region: location.region,
    forcePathStyle: true,
    credentials: { accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // The audit hashes the bytes itself; the SDK must not refuse a body for it.
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const listPrefix = location.prefix ? `${location.prefix}/` : '';
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: listPrefix, ContinuationToken: token }));
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    const limit = pLimit(options.concurrency ?? 8);
    const stored = await Promise.all(
      keys.map((key) =>
        limit(async () => {
          const out = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
          const hash = createHash('sha256');
          let size = 0;
          for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            size += chunk.length;
          }
          return { key: key.slice(listPrefix.length), size, sha256Hex: hash.digest('hex') };
        }),
      ),
    );
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: location.bucket, Prefix: listPrefix }));
    return { stored, pendingMultipartUploads: uploads.Uploads?.length ?? 0 };
  } finally {
    client.destroy();
  }
}

export function lockFileExists(catalogPath: string): boolean {
  return existsSync(`${catalogPath}.lock`);
}

/** A deletion row's proof JSON; null when absent or unreadable (the audit then says so). */
function parseProof(text: string | null): Array<{ kind: string; key: string; sha256: string }> | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? (value as Array<{ kind: string; key: string; sha256: string }>) : null;
  } catch {
    return null;
  }
}
