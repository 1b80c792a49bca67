/** Plain FaxRow objects for the pure report tests (no catalog, no I/O). */
import type { FaxRow, ObjectRecord, VerificationMethod } from '../../src/catalog/catalog.js';
import type { FaxState } from '../../src/catalog/fax-states.js';

export const ACCOUNT_A = `AC${'a'.repeat(32)}`;
export const ACCOUNT_B = `AC${'b'.repeat(32)}`;

let counter = 0;
export function faxSid(n: number): string {
  return `FX${n.toString(16).padStart(32, '0')}`;
}

export function objectRecord(key: string, kind: 'media' | 'sidecar', size: number, method: VerificationMethod | null): ObjectRecord {
  return {
    kind,
    key,
    size,
    sha256Hex: (kind === 'media' ? 'a' : 'b').repeat(64),
    md5Hex: 'c'.repeat(32),
    contentType: kind === 'media' ? 'application/pdf' : 'application/json',
    etag: null,
    versionId: null,
    storedAt: '2025-01-01T00:00:00.000Z',
    verifiedAt: method ? '2025-01-01T00:00:01.000Z' : null,
    verificationMethod: method,
  };
}

export function faxRow(overrides: Partial<FaxRow> & { state: FaxState; n?: number; method?: VerificationMethod | null }): FaxRow {
  const n = overrides.n ?? ++counter;
  const sid = overrides.sid ?? faxSid(n);
  const accountSid = overrides.accountSid ?? ACCOUNT_A;
  const dateCreated = overrides.dateCreated === undefined ? '2025-03-10T12:00:00Z' : overrides.dateCreated;
  const month = dateCreated ? dateCreated.slice(0, 7).replace('-', '/') : 'unknown-date';
  const stored = ['stored', 'verified', 'metadata-only', 'deleted'].includes(overrides.state);
  const verified = ['verified', 'metadata-only', 'deleted'].includes(overrides.state);
  const method = overrides.method === undefined ? (verified ? 'checksum' : null) : overrides.method;
  const hasMedia = overrides.state !== 'metadata-only';
  const objects: ObjectRecord[] = stored
    ? [
        ...(hasMedia ? [objectRecord(`${accountSid}/${month}/${sid}.pdf`, 'media', 1000, method)] : []),
        objectRecord(`${accountSid}/${month}/${sid}.json`, 'sidecar', 100, method),
      ]
    : [];
  const { n: _n, method: _m, ...rest } = overrides;
  return {
    sid,
    accountSid,
    status: 'delivered',
    direction: 'outbound',
    from: '+15005550006',
    to: '+15005550001',
    numPages: hasMedia ? 2 : null,
    mediaSid: hasMedia ? `ME${n.toString(16).padStart(32, '0')}` : null,
    dateCreated,
    dateUpdated: dateCreated,
    raw: {},
    attempts: 0,
    lastError: null,
    firstSeenAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
    media: hasMedia && overrides.state !== 'listed' ? { size: 1000, sha256Hex: 'a'.repeat(64), md5Hex: 'c'.repeat(32), contentType: 'application/pdf', pages: 2 } : null,
    objects,
    deletion: null,
    ...rest,
  };
}
