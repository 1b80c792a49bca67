/**
 * Independent verification of a stored object, with the method recorded (DESIGN.md "Media and
 * verification"): `checksum` (the store's own SHA-256 from HeadObject+ChecksumMode), `etag-md5`
 * (a single-part ETag equals the local MD5; not valid under SSE-KMS), or `full` (re-read and
 * re-hash: the only method that catches a server that stores what it was told without checking).
 *
 * Like rclone's `check`, outcomes are counted separately and `unavailable` never counts as
 * verified. When a cheaper method turns out not to apply to an object (no checksum came back, a
 * multipart ETag), verification falls back to the next one rather than guessing.
 */
import { createHash } from 'node:crypto';
import { AuthError, ConfigurationError, describeError } from '../errors.js';
import type { MediaStore, StoreCapabilities, StoredObjectInfo } from './media-store.js';
import { etagContradictsMd5, md5FromEtag } from './s3-media-store.js';

export type VerificationMethod = 'checksum' | 'etag-md5' | 'full';

/**
 * What the store answers about an object, and the one consequence of each (issue 14 §3; the
 * pre-delete proof uses the same four):
 *   match        it holds the bytes that were sent
 *   mismatch     it holds other bytes: a finding, archived again from Twilio
 *   missing      it holds nothing at this key: archived again from Twilio
 *   unavailable  no verdict (a HEAD or read kept failing, or nothing the store gave can prove the
 *                bytes without reading them): asked again later; never a mismatch, never a reason
 *                to download the fax again
 */
export type StoreAnswer = 'match' | 'mismatch' | 'missing' | 'unavailable';

export type VerificationOutcome = {
  outcome: StoreAnswer;
  /** The method that decided the outcome (after any fallback). */
  method: VerificationMethod;
  /** One line for people: what differed or why it could not be checked. No secrets. */
  detail?: string;
  /** Set when the bytes were re-read (`full`) or the store reported its SHA-256 (`checksum`). */
  actualSha256Hex?: string;
  actualSize?: number;
};

export interface ExpectedObject {
  size: number;
  sha256Hex: string;
  md5Hex: string;
}

export interface VerifyOptions {
  /** Re-read every byte whatever the store supports (`--verify full`). */
  forceFull?: boolean;
  /**
   * Whether to re-read the bytes when the cheap method does not apply to this object (default true).
   * With false such an object is `unavailable` (a quick audit that must not download).
   */
  allowFullFallback?: boolean;
  /**
   * Right after this process wrote the object: judge from the store's answer to that write
   * (`MediaStore.writeEvidence`) instead of asking again, where the store keeps one; the same
   * methods and fallbacks apply. Never for `verify` or the pre-delete proof, which look again.
   */
  afterWrite?: boolean;
}

/** The strongest method the store supports without reading bytes, or `full` when forced or none applies. */
export function chooseVerificationMethod(capabilities: StoreCapabilities, forceFull: boolean): VerificationMethod {
  if (forceFull) return 'full';
  if (capabilities.reportsSha256) return 'checksum';
  if (capabilities.etagIsMd5) return 'etag-md5';
  return 'full';
}

/**
 * Decides from a head alone (pure). Returns null when the method cannot decide for this object
 * and the caller must fall back (to `etag-md5`, then `full`).
 */
export function judgeFromHead(
  method: Exclude<VerificationMethod, 'full'>,
  head: StoredObjectInfo,
  expected: ExpectedObject,
  capabilities: StoreCapabilities,
): VerificationOutcome | null {
  if (head.size !== expected.size) {
    return { outcome: 'mismatch', method, actualSize: head.size, detail: `size ${head.size}, expected ${expected.size}` };
  }
  if (method === 'checksum') {
    if (!head.sha256Hex) return null;
    const actual = head.sha256Hex.toLowerCase();
    if (actual !== expected.sha256Hex.toLowerCase()) {
      return { outcome: 'mismatch', method, actualSha256Hex: actual, actualSize: head.size, detail: 'stored SHA-256 differs' };
    }
    // Some S3-compatible servers (moto) store the SHA-256 they are told without checking it, while
    // their single-part ETag is the MD5 of what they really hold: a contradiction means corrupt bytes.
    if (etagContradictsMd5(head.etag, expected.md5Hex, etagProvesMd5(head, capabilities))) {
      return { outcome: 'mismatch', method, actualSha256Hex: actual, actualSize: head.size, detail: 'the stored SHA-256 matches but the ETag (MD5 of the stored bytes) differs: the store did not check the checksum' };
    }
    return { outcome: 'match', method, actualSha256Hex: actual, actualSize: head.size };
  }
  // A multipart ETag (`...-N`) or an SSE-KMS ETag is not an MD5 of the bytes: it proves nothing.
  const md5 = md5FromEtag(head.etag, etagProvesMd5(head, capabilities));
  if (md5 === null) return null;
  return md5 === expected.md5Hex.toLowerCase()
    ? { outcome: 'match', method, actualSize: head.size }
    : { outcome: 'mismatch', method, actualSize: head.size, detail: 'stored ETag (MD5) differs' };
}

/** Verifies `key` against what was sent. Throws only for run-level problems (credentials, configuration). */
export async function verifyStoredObject(
  store: MediaStore,
  key: string,
  expected: ExpectedObject,
  options: VerifyOptions = {},
): Promise<VerificationOutcome> {
  const capabilities = store.capabilities;
  const first = chooseVerificationMethod(capabilities, options.forceFull === true);
  let current: VerificationMethod = first;
  try {
    if (first !== 'full') {
      const written = options.afterWrite ? (store.writeEvidence?.(key) ?? null) : null;
      if (written) {
        const order: Exclude<VerificationMethod, 'full'>[] = first === 'checksum' ? ['checksum', 'etag-md5'] : ['etag-md5'];
        for (const method of order) {
          const verdict = judgeFromHead(method, written, expected, capabilities);
          if (verdict) return verdict;
        }
        // The write's answer cannot decide (no checksum, no MD5 ETag): ask the store as before.
      }
      const head = await store.head(key);
      if (!head) return { outcome: 'missing', method: first, detail: 'no object at this key' };
      const order: Exclude<VerificationMethod, 'full'>[] = first === 'checksum' ? ['checksum', 'etag-md5'] : ['etag-md5'];
      for (const method of order) {
        const verdict = judgeFromHead(method, head, expected, capabilities);
        if (verdict) return verdict;
      }
      if (options.allowFullFallback === false) {
        return { outcome: 'unavailable', method: first, detail: 'the store gave no checksum or MD5 ETag for this object' };
      }
    }
    current = 'full';
    return await verifyByReading(store, key, expected);
  } catch (error) {
    if (error instanceof AuthError || error instanceof ConfigurationError) throw error;
    // A read that failed half-way proves nothing either way: not verified, retried later.
    return { outcome: 'unavailable', method: current, detail: describeError(error) };
  }
}

/** Whether this store, and this object on it, have ETags that can be MD5s (not SSE-KMS / SSE-C). */
function etagProvesMd5(head: StoredObjectInfo, capabilities: StoreCapabilities): boolean {
  return capabilities.etagIsMd5 && head.etagIsMd5 !== false;
}

async function verifyByReading(store: MediaStore, key: string, expected: ExpectedObject): Promise<VerificationOutcome> {
  const stream = await store.read(key);
  if (!stream) return { outcome: 'missing', method: 'full', detail: 'no object at this key' };
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      hash.update(bytes);
      size += bytes.length;
    }
  } finally {
    stream.destroy();
  }
  const actual = hash.digest('hex');
  if (size === expected.size && actual === expected.sha256Hex.toLowerCase()) {
    return { outcome: 'match', method: 'full', actualSha256Hex: actual, actualSize: size };
  }
  return {
    outcome: 'mismatch',
    method: 'full',
    actualSha256Hex: actual,
    actualSize: size,
    detail: size === expected.size ? 'bytes hash to a different SHA-256' : `size ${size}, expected ${expected.size}`,
  };
}
