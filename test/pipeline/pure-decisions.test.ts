import { describe, expect, it } from 'vitest';
import type { FaxRow, ObjectRecord } from '../../src/catalog/catalog.js';
import { deletionVerdict, runDeletionBlocker } from '../../src/pipeline/deletion-policy.js';
import { sanitizeFaxJson, sidecarFor } from '../../src/archive/fax-metadata.js';
import { contentTypeNote, etagVerdict, judgeEtagMismatch, mediaProblems } from '../../src/archive/media-check.js';

const object = (kind: 'media' | 'sidecar', verified = true): ObjectRecord => ({
  kind, key: `AC/2021/06/FX.${kind === 'media' ? 'pdf' : 'json'}`, size: 10, sha256Hex: 'a'.repeat(64), md5Hex: 'b'.repeat(32),
  contentType: 'application/pdf', etag: null, versionId: null, storedAt: '2021-06-01T00:00:00Z',
  verifiedAt: verified ? '2021-06-01T00:00:01Z' : null, verificationMethod: verified ? 'checksum' : null,
});

function row(overrides: Partial<FaxRow>): FaxRow {
  return {
    sid: 'FX' + '1'.repeat(32), accountSid: 'AC' + '2'.repeat(32), state: 'verified', status: 'delivered', direction: 'outbound',
    from: '+14155550100', to: '+14155550101', numPages: 2, mediaSid: 'ME' + '3'.repeat(32), dateCreated: '2021-06-01T00:00:00Z',
    dateUpdated: '2021-06-01T00:00:00Z', raw: {}, attempts: 0, lastError: null, firstSeenAt: '', updatedAt: '',
    media: null, objects: [object('media'), object('sidecar')], deletion: null, ...overrides,
  };
}

describe('deletionVerdict', () => {
  it('allows a verified fax whose media and sidecar are both verified', () => {
    expect(deletionVerdict(row({}))).toEqual({ delete: true });
  });
  it('refuses any state other than verified / metadata-only', () => {
    for (const state of ['listed', 'fetched', 'stored', 'failed', 'lost', 'deleted'] as const) {
      expect(deletionVerdict(row({ state })).delete).toBe(false);
    }
  });
  it('refuses when an object lacks its verification, or the media object is missing', () => {
    expect(deletionVerdict(row({ objects: [object('media', false), object('sidecar')] })).delete).toBe(false);
    expect(deletionVerdict(row({ objects: [object('sidecar')] })).delete).toBe(false);
    expect(deletionVerdict(row({ objects: [object('media')] })).delete).toBe(false);
  });
  it('decides "has media" from every field: a media_url or pages on a received fax with media_sid null still needs its media object (issue 11 §2)', () => {
    const sidecarOnly = { mediaSid: null, objects: [object('sidecar')] };
    expect(deletionVerdict(row({ ...sidecarOnly, raw: { media_sid: null, media_url: 'https://media.example/x', status: 'received', num_pages: 2 } })).delete).toBe(false);
    expect(deletionVerdict(row({ ...sidecarOnly, raw: { media_sid: null, media_url: null, status: 'received', num_pages: 2 } })).delete).toBe(false);
    // ...unless a person accepted it without (resolve --accept-missing-media).
    expect(deletionVerdict(row({ ...sidecarOnly, state: 'metadata-only', missingMediaAcceptedAt: '2024-01-01T00:00:00Z', raw: { media_sid: null, media_url: null, status: 'received', num_pages: 2 } })).delete).toBe(true);
  });
  it('refuses a fax still in progress at Twilio', () => {
    expect(deletionVerdict(row({ status: 'receiving' })).delete).toBe(false);
    expect(deletionVerdict(row({ status: null })).delete).toBe(false);
  });
  it('allows a metadata-only fax with a verified sidecar', () => {
    expect(deletionVerdict(row({ state: 'metadata-only', mediaSid: null, status: 'failed', objects: [object('sidecar')] }))).toEqual({ delete: true });
  });
  it('a checksum mismatch in the run blocks every deletion', () => {
    expect(runDeletionBlocker({ checksumMismatches: 0 })).toBeNull();
    expect(runDeletionBlocker({ checksumMismatches: 2 })).toMatch(/store is suspect/);
  });
});

describe('fax metadata', () => {
  it('strips the pre-signed signature from media_url', () => {
    const clean = sanitizeFaxJson({ sid: 'FX1', media_url: 'https://media.example/fax/AC/abc?X-Amz-Signature=secret&X-Amz-Expires=7200' });
    expect(clean.media_url).toBe('https://media.example/fax/AC/abc');
  });
  it('the sidecar is the same bytes for the same metadata whatever the key order or URL signature', () => {
    const a = sidecarFor({ sid: 'FX1', b: 1, a: { y: 2, x: 1 }, media_url: 'https://m/x?sig=1' });
    const b = sidecarFor({ a: { x: 1, y: 2 }, media_url: 'https://m/x?sig=2', b: 1, sid: 'FX1' });
    expect(a.sha256Hex).toBe(b.sha256Hex);
    expect(a.bytes.toString()).not.toContain('sig=');
    expect(JSON.parse(a.bytes.toString()).sid).toBe('FX1');
  });
});

describe('mediaProblems', () => {
  const good = { contentType: 'application/pdf', contentLength: 100, size: 100, magicKind: 'pdf' as const, declaredKind: 'pdf' as const, pages: 3, numPages: 3 };
  it('accepts media that is what Twilio said', () => {
    expect(mediaProblems(good)).toEqual([]);
  });
  it('catches truncation, bytes that are neither, a broken structure and wrong page count', () => {
    expect(mediaProblems({ ...good, size: 90 }).join()).toMatch(/truncated/);
    expect(mediaProblems({ ...good, magicKind: null }).join()).toMatch(/magic/);
    expect(mediaProblems({ ...good, magicKind: null, declaredKind: null, contentType: 'text/html' }).join()).toMatch(/neither a PDF nor a TIFF.*text\/html/);
    expect(mediaProblems({ ...good, structureOk: false }).join()).toMatch(/not a whole one/);
    expect(mediaProblems({ ...good, pages: 2 }).join()).toMatch(/num_pages=3/);
  });
  it('decides the kind from the bytes: an inexact or wrong Content-Type is noted, not refused (issue 12 §4)', () => {
    for (const contentType of ['application/octet-stream', 'binary/octet-stream', 'image/tiff']) {
      const facts = { ...good, contentType, declaredKind: contentType === 'image/tiff' ? ('tiff' as const) : null };
      expect(mediaProblems(facts)).toEqual([]);
      expect(contentTypeNote(facts)).toBe(`served as "${contentType}"; the bytes are a PDF`);
    }
    expect(contentTypeNote(good)).toBeNull();
  });
  it('does not fail on an unknown page count or missing Content-Length', () => {
    expect(mediaProblems({ ...good, pages: null, contentLength: null })).toEqual([]);
  });
});

describe('the media host\'s ETag', () => {
  const md5Hex = 'c'.repeat(32);
  it('matches a single-part MD5 ETag in any case; a multipart or missing ETag proves nothing', () => {
    expect(etagVerdict(md5Hex, md5Hex)).toBe('match');
    expect(etagVerdict('C'.repeat(32), md5Hex)).toBe('match');
    expect(etagVerdict('d'.repeat(32), md5Hex)).toBe('mismatch');
    expect(etagVerdict(`${'d'.repeat(32)}-4`, md5Hex)).toBe('none');
    expect(etagVerdict(null, md5Hex)).toBe('none');
  });
  it('after a mismatch: the same bytes twice under the same ETag mean the ETag is not an MD5; other bytes are judged again', () => {
    const first = { sha256Hex: 'a'.repeat(64), etag: 'd'.repeat(32) };
    expect(judgeEtagMismatch(first, { ...first })).toBe('etag-is-not-md5');
    expect(judgeEtagMismatch(first, { sha256Hex: 'b'.repeat(64), etag: first.etag })).toBe('judge-second');
    expect(judgeEtagMismatch(first, { sha256Hex: first.sha256Hex, etag: 'e'.repeat(32) })).toBe('judge-second');
  });
});
