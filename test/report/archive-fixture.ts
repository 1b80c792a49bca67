/**
 * A realistic small archive for the report tests, built through the real APIs: a SQLite catalog
 * file (recordListed of Twilio-shaped fax JSON, markFetched, markStored, markVerified, two-phase
 * deletions, failures, a lost fax) and a real MediaStore holding the bytes the catalog describes.
 */
import { createHash } from 'node:crypto';
import type { Catalog, ObjectRecord } from '../../src/catalog/catalog.js';
import type { MediaStore } from '../../src/store/media-store.js';
import { mediaObjectKey, sidecarObjectKey } from '../../src/store/object-layout.js';
import { recordProvenIntent } from '../catalog/fax-fixtures.js';

export const ACCOUNT_MAIN = `AC${'1f'.repeat(16)}`;
export const ACCOUNT_SUB = `AC${'2e'.repeat(16)}`;
/** Looks like a Twilio auth token; the tests grep every output for it. */
export const AUTH_TOKEN = 'f3c0ffee5ecre7a17b0d1e5c0ffee123';
/** A pre-signed media URL signature; must never reach an output either. */
/** The Basic credentials built from it, as an HTTP library might echo them in an error. */
export const BASIC_CREDENTIALS = Buffer.from(`${`AC${'1f'.repeat(16)}`}:${AUTH_TOKEN}`).toString('base64');
export const URL_SIGNATURE = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b';

const DAY = 86_400_000;

export function faxSidFor(n: number): string {
  return `FX${(0xf000 + n).toString(16).padStart(32, '0')}`;
}

function twilioFax(n: number, account: string, created: Date, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const sid = faxSidFor(n);
  const iso = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    sid,
    account_sid: account,
    from: '+14155550100',
    to: `+1415555${(1000 + n).toString()}`,
    quality: 'fine',
    media_sid: `ME${(0xe000 + n).toString(16).padStart(32, '0')}`,
    media_url: `https://media.twiliocdn.com/fax/${account}/${sid}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101&X-Amz-Signature=${URL_SIGNATURE}&X-Amz-Expires=7200`,
    num_pages: 2,
    duration: 61,
    status: n % 3 === 0 ? 'delivered' : 'received',
    direction: n % 3 === 0 ? 'outbound' : 'inbound',
    api_version: 'v1',
    price: '-0.00700',
    price_unit: 'USD',
    date_created: iso,
    date_updated: iso,
    links: { media: `https://fax.twilio.com/v1/Faxes/${sid}/Media` },
    url: `https://fax.twilio.com/v1/Faxes/${sid}`,
    ...overrides,
  };
}

function mediaBytes(n: number, kind: 'pdf' | 'tiff'): Uint8Array {
  const head = kind === 'pdf' ? Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1') : Buffer.from([0x49, 0x49, 0x2a, 0x00]);
  const body = Buffer.alloc(1500 + n * 37);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + n * 7) & 0xff;
  return Buffer.concat([head, body, Buffer.from(kind === 'pdf' ? '\n%%EOF\n' : '')]);
}

function digests(bytes: Uint8Array): { sha256Hex: string; md5Hex: string } {
  return { sha256Hex: createHash('sha256').update(bytes).digest('hex'), md5Hex: createHash('md5').update(bytes).digest('hex') };
}

type StoredObject = Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>;

async function putObject(store: MediaStore, kind: 'media' | 'sidecar', key: string, bytes: Uint8Array, contentType: string): Promise<StoredObject> {
  const { sha256Hex, md5Hex } = digests(bytes);
  const result = await store.put({ key, body: { bytes }, size: bytes.length, sha256Hex, md5Hex, contentType, metadata: {} });
  return { kind, key, size: bytes.length, sha256Hex, md5Hex, contentType, etag: result.etag, versionId: result.versionId, storedAt: new Date().toISOString() };
}

export interface ArchiveFixture {
  faxes: { sid: string; state: string }[];
  /** Keys the manifest must list (objects of archived faxes). */
  archivedKeys: string[];
  /** Keys stored but not proven (must NOT be in the manifest). */
  unprovenKeys: string[];
}

/** Fills `catalog` and `store` with 12 faxes in every interesting state, dated relative to `now`. */
export async function buildArchive(catalog: Catalog, store: MediaStore, now: Date): Promise<ArchiveFixture> {
  const runId = catalog.startRun('archive', { store: store.displayUrl, delete: true });
  const faxes: { sid: string; state: string }[] = [];
  const archivedKeys: string[] = [];
  const unprovenKeys: string[] = [];
  const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);

  async function archive(n: number, account: string, daysAgo: number, options: { kind?: 'pdf' | 'tiff'; verify?: boolean; noMedia?: boolean; method?: 'checksum' | 'full' | 'etag-md5' } = {}) {
    const created = at(daysAgo);
    const json = options.noMedia
      ? twilioFax(n, account, created, { media_sid: null, media_url: null, num_pages: null, status: 'failed', direction: 'outbound' })
      : twilioFax(n, account, created, options.kind === 'tiff' ? { status: 'received' } : {});
    catalog.recordListed([json], runId);
    const sid = String(json.sid);
    const ref = { accountSid: account, faxSid: sid, dateCreated: String(json.date_created) };
    const objects: StoredObject[] = [];
    if (!options.noMedia) {
      const kind = options.kind ?? 'pdf';
      const bytes = mediaBytes(n, kind);
      const contentType = kind === 'pdf' ? 'application/pdf' : 'image/tiff';
      catalog.markFetched(sid, { size: bytes.length, ...digests(bytes), contentType, pages: 2 });
      objects.push(await putObject(store, 'media', mediaObjectKey({ ...ref, kind }), bytes, contentType));
    }
    const { media_url: _dropped, ...sidecar } = json;
    objects.push(await putObject(store, 'sidecar', sidecarObjectKey(ref), Buffer.from(JSON.stringify(sidecar, null, 2)), 'application/json'));
    catalog.markStored(sid, objects);
    if (options.verify === false) {
      unprovenKeys.push(...objects.map((o) => o.key));
      return sid;
    }
    const method = options.method ?? 'full';
    catalog.markVerified(sid, objects.map((o) => ({ kind: o.kind, method, at: new Date().toISOString() })));
    archivedKeys.push(...objects.map((o) => o.key));
    return sid;
  }

  for (const [i, days] of [10, 40, 70, 100, 130, 160].entries()) faxes.push({ sid: await archive(i + 1, ACCOUNT_MAIN, days, { method: i % 2 ? 'checksum' : 'full' }), state: 'verified' });
  faxes.push({ sid: await archive(7, ACCOUNT_SUB, 45, { kind: 'tiff' }), state: 'verified' });
  faxes.push({ sid: await archive(8, ACCOUNT_SUB, 75, { noMedia: true }), state: 'metadata-only' });
  faxes.push({ sid: await archive(9, ACCOUNT_MAIN, 5, { verify: false }), state: 'stored' });

  // Two deletions with receipts (one 204 with a request id, one 404: already pruned), one open intent.
  for (const [i, receipt] of [
    { httpStatus: 204, requestId: 'RQ0123456789abcdef0123456789abcdef' },
    { httpStatus: 404, requestId: 'RQfedcba9876543210fedcba9876543210' },
  ].entries()) {
    const sid = faxes[5 - i]!.sid;
    recordProvenIntent(catalog, sid, runId);
    catalog.recordDeletionReceipt(sid, { ...receipt, at: at(20 - i * 10).toISOString() });
    faxes[5 - i]!.state = 'deleted';
  }
  recordProvenIntent(catalog, faxes[3]!.sid, runId);

  // Not archived: a failure near pruning whose error text carries secrets (as a library's error
  // might: a signed URL, an Authorization header) that must never reach a report,
  // a lost fax, and a freshly listed one.
  const failed = twilioFax(10, ACCOUNT_MAIN, at(170));
  catalog.recordListed([failed], runId);
  catalog.markFailed(String(failed.sid), `media download failed: 500 from https://media.twiliocdn.com/x?X-Amz-Signature=${URL_SIGNATURE} (request had Authorization: Basic ${BASIC_CREDENTIALS})`);
  faxes.push({ sid: String(failed.sid), state: 'failed' });
  const lost = twilioFax(11, ACCOUNT_MAIN, at(178));
  catalog.recordListed([lost], runId);
  catalog.markLost(String(lost.sid), 'gone from Twilio (404) before it was archived');
  faxes.push({ sid: String(lost.sid), state: 'lost' });
  const listed = twilioFax(12, ACCOUNT_SUB, at(1));
  catalog.recordListed([listed], runId);
  faxes.push({ sid: String(listed.sid), state: 'listed' });

  catalog.finishRun(runId, 1, { listed: 12, archived: 8, failed: 1, lost: 1, deleted: 2 });
  const verifyRun = catalog.startRun('verify', { full: true });
  catalog.finishRun(verifyRun, 0, { checked: archivedKeys.length, mismatches: 0 });
  return { faxes, archivedKeys, unprovenKeys };
}
