/**
 * Pure checks on downloaded media: the bytes must be what Twilio said they are before they are
 * allowed anywhere near the store, because a fax is deleted from Twilio on the strength of them.
 */
import type { MediaKind } from '../store/object-layout.js';
import { md5FromEtag } from '../store/s3-media-store.js';

export interface DownloadedMediaFacts {
  /** Content-Type the media host sent. */
  contentType: string | null;
  /** Content-Length the media host sent, or null. */
  contentLength: number | null;
  /** Bytes actually received. */
  size: number;
  /** What the magic bytes say the file is. */
  magicKind: MediaKind | null;
  /** What the content type says it should be (informational: the bytes decide, issue 12 §4). */
  declaredKind: MediaKind | null;
  /**
   * Whether the file's structure holds up for its magic kind (a PDF ends with `%%EOF`, a TIFF's IFD
   * chain can be walked). Absent: not checked.
   */
  structureOk?: boolean;
  /** Pages counted in the file, or null when it could not tell. */
  pages: number | null;
  /** Twilio's `num_pages`, or null. */
  numPages: number | null;
}

/**
 * Every reason the media is unacceptable; empty when it is fine. The kind comes from the bytes (magic
 * and structure), never from the Content-Type: S3 serves objects stored without a type as
 * `application/octet-stream` or `binary/octet-stream` (issue 12 §4: PDFs served so were refused, and
 * never archived). Only bytes that are neither a PDF nor a TIFF are refused; an inexact type is
 * recorded beside the media (see `contentTypeNote`).
 */
export function mediaProblems(facts: DownloadedMediaFacts): string[] {
  const problems: string[] = [];
  if (facts.contentLength !== null && facts.size !== facts.contentLength) {
    problems.push(`received ${facts.size} bytes but Content-Length said ${facts.contentLength} (truncated download)`);
  }
  if (facts.size === 0) problems.push('media is empty');
  if (facts.magicKind === null) {
    problems.push(`media is neither a PDF nor a TIFF (magic bytes; served as ${JSON.stringify(facts.contentType)})`);
  } else if (facts.structureOk === false) {
    problems.push(`media starts like a ${facts.magicKind === 'pdf' ? 'PDF' : 'TIFF'} but is not a whole one (${facts.magicKind === 'pdf' ? 'no %%EOF' : 'its IFD chain is broken'})`);
  }
  if (facts.numPages !== null && facts.numPages > 0 && facts.pages !== null && facts.pages !== facts.numPages) {
    problems.push(`file has ${facts.pages} pages but Twilio says num_pages=${facts.numPages}`);
  }
  return problems;
}

/** A note when the served Content-Type does not name the kind the bytes are; null when it does. */
export function contentTypeNote(facts: Pick<DownloadedMediaFacts, 'contentType' | 'magicKind' | 'declaredKind'>): string | null {
  if (facts.magicKind === null || facts.declaredKind === facts.magicKind) return null;
  return `served as ${JSON.stringify(facts.contentType)}; the bytes are a ${facts.magicKind === 'pdf' ? 'PDF' : 'TIFF'}`;
}

/**
 * A single-part S3 ETag is the MD5 of the stored bytes: bytes changed on the way (same length, right
 * magic, right page count) are caught only by it. `none`: no ETag, or one that is not an MD5
 * (multipart `...-N`); `mismatch`: other bytes than the host holds, or an ETag that is not the MD5
 * of the content after all (see `judgeEtagMismatch`).
 */
export function etagVerdict(etag: string | null, md5Hex: string): 'match' | 'mismatch' | 'none' {
  // Twilio's media host is S3: the rule is the S3 store's (the gateway already dropped ETags of
  // SSE-KMS / SSE-C objects, which are not MD5s).
  const hostMd5 = md5FromEtag(etag, true);
  if (hostMd5 === null) return 'none';
  return hostMd5 === md5Hex.toLowerCase() ? 'match' : 'mismatch';
}

/**
 * After an ETag mismatch the media is downloaded once more. Line noise does not corrupt two
 * downloads the same way: a second download with another SHA-256 means the first was damaged (the
 * second is judged on its own); the SAME bytes again under the same ETag mean the ETag is simply not
 * an MD5 of the file (a host that re-encrypts or copies objects), so the bytes are accepted.
 */
export function judgeEtagMismatch(
  first: { sha256Hex: string; etag: string },
  second: { sha256Hex: string; etag: string | null },
): 'etag-is-not-md5' | 'judge-second' {
  return first.sha256Hex === second.sha256Hex && first.etag === second.etag ? 'etag-is-not-md5' : 'judge-second';
}
