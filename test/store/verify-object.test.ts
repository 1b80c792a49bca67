import { describe, expect, it } from 'vitest';
import type { StoredObjectInfo } from '../../src/store/media-store.js';
import { chooseVerificationMethod, judgeFromHead } from '../../src/store/verify-object.js';

const expected = { size: 10, sha256Hex: 'a'.repeat(64), md5Hex: 'b'.repeat(32) };
function head(overrides: Partial<StoredObjectInfo>): StoredObjectInfo {
  return { key: 'k', size: 10, sha256Hex: null, etag: null, contentType: null, metadata: {}, lastModified: null, ...overrides };
}
const s3 = { reportsSha256: true, etagIsMd5: true };
const s3Kms = { reportsSha256: true, etagIsMd5: false };

describe('choosing a verification method', () => {
  it('takes the strongest the store supports, or full when forced', () => {
    expect(chooseVerificationMethod(s3, false)).toBe('checksum');
    expect(chooseVerificationMethod({ reportsSha256: false, etagIsMd5: true }, false)).toBe('etag-md5');
    expect(chooseVerificationMethod({ reportsSha256: false, etagIsMd5: false }, false)).toBe('full');
    expect(chooseVerificationMethod(s3, true)).toBe('full');
  });
});

describe('judging from a head', () => {
  it('checksum: match, mismatch, and no verdict when the store gave no SHA-256', () => {
    expect(judgeFromHead('checksum', head({ sha256Hex: 'A'.repeat(64) }), expected, s3)?.outcome).toBe('match');
    expect(judgeFromHead('checksum', head({ sha256Hex: 'c'.repeat(64) }), expected, s3)?.outcome).toBe('mismatch');
    expect(judgeFromHead('checksum', head({}), expected, s3)).toBeNull();
  });

  it('checksum: a SHA-256 the store merely repeats is contradicted by a single-part MD5 ETag of other bytes', () => {
    const lying = head({ sha256Hex: 'a'.repeat(64), etag: 'c'.repeat(32) });
    expect(judgeFromHead('checksum', lying, expected, s3)).toMatchObject({ outcome: 'mismatch', detail: expect.stringMatching(/ETag/) });
    // Under SSE-KMS, or with a multipart ETag, the ETag is not an MD5 and cannot contradict anything.
    expect(judgeFromHead('checksum', lying, expected, s3Kms)?.outcome).toBe('match');
    expect(judgeFromHead('checksum', head({ sha256Hex: 'a'.repeat(64), etag: `${'c'.repeat(32)}-3` }), expected, s3)?.outcome).toBe('match');
    // Nor can one the store marks as not an MD5 (an object under the bucket's default SSE-KMS).
    expect(judgeFromHead('checksum', { ...lying, etagIsMd5: false }, expected, s3)?.outcome).toBe('match');
  });

  it('etag-md5: an object the store marks as encrypted with KMS or SSE-C proves nothing by its ETag', () => {
    expect(judgeFromHead('etag-md5', head({ etag: 'b'.repeat(32), etagIsMd5: false }), expected, s3)).toBeNull();
    expect(judgeFromHead('etag-md5', head({ etag: 'c'.repeat(32), etagIsMd5: false }), expected, s3)).toBeNull();
  });

  it('a different size is a mismatch whatever the method', () => {
    expect(judgeFromHead('checksum', head({ size: 11, sha256Hex: 'a'.repeat(64) }), expected, s3)).toMatchObject({
      outcome: 'mismatch',
      actualSize: 11,
    });
    expect(judgeFromHead('etag-md5', head({ size: 9, etag: 'b'.repeat(32) }), expected, s3)?.outcome).toBe('mismatch');
  });

  it('etag-md5: only a single-part ETag on a store whose ETags are MD5s proves anything', () => {
    expect(judgeFromHead('etag-md5', head({ etag: 'b'.repeat(32) }), expected, s3)?.outcome).toBe('match');
    expect(judgeFromHead('etag-md5', head({ etag: 'c'.repeat(32) }), expected, s3)?.outcome).toBe('mismatch');
    expect(judgeFromHead('etag-md5', head({ etag: `${'b'.repeat(32)}-2` }), expected, s3)).toBeNull();
    expect(judgeFromHead('etag-md5', head({ etag: 'b'.repeat(32) }), expected, s3Kms)).toBeNull();
    expect(judgeFromHead('etag-md5', head({ etag: null }), expected, s3)).toBeNull();
  });
});
