/**
 * Where archived bytes live. One small interface; implementations in `fs-media-store.ts` and
 * `s3-media-store.ts`, wired only by `open-media-store.ts` (the CLI's entry picks by URL).
 * A single contract suite (test/store/media-store-contract.ts) runs against every implementation.
 *
 * Keys are '/'-separated relative paths built only from validated sids and dates
 * (`<prefix>/<AccountSid>/<yyyy>/<mm>/<FaxSid>.pdf`); the store adds its own root/prefix.
 */
import type { Readable } from 'node:stream';
import type { FileStamp } from './file-stamp.js';

/**
 * The body of an object to store: a file on disk (streamed, never held whole) or a small buffer
 * (sidecars). `stamp`: the file as it was when its SHA-256 and MD5 were computed (the spool's), so
 * the store checks the file is unchanged instead of hashing it again (file-stamp.ts).
 */
export type ObjectBody = { filePath: string; stamp?: FileStamp } | { bytes: Uint8Array };

export interface PutObjectInput {
  key: string;
  body: ObjectBody;
  /** Exact byte length of the body. */
  size: number;
  /** Lowercase hex SHA-256 of the body: sent to the store (S3 `ChecksumSHA256`) so it checks on arrival. */
  sha256Hex: string;
  /** Lowercase hex MD5 of the body (S3 `Content-MD5`; lets a single-part ETag be compared). */
  md5Hex: string;
  contentType: string;
  /** Small string metadata stored with the object (fax sid, account sid). Never secrets. */
  metadata?: Record<string, string>;
  /**
   * False when the caller knows no earlier run can have written this key (a fax's first attempt):
   * the store may then skip looking for an identical object first, saving a round trip per object.
   * Writing identical bytes again is harmless either way. Default true.
   */
  mayExist?: boolean;
}

export interface PutObjectResult {
  key: string;
  /** True when an object with the same SHA-256 was already there and nothing was sent. */
  alreadyPresent: boolean;
  /** The store's ETag, quotes removed, when it gives one. */
  etag: string | null;
  /** As on StoredObjectInfo: false when this object's ETag is known not to be an MD5. */
  etagIsMd5?: boolean;
  /**
   * The MD5 of the bytes the store's answer proves it now holds (S3: a single-part ETag outside
   * SSE-KMS / SSE-C), or null when the answer proves none. An MD5 other than the one sent means the
   * store holds other bytes, whatever it said about the checksum.
   */
  md5Hex?: string | null;
  /** S3 version id when the bucket is versioned. */
  versionId: string | null;
}

export interface StoredObjectInfo {
  key: string;
  size: number;
  /** Lowercase hex SHA-256 as the store itself reports it, or null when the store keeps none. */
  sha256Hex: string | null;
  /** ETag with quotes removed, or null. */
  etag: string | null;
  /**
   * False when the store says this object's ETag is not an MD5 of its bytes (S3 under SSE-KMS or
   * SSE-C, whatever the bucket's default); undefined when it does not say.
   */
  etagIsMd5?: boolean;
  contentType: string | null;
  /** Metadata stored with the object. */
  metadata: Record<string, string>;
  lastModified: Date | null;
}

/** What a store can prove about an object without reading it back. */
export interface StoreCapabilities {
  /** `head` returns the SHA-256 the store computed/checked itself (S3 with ChecksumMode). */
  reportsSha256: boolean;
  /** A single-part object's ETag is the MD5 of its bytes (false under SSE-KMS / SSE-C). */
  etagIsMd5: boolean;
}

/**
 * What a store actually sent (objects written, bytes uploaded), exposed by both implementations as
 * `transfer`, so a run summary or a test can see that an idempotent put sent nothing.
 */
export interface TransferCounters {
  objectsSent: number;
  bytesSent: number;
}

export interface MediaStore {
  /** Where this store points, for people and reports: `s3://bucket/prefix` or `file:///dir`. No credentials. */
  readonly displayUrl: string;
  readonly capabilities: StoreCapabilities;

  /**
   * Ensures the store is reachable and writable (bucket exists, folder can be created).
   * Throws ConfigurationError / AuthError with one clear line otherwise. Idempotent.
   */
  check(): Promise<void>;

  /**
   * Stores `body` at `key`. Idempotent: when an object with the same SHA-256 (or, where the store
   * reports none, the same size and MD5 ETag) is already there, sends nothing and returns
   * `alreadyPresent: true`. The write is atomic: a reader sees the old object or the whole new one.
   * The store checks the SHA-256 on arrival where it can, and throws ChecksumMismatchError on a refusal.
   */
  put(input: PutObjectInput): Promise<PutObjectResult>;

  /**
   * What the store's own answer to this process's latest successful `put` of `key` said about the
   * object it now holds (issue 16): for S3, the PUT response's ETag and the checksum S3 validated on
   * arrival (or, when nothing was sent, the HEAD that found the same bytes). Taken once: a second call
   * returns null. Absent (or null) where no such answer is evidence: the folder store, whose only
   * proof is reading the bytes back. Used by the archive's post-upload verification only; `verify`
   * and the pre-delete proof always ask the store again.
   */
  writeEvidence?(key: string): StoredObjectInfo | null;

  /** Describes the object at `key`; null when there is none. Never reads the body. */
  head(key: string): Promise<StoredObjectInfo | null>;

  /** Streams the object's bytes; null when there is none. The caller must consume or destroy the stream. */
  read(key: string): Promise<Readable | null>;

  /**
   * Lists the keys under a relative prefix ('' for everything), in no particular order, with sizes.
   * Used by audits (verify, torture) to find objects the catalog does not know about.
   */
  list(prefix: string): AsyncIterable<{ key: string; size: number }>;

  /** Removes the object. Idempotent: a missing object is not an error. Refused under Object Lock. */
  remove(key: string): Promise<void>;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
