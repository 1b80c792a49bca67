/** Twilio fax JSON as the Fax API returns it (facts copied from the API reference), for catalog tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Catalog, DeletionProof, ObjectRecord } from '../../src/catalog/catalog.js';
import type { FaxState } from '../../src/catalog/fax-states.js';

export const ACCOUNT = 'AC' + 'a'.repeat(32);
export const OTHER_ACCOUNT = 'AC' + 'b'.repeat(32);

export function faxSid(n: number): string {
  return 'FX' + n.toString(16).padStart(32, '0');
}

export function mediaSid(n: number): string {
  return 'ME' + n.toString(16).padStart(32, '0');
}

/** A fax created `n` minutes after 2024-01-01 (so a higher n is newer). */
export function twilioFax(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const created = new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString().replace('.000Z', 'Z');
  const sid = faxSid(n);
  return {
    sid,
    account_sid: ACCOUNT,
    from: '+14155550100',
    to: '+14155551234',
    quality: 'fine',
    media_sid: mediaSid(n),
    media_url: `https://media.twiliocdn.com/fax/${ACCOUNT}/${'c'.repeat(40)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101&X-Amz-Signature=deadbeefcafe1234567890&X-Amz-Expires=7200`,
    num_pages: 2,
    duration: 61,
    status: 'received',
    direction: 'inbound',
    api_version: 'v1',
    price: '-0.00700',
    price_unit: 'USD',
    date_created: created,
    date_updated: created,
    links: { media: `https://fax.twilio.com/v1/Faxes/${sid}/Media` },
    url: `https://fax.twilio.com/v1/Faxes/${sid}`,
    ...overrides,
  };
}

export const SHA = 'a'.repeat(64);
export const MD5 = 'b'.repeat(32);

export function tempDir(prefix = 'catalog-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `fax-sunset-${prefix}`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}


export function mediaObject(n: number): Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'> {
  return {
    kind: 'media',
    key: `${ACCOUNT}/2024/01/${faxSid(n)}.pdf`,
    size: 1234,
    sha256Hex: SHA,
    md5Hex: MD5,
    contentType: 'application/pdf',
    etag: `"${MD5}"`,
    versionId: null,
    storedAt: '2024-02-01T00:00:00.000Z',
  };
}

export function sidecarObject(n: number): Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'> {
  return { ...mediaObject(n), kind: 'sidecar', key: `${ACCOUNT}/2024/01/${faxSid(n)}.json`, contentType: 'application/json', sha256Hex: 'c'.repeat(64) };
}

export const FETCHED_MEDIA = { size: 1234, sha256Hex: SHA, md5Hex: MD5, contentType: 'application/pdf', pages: 2 };

/** Lists fax `n` (with or without media) and moves it through the real catalog methods to `state`. */
export function driveTo(catalog: Catalog, n: number, state: FaxState, options: { hasMedia?: boolean } = {}): string {
  const hasMedia = options.hasMedia ?? state !== 'metadata-only';
  const sid = faxSid(n);
  catalog.recordListed([twilioFax(n, hasMedia ? {} : { media_sid: null, media_url: null, num_pages: 0 })], null);
  const at = '2024-02-01T00:00:01.000Z';
  switch (state) {
    case 'listed':
      return sid;
    case 'failed':
      catalog.markFailed(sid, 'boom');
      return sid;
    case 'lost':
      catalog.markLost(sid, 'gone');
      return sid;
    case 'needs-review':
      catalog.markNeedsReview(sid, 'the record says media, none can be had');
      return sid;
    default:
      break;
  }
  if (hasMedia) {
    catalog.markFetched(sid, FETCHED_MEDIA);
    if (state === 'fetched') return sid;
    catalog.markStored(sid, [mediaObject(n), sidecarObject(n)]);
    if (state === 'stored') return sid;
    catalog.markVerified(sid, [
      { kind: 'media', method: 'checksum', at },
      { kind: 'sidecar', method: 'checksum', at },
    ]);
  } else {
    catalog.markStored(sid, [sidecarObject(n)]);
    if (state === 'stored') return sid;
    catalog.markVerified(sid, [{ kind: 'sidecar', method: 'full', at }]);
  }
  if (state === 'verified' || state === 'metadata-only') return sid;
  recordProvenIntent(catalog, sid);
  catalog.recordDeletionReceipt(sid, { httpStatus: 204, requestId: 'RQ' + '1'.repeat(32), at });
  return sid;
}

/**
 * An open run and a pre-delete proof of the fax's objects as recorded (issue 11 §1): what the
 * catalog requires with every deletion intent. The proof is timed at the run's start, which the
 * catalog's own clock wrote.
 */
export function deletionProofFor(catalog: Catalog, sid: string, runId?: number): { runId: number; proof: DeletionProof } {
  const run = runId ?? catalog.startRun('archive', { delete: true });
  const startedAt = catalog.listRuns(200).find((r) => r.id === run)?.startedAt ?? new Date().toISOString();
  const objects = (catalog.getFax(sid)?.objects ?? []).map((o) => ({ kind: o.kind, key: o.key, method: o.verificationMethod ?? 'full', sha256: o.sha256Hex }));
  return { runId: run, proof: { at: startedAt, method: 'full', objects } };
}

/** recordDeletionIntent with a fresh run (or the one given) and a proof of the fax's objects. */
export function recordProvenIntent(catalog: Catalog, sid: string, runId?: number): void {
  const { runId: run, proof } = deletionProofFor(catalog, sid, runId);
  catalog.recordDeletionIntent(sid, run, proof);
}
