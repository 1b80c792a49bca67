/**
 * Turns whatever the AWS SDK (or the network under it) threw into one of fax-sunset's typed errors,
 * so callers branch on the class, never on S3's error codes. A pure function over the error's
 * structural fields; tested without a server.
 *
 * Messages are built from the operation, the `s3://bucket/key` and S3's error code only: never the
 * SDK's own message (it can quote a request), never credentials or signed URLs.
 */
import {
  AuthError,
  ChecksumMismatchError,
  ConfigurationError,
  ExternalServiceError,
  FaxSunsetError,
  InvariantError,
} from '../errors.js';
import { isRetryableStatus } from '../limits/retry-policy.js';

/** The structural subset of an SDK / Node error we look at. */
interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * A delete (or overwrite of a version) refused because Object Lock retention or a legal hold protects
 * the object. Not a credentials problem: it is WORM storage doing its job, so it is an invariant refusal.
 */
export class ObjectRetainedError extends InvariantError {}

const CONFIGURATION_CODES = new Set([
  'NoSuchBucket',
  'InvalidBucketName',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
  'InvalidStorageClass',
  'KMS.NotFoundException',
  'InvalidArgument',
  'InvalidObjectState',
  'MissingUploadObjectWithObjectLockHeaders',
  'InvalidRequest',
  'LockNotEnabled',
  'ObjectLockConfigurationNotFoundError',
]);
const AUTH_CODES = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AllAccessDisabled',
  'KMS.AccessDeniedException',
]);
const CHECKSUM_CODES = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'InvalidChecksum']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);

export interface S3ErrorContext {
  /** What was being done, e.g. `upload`, `head`, `delete`. */
  operation: string;
  /** `s3://bucket/key` (or the bucket alone). */
  where: string;
}

export function s3ErrorCode(error: unknown): string {
  const shape = (error ?? {}) as ErrorShape;
  for (const candidate of [shape.Code, shape.name, shape.code]) {
    if (typeof candidate === 'string' && candidate && candidate !== 'Error') return candidate;
  }
  return 'UnknownError';
}

export function s3HttpStatus(error: unknown): number | undefined {
  const status = ((error ?? {}) as ErrorShape).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Maps any error from an S3 call to a FaxSunsetError (errors already typed pass through). */
export function mapS3Error(error: unknown, context: S3ErrorContext): FaxSunsetError {
  if (error instanceof FaxSunsetError) return error;
  const code = s3ErrorCode(error);
  const status = s3HttpStatus(error);
  const what = `S3 ${context.operation} of ${context.where} failed: ${code}${status ? ` (HTTP ${status})` : ''}`;
  const options = { cause: error };

  if (CHECKSUM_CODES.has(code) || /checksum/i.test(code)) {
    return new ChecksumMismatchError(`${what}: S3 refused the bytes because they do not match the checksum sent`, options);
  }
  if (code === 'NoSuchBucket' || code === 'InvalidBucketName') {
    return new ConfigurationError(`${what}: check the bucket name in --store`, options);
  }
  if (((error ?? {}) as ErrorShape).message === 'Region is missing') {
    return new ConfigurationError(`S3 ${context.operation} of ${context.where} failed: no AWS region; set AWS_REGION`, options);
  }
  if (AUTH_CODES.has(code) || status === 401 || status === 403) {
    return new AuthError(`${what}: check the AWS credentials and the bucket policy`, options);
  }
  if (CONFIGURATION_CODES.has(code)) {
    return new ConfigurationError(`${what}: check the store options`, options);
  }
  // The one status rule (limits/retry-policy.ts): 501 NotImplemented is a header asking for what S3 does not do.
  if (status !== undefined && isRetryableStatus(status)) {
    return new ExternalServiceError(what, { status, retryable: true, cause: error });
  }
  if (code === 'SlowDown' || code === 'ServiceUnavailable' || code === 'InternalError' || status === 429) {
    return new ExternalServiceError(what, { status, retryable: true, cause: error });
  }
  if (NETWORK_CODES.has(code) || status === undefined) {
    return new ExternalServiceError(what, { retryable: true, cause: error });
  }
  return new ExternalServiceError(what, { status, retryable: false, cause: error });
}
