/**
 * MediaStore on S3 or an S3-compatible server (`s3://bucket/prefix`), through @aws-sdk/client-s3.
 *
 * Uploads say exactly what they carry: a known ContentLength, `Content-MD5`, and the SHA-256 as an
 * explicit `x-amz-checksum-sha256` header, so S3 checks the bytes on arrival and keeps the checksum
 * for `HeadObject` with ChecksumMode. The client is configured `WHEN_REQUIRED` and the checksum
 * header is always present, so the SDK never switches to an aws-chunked body with a trailing
 * checksum (some S3-compatible servers store the chunk framing as if it were the object).
 *
 * The store does not trust the server to check: the bytes streamed from the spool file are hashed
 * on the way out and the last chunk is withheld until they match the claimed SHA-256, so a wrong
 * claim (or a spool file that changed) aborts the request before the object can exist, on every
 * server (moto stores whatever checksum it is told).
 *
 * SDK types stay inside this file; callers see only MediaStore.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type HeadObjectCommandOutput,
  type S3ClientConfig,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { AuthError, ChecksumMismatchError, ConfigurationError, FaxSunsetError } from '../errors.js';
import { stillStamped } from './file-stamp.js';
import { assertObjectKey } from './object-layout.js';
import { ObjectRetainedError, mapS3Error, s3ErrorCode, s3HttpStatus } from './s3-error.js';
import type {
  MediaStore,
  PutObjectInput,
  PutObjectResult,
  StoreCapabilities,
  StoredObjectInfo,
  TransferCounters,
} from './media-store.js';

export type ServerSideEncryption = 'AES256' | 'aws:kms';
export type ObjectLockMode = 'COMPLIANCE' | 'GOVERNANCE';

/** Options shared by `openMediaStore` and the S3 store (everything but where the store is). */
export interface S3StoreOptions {
  /** S3-compatible endpoint (`http://127.0.0.1:9000`); default `AWS_ENDPOINT_URL_S3`, else AWS. Path-style when set. */
  endpoint?: string;
  /** Default `AWS_REGION` / `AWS_DEFAULT_REGION`, else the SDK's profile lookup, else us-east-1 for custom endpoints. */
  region?: string;
  /** Static credentials (tests); default is the SDK's chain (env, profile, SSO, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing; default true when an endpoint is set. */
  forcePathStyle?: boolean;
  sse?: ServerSideEncryption;
  /** KMS key for `sse: 'aws:kms'` (default: the bucket's / AWS managed key). */
  kmsKeyId?: string;
  /** Object Lock retention for every object written; needs `lockMode` and a lock-enabled bucket. */
  retainUntil?: Date;
  lockMode?: ObjectLockMode;
  /** e.g. STANDARD_IA, GLACIER_IR, DEEP_ARCHIVE. */
  storageClass?: string;
  /** Files at least this large are sent as multipart uploads (default 64 MiB; faxes are far smaller). */
  multipartThreshold?: number;
  /** Part size for multipart uploads (default 16 MiB, minimum 5 MiB on AWS). */
  partSize?: number;
  /**
   * Re-hash a spool file before sending it (default true). The bytes are checked while they stream
   * either way; the pre-check matters on servers that keep the part of an aborted upload (s3rver).
   */
  checkBeforeSend?: boolean;
  /** Attempts per request on 5xx / network errors (default 3). */
  maxAttempts?: number;
  /** Connection cap per store (default 64). */
  maxSockets?: number;
}

export interface S3MediaStoreOptions extends S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' or 'a/b'); the store adds the '/'. */
  prefix?: string;
}

/** Object metadata key recording the SHA-256 this tool sent (for people, and to detect servers that keep no checksum). */
const SHA256_METADATA = 'fax-sunset-sha256';
const DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024;
const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
const STREAM_CHUNK = 1 << 20;
/** writeEvidence entries kept for keys not yet verified (a failed fax leaves one behind). */
const MAX_EVIDENCE = 4_096;

export class S3MediaStore implements MediaStore {
  readonly bucket: string;
  /** '' or 'a/b/' (always ends with '/'). */
  readonly prefix: string;
  readonly displayUrl: string;
  readonly transfer: TransferCounters = { objectsSent: 0, bytesSent: 0 };

  private readonly options: S3MediaStoreOptions;
  /** Retries idempotent requests (head, list, get, delete, parts from memory). */
  private readonly client: S3Client;
  /** Never retries by itself: a streamed body cannot be replayed, so put retries reopen the file. */
  private readonly uploadClient: S3Client;
  private readonly maxAttempts: number;
  private reportsSha256 = true;
  private closed = false;
  /** writeEvidence: the latest write's answer per key, taken once; bounded (oldest dropped first). */
  private readonly evidence = new Map<string, StoredObjectInfo>();

  constructor(options: S3MediaStoreOptions) {
    this.options = options;
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
    if (this.prefix) assertObjectKey(this.prefix, { allowPrefix: true });
    this.displayUrl = `s3://${this.bucket}${this.prefix ? `/${this.prefix.slice(0, -1)}` : ''}`;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);

    const endpoint = options.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || undefined);
    const region =
      options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined));
    const maxSockets = options.maxSockets ?? 64;
    const config: S3ClientConfig = {
      endpoint,
      region,
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      credentials: options.credentials,
      // Never let the SDK add checksums itself: with a stream body it would send aws-chunked with a trailer.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The SDK's own warnings go to the console unredacted; this store reports through typed errors instead.
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      requestHandler: {
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
        connectionTimeout: 10_000,
      },
    };
    this.client = new S3Client({ ...config, maxAttempts: this.maxAttempts });
    this.uploadClient = new S3Client({ ...config, maxAttempts: 1 });
  }

  get capabilities(): StoreCapabilities {
    // SSE-KMS (and SSE-C) ETags are not the MD5 of the bytes.
    return { reportsSha256: this.reportsSha256, etagIsMd5: this.options.sse !== 'aws:kms' };
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const status = s3HttpStatus(error);
      const code = s3ErrorCode(error);
      if (status === 404 || code === 'NotFound' || code === 'NoSuchBucket') {
        throw new ConfigurationError(`bucket ${this.bucket} does not exist (store ${this.displayUrl})`, { cause: error });
      }
      if (status === 403 || status === 401) {
        throw new AuthError(`access to bucket ${this.bucket} refused: check the AWS credentials and bucket policy`, {
          cause: error,
        });
      }
      throw mapS3Error(error, { operation: 'check', where: this.displayUrl });
    }
    if (this.options.retainUntil) {
      try {
        const out = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
        if (out.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') throw Object.assign(new Error(), { name: 'NoLock' });
      } catch (error) {
        const code = s3ErrorCode(error);
        if (code === 'NoLock' || code === 'ObjectLockConfigurationNotFoundError') {
          throw new ConfigurationError(
            `bucket ${this.bucket} has no Object Lock: --retain-until needs a bucket created with Object Lock enabled`,
            { cause: error },
          );
        }
        throw mapS3Error(error, { operation: 'check Object Lock', where: this.displayUrl });
      }
    }
  }

  async put(input: PutObjectInput): Promise<PutObjectResult> {
    const key = this.fullKey(input.key);
    const sha256Hex = assertHex(input.sha256Hex, 64, 'sha256Hex');
    const md5Hex = assertHex(input.md5Hex, 32, 'md5Hex');
    const existing = input.mayExist === false ? null : await this.headRaw(key);
    if (existing && this.holdsSameBytes(existing, input.size, sha256Hex, md5Hex)) {
      this.remember(input.key, this.infoFrom(input.key, existing));
      return { key: input.key, alreadyPresent: true, etag: stripQuotes(existing.ETag), etagIsMd5: etagCanBeMd5(existing), md5Hex: this.provenMd5(existing), versionId: existing.VersionId ?? null };
    }
    if ('filePath' in input.body && input.size >= (this.options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD)) {
      return this.putMultipart(input, input.body.filePath, sha256Hex);
    }
    if ('filePath' in input.body && input.body.stamp) {
      // Hashed once already, as the spool wrote it: only check it is still that file (file-stamp.ts).
      if (!(await stillStamped(input.body.filePath, input.body.stamp, input.size))) {
        throw new ChecksumMismatchError(`refused to upload ${input.key}: the spool file changed after its bytes were hashed`);
      }
    } else if ('filePath' in input.body && this.options.checkBeforeSend !== false) {
      // Check the claim before sending a byte: some S3-compatible servers (s3rver) store the part of an
      // aborted upload that did arrive, so refusing mid-stream alone would leave a torn object there.
      const actual = await hashFile(input.body.filePath);
      if (actual.size !== input.size || actual.sha256Hex !== sha256Hex) {
        throw refusal(input.key, actual.size, actual.sha256Hex, input.size, sha256Hex);
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.putOnce(input, sha256Hex, md5Hex);
      } catch (error) {
        const mapped = mapS3Error(error, { operation: 'upload', where: this.where(input.key) });
        if (mapped instanceof ChecksumMismatchError) await this.removeTornUpload(key, existing, input.size, sha256Hex, md5Hex);
        if (!mapped.retryable || mapped instanceof ChecksumMismatchError || attempt >= this.maxAttempts) throw mapped;
        await backoff(attempt);
      }
    }
  }

  /**
   * After an upload was refused half-way (the spool file changed while it was streamed), removes what a
   * lenient server may have kept of it: an object at the key that was not there before and is not the
   * claimed bytes. Best effort; verification would catch a leftover anyway, since it cannot match.
   */
  private async removeTornUpload(
    key: string,
    before: HeadObjectCommandOutput | null,
    size: number,
    sha256Hex: string,
    md5Hex: string,
  ): Promise<void> {
    try {
      const after = await this.headRaw(key);
      if (!after || this.holdsSameBytes(after, size, sha256Hex, md5Hex)) return;
      if (before && after.ETag === before.ETag && after.VersionId === before.VersionId) return;
      const versionId = after.VersionId && after.VersionId !== 'null' ? after.VersionId : undefined;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
    } catch {
      // Nothing more to do here: the refusal itself is what the caller needs to hear about.
    }
  }

  writeEvidence(key: string): StoredObjectInfo | null {
    const info = this.evidence.get(key) ?? null;
    this.evidence.delete(key);
    return info;
  }

  private remember(key: string, info: StoredObjectInfo): void {
    this.evidence.delete(key);
    this.evidence.set(key, info);
    if (this.evidence.size > MAX_EVIDENCE) this.evidence.delete(this.evidence.keys().next().value!);
  }

  async head(key: string): Promise<StoredObjectInfo | null> {
    const out = await this.headRaw(this.fullKey(key));
    if (!out) return null;
    return this.infoFrom(key, out);
  }

  private infoFrom(key: string, out: HeadObjectCommandOutput): StoredObjectInfo {
    const sha256Hex = fullObjectSha256Hex(out);
    const etag = stripQuotes(out.ETag);
    // We sent a SHA-256 with this object; a server that gives none back keeps none (s3rver).
    if (sha256Hex === null && out.Metadata?.[SHA256_METADATA] && etag && !etag.includes('-')) this.reportsSha256 = false;
    return {
      key,
      size: out.ContentLength ?? 0,
      sha256Hex,
      etag,
      etagIsMd5: etagCanBeMd5(out),
      contentType: out.ContentType ?? null,
      metadata: out.Metadata ?? {},
      lastModified: out.LastModified ?? null,
    };
  }

  async read(key: string): Promise<Readable | null> {
    const full = this.fullKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: full }));
      return (out.Body as Readable | undefined) ?? Readable.from([]);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw mapS3Error(error, { operation: 'read', where: this.where(key) });
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    assertObjectKey(prefix, { allowPrefix: true });
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw mapS3Error(error, { operation: 'list', where: this.where(prefix) });
      }
      for (const item of out.Contents ?? []) {
        if (!item.Key?.startsWith(this.prefix)) continue;
        yield { key: item.Key.slice(this.prefix.length), size: item.Size ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Deletes the object's versions one by one until none is current, rather than adding a delete
   * marker: on a versioned (Object Lock) bucket a marker would hide the bytes without removing them,
   * and would succeed even under COMPLIANCE retention. A locked version refuses: ObjectRetainedError.
   */
  async remove(key: string): Promise<void> {
    const full = this.fullKey(key);
    for (let round = 0; round < 1000; round++) {
      const current = await this.headRaw(full);
      if (!current) return;
      const versionId = current.VersionId && current.VersionId !== 'null' ? current.VersionId : undefined;
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full, VersionId: versionId }));
      } catch (error) {
        const status = s3HttpStatus(error);
        const retained =
          current.ObjectLockLegalHoldStatus === 'ON' ||
          (current.ObjectLockRetainUntilDate !== undefined && current.ObjectLockRetainUntilDate.getTime() > Date.now());
        if ((status === 403 || s3ErrorCode(error) === 'AccessDenied') && (retained || this.options.retainUntil)) {
          throw new ObjectRetainedError(`${this.where(key)} is protected by Object Lock and cannot be removed`, {
            cause: error,
          });
        }
        throw mapS3Error(error, { operation: 'delete', where: this.where(key) });
      }
      if (!versionId) return;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.uploadClient.destroy();
  }

  private fullKey(key: string): string {
    return this.prefix + assertObjectKey(key);
  }

  private where(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  private async headRaw(fullKey: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey, ChecksumMode: 'ENABLED' }));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw mapS3Error(error, { operation: 'head', where: `s3://${this.bucket}/${fullKey}` });
    }
  }

  /** Proof from the server, never from our own metadata: its SHA-256, else a single-part MD5 ETag. */
  private holdsSameBytes(head: HeadObjectCommandOutput, size: number, sha256Hex: string, md5Hex: string): boolean {
    if (head.ContentLength !== size) return false;
    const serverSha = fullObjectSha256Hex(head);
    if (serverSha !== null) return serverSha === sha256Hex;
    return this.provenMd5(head) === md5Hex;
  }

  /** The MD5 of the bytes this answer (HEAD, PUT) proves the server holds, or null. */
  private provenMd5(out: { ETag?: string; ServerSideEncryption?: string; SSECustomerAlgorithm?: string }): string | null {
    return md5FromEtag(out.ETag, this.capabilities.etagIsMd5 && etagCanBeMd5(out));
  }

  private writeOptions() {
    const o = this.options;
    return {
      ServerSideEncryption: o.sse,
      SSEKMSKeyId: o.sse === 'aws:kms' ? o.kmsKeyId : undefined,
      StorageClass: o.storageClass as StorageClass | undefined,
      ObjectLockMode: o.retainUntil ? o.lockMode : undefined,
      ObjectLockRetainUntilDate: o.retainUntil,
    };
  }

  private async putOnce(input: PutObjectInput, sha256Hex: string, md5Hex: string): Promise<PutObjectResult> {
    const key = this.fullKey(input.key);
    let body: Buffer | Readable;
    let claim: ClaimCheck | undefined;
    const abort = new AbortController();
    if ('bytes' in input.body) {
      body = Buffer.from(input.body.bytes.buffer, input.body.bytes.byteOffset, input.body.bytes.byteLength);
      const actual = createHash('sha256').update(body).digest('hex');
      if (body.length !== input.size || actual !== sha256Hex) throw refusal(input.key, body.length, actual, input.size, sha256Hex);
    } else if (input.body.stamp) {
      // Hashed once as it was spooled and checked unchanged above: streamed as it is. The server's
      // checksum check (AWS) or its ETag against our MD5 (putChecked) sees what really arrived.
      const source = createReadStream(input.body.filePath, { highWaterMark: STREAM_CHUNK });
      source.on('error', () => abort.abort());
      body = source;
    } else {
      const source = createReadStream(input.body.filePath, { highWaterMark: STREAM_CHUNK });
      claim = new ClaimCheck(input.key, input.size, sha256Hex);
      source.on('error', (error) => claim?.destroy(error));
      claim.on('error', () => {
        source.destroy();
        abort.abort();
      });
      body = source.pipe(claim);
    }
    try {
      const out = await this.uploadClient.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: input.size,
          ContentType: input.contentType,
          ContentMD5: Buffer.from(md5Hex, 'hex').toString('base64'),
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: Buffer.from(sha256Hex, 'hex').toString('base64'),
          Metadata: { ...input.metadata, [SHA256_METADATA]: sha256Hex },
          ...this.writeOptions(),
        }),
        { abortSignal: abort.signal },
      );
      if (!out.ChecksumSHA256) this.reportsSha256 = false;
      this.transfer.objectsSent += 1;
      this.transfer.bytesSent += input.size;
      // The answer to this PUT is what a HEAD right after it returns (tested on moto: the same ETag,
      // the same checksum; AWS S3 is strongly read-after-write consistent): the ETag is the MD5 of
      // what arrived, the checksum the one S3 validated. The size is the Content-Length the server
      // read in full, and both digests cover it.
      this.remember(input.key, {
        key: input.key,
        size: input.size,
        sha256Hex: fullObjectSha256Hex({ ChecksumSHA256: out.ChecksumSHA256, ChecksumType: out.ChecksumType, ETag: out.ETag, $metadata: {} }),
        etag: stripQuotes(out.ETag),
        etagIsMd5: etagCanBeMd5(out),
        contentType: input.contentType,
        metadata: { ...input.metadata, [SHA256_METADATA]: sha256Hex },
        lastModified: null,
      });
      return { key: input.key, alreadyPresent: false, etag: stripQuotes(out.ETag), etagIsMd5: etagCanBeMd5(out), md5Hex: this.provenMd5(out), versionId: out.VersionId ?? null };
    } catch (error) {
      // Our own check (or a failed read of the spool file) aborted the request: report that, not the abort.
      if (claim?.failure) throw claim.failure;
      throw error;
    } finally {
      if (claim && !claim.destroyed) claim.destroy();
    }
  }

  /** Parts are read into memory one at a time (bounded by partSize), each sent with its own SHA-256 and MD5. */
  private async putMultipart(input: PutObjectInput, filePath: string, sha256Hex: string): Promise<PutObjectResult> {
    const key = this.fullKey(input.key);
    const where = this.where(input.key);
    const partSize = Math.max(5 * 1024 * 1024, this.options.partSize ?? DEFAULT_PART_SIZE);
    let uploadId: string | undefined;
    const handle = await open(filePath, 'r');
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: input.contentType,
          ChecksumAlgorithm: 'SHA256',
          Metadata: { ...input.metadata, [SHA256_METADATA]: sha256Hex },
          ...this.writeOptions(),
        }),
      );
      uploadId = created.UploadId;
      const whole = createHash('sha256');
      const parts: { PartNumber: number; ETag?: string; ChecksumSHA256?: string }[] = [];
      let offset = 0;
      for (let partNumber = 1; offset < input.size; partNumber++) {
        const length = Math.min(partSize, input.size - offset);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        if (bytesRead !== length) throw refusal(input.key, offset + bytesRead, 'short file', input.size, sha256Hex);
        whole.update(buffer);
        const partSha = createHash('sha256').update(buffer).digest('base64');
        const out = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: buffer,
            ContentLength: length,
            ContentMD5: createHash('md5').update(buffer).digest('base64'),
            ChecksumAlgorithm: 'SHA256',
            ChecksumSHA256: partSha,
          }),
        );
        parts.push({ PartNumber: partNumber, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 ?? partSha });
        offset += length;
      }
      const extra = await handle.read(Buffer.alloc(1), 0, 1, input.size);
      const actual = whole.digest('hex');
      if (extra.bytesRead !== 0 || actual !== sha256Hex) throw refusal(input.key, input.size, actual, input.size, sha256Hex);
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      this.transfer.objectsSent += 1;
      this.transfer.bytesSent += input.size;
      return { key: input.key, alreadyPresent: false, etag: stripQuotes(done.ETag), etagIsMd5: false, md5Hex: null, versionId: done.VersionId ?? null };
    } catch (error) {
      if (uploadId) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => {});
      }
      throw error instanceof FaxSunsetError ? error : mapS3Error(error, { operation: 'multipart upload', where });
    } finally {
      await handle.close();
    }
  }
}

/**
 * Passes bytes through while hashing them, holding back the last chunk until the total hashes to the
 * claimed SHA-256 and size. On a mismatch it errors instead, so the request is short of its
 * Content-Length and is aborted: the server never has a complete object to store.
 */
class ClaimCheck extends Transform {
  failure: Error | undefined;
  private readonly hash = createHash('sha256');
  private count = 0;
  private held: Buffer | null = null;

  constructor(
    private readonly key: string,
    private readonly expectedSize: number,
    private readonly expectedSha256Hex: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    if (this.count > this.expectedSize) return callback(this.fail('more bytes than expected'));
    if (this.held) this.push(this.held);
    this.held = chunk;
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (this.count !== this.expectedSize || actual !== this.expectedSha256Hex) {
      return callback(this.fail(actual));
    }
    if (this.held) this.push(this.held);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error && !this.failure) this.failure = error;
    callback(error);
  }

  private fail(actual: string): ChecksumMismatchError {
    this.failure = refusal(this.key, this.count, actual, this.expectedSize, this.expectedSha256Hex);
    return this.failure as ChecksumMismatchError;
  }
}

function refusal(key: string, size: number, actual: string, expectedSize: number, expectedSha: string): ChecksumMismatchError {
  return new ChecksumMismatchError(
    `refused to upload ${key}: the bytes (${size} bytes, sha256 ${actual.slice(0, 12)}…) ` +
      `do not match the expected ${expectedSize} bytes, sha256 ${expectedSha.slice(0, 12)}…`,
  );
}

async function hashFile(path: string): Promise<{ size: number; sha256Hex: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: STREAM_CHUNK })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256Hex: hash.digest('hex') };
}

function fullObjectSha256Hex(head: HeadObjectCommandOutput): string | null {
  const value = head.ChecksumSHA256;
  // A multipart object's SHA-256 is a checksum of part checksums (S3 writes `...-N`; moto 5 drops the
  // suffix and the type), not the bytes' SHA-256. A multipart ETag (`...-N`) gives it away either way.
  if (!value || value.includes('-') || head.ChecksumType === 'COMPOSITE') return null;
  if (head.ChecksumType !== 'FULL_OBJECT' && /-\d+"?$/.test(head.ETag ?? '')) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : null;
}

/**
 * Whether an answer's ETag can be the MD5 of the bytes: not under SSE-KMS (also a bucket's default
 * encryption, which applies without --sse) or SSE-C, whose ETags are something else.
 */
function etagCanBeMd5(out: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }): boolean {
  return !String(out.ServerSideEncryption ?? '').startsWith('aws:kms') && !out.SSECustomerAlgorithm;
}

/**
 * The MD5 an S3 ETag proves, or null. A single-part ETag (32 hex digits once its quotes are gone)
 * is the MD5 of the bytes the server holds; a multipart one (`...-N`) is not, nor is any ETag of an
 * object under SSE-KMS or SSE-C (`etagIsMd5` false). The one place this rule is written (issue 14
 * §3): the store's answers carry its result as `md5Hex`, and verification and the media host's
 * check ask here.
 */
export function md5FromEtag(etag: string | null | undefined, etagIsMd5: boolean): string | null {
  if (!etagIsMd5 || !etag) return null;
  const value = etag.replace(/"/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(value) ? value : null;
}

/** True only when the ETag proves an MD5 (see `md5FromEtag`) and it is not `md5Hex`: other bytes. */
export function etagContradictsMd5(etag: string | null | undefined, md5Hex: string, etagIsMd5: boolean): boolean {
  const proven = md5FromEtag(etag, etagIsMd5);
  return proven !== null && proven !== md5Hex.toLowerCase();
}

function stripQuotes(etag: string | undefined): string | null {
  return etag ? etag.replace(/"/g, '') : null;
}

function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === 'NotFound' || code === 'NoSuchKey' || (s3HttpStatus(error) === 404 && code !== 'NoSuchBucket');
}

function assertHex(value: string, length: number, what: string): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower.length !== length || !/^[0-9a-f]+$/.test(lower)) throw new Error(`${what} must be ${length} hex digits`);
  return lower;
}

async function backoff(attempt: number): Promise<void> {
  // Full jitter (the same policy as src/limits), kept local so the store has no upward dependency.
  const cap = Math.min(2000, 100 * 2 ** attempt);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}
