import { describe, expect, it } from 'vitest';
import { AuthError, ChecksumMismatchError, ConfigurationError, ExternalServiceError, UsageError } from '../../src/errors.js';
import { mapS3Error } from '../../src/store/s3-error.js';

function sdkError(name: string, status?: number, message = 'The request signature we calculated does not match X-Amz-Signature=abcdef0123456789') {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}
const where = { operation: 'upload', where: 's3://bucket/key.pdf' };

describe('mapping S3 errors', () => {
  it('maps codes to typed errors', () => {
    expect(mapS3Error(sdkError('NoSuchBucket', 404), where)).toBeInstanceOf(ConfigurationError);
    expect(mapS3Error(sdkError('InvalidBucketName', 400), where)).toBeInstanceOf(ConfigurationError);
    expect(mapS3Error(sdkError('InvalidAccessKeyId', 403), where)).toBeInstanceOf(AuthError);
    expect(mapS3Error(sdkError('SignatureDoesNotMatch', 403), where)).toBeInstanceOf(AuthError);
    expect(mapS3Error(sdkError('Forbidden', 403), where)).toBeInstanceOf(AuthError);
    expect(mapS3Error(sdkError('BadDigest', 400), where)).toBeInstanceOf(ChecksumMismatchError);
    expect(mapS3Error(sdkError('InvalidDigest', 400), where)).toBeInstanceOf(ChecksumMismatchError);
    expect(mapS3Error(sdkError('XAmzContentSHA256Mismatch', 400), where)).toBeInstanceOf(ChecksumMismatchError);
    const slow = mapS3Error(sdkError('SlowDown', 503), where);
    expect(slow).toBeInstanceOf(ExternalServiceError);
    expect(slow.retryable).toBe(true);
    const reset = mapS3Error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), where);
    expect(reset).toBeInstanceOf(ExternalServiceError);
    expect(reset.retryable).toBe(true);
    const region = mapS3Error(new Error('Region is missing'), where);
    expect(region).toBeInstanceOf(ConfigurationError);
    expect(region.message).toMatch(/AWS_REGION/);
  });

  it('passes typed errors through unchanged', () => {
    const typed = new UsageError('x');
    expect(mapS3Error(typed, where)).toBe(typed);
  });

  it('builds its message from the code and location, never from the SDK message (which can quote signatures)', () => {
    const mapped = mapS3Error(sdkError('SignatureDoesNotMatch', 403), where);
    expect(mapped.message).toContain('s3://bucket/key.pdf');
    expect(mapped.message).toContain('SignatureDoesNotMatch');
    expect(mapped.message).not.toContain('abcdef0123456789');
    expect(mapped.message).not.toContain('\n');
  });
});
