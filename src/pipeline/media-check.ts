/**
 * Pure checks on downloaded media: the bytes must be what Twilio said they are before they are
 * allowed anywhere near the store, because a fax is deleted from Twilio on the strength of them.
 */
export interface DownloadedMediaFacts {
  /** Content-Type the media host sent. */
  contentType: string | null;
  /** Content-Length the media host sent, or null. */
  contentLength: number | null;
  /** Bytes actually received. */
  size: number;
  /** What the magic bytes say the file is. */
  magicKind: 'pdf' | 'tiff' | null;
  /** What the content type says it should be. */
  declaredKind: 'pdf' | 'tiff' | null;
  /** Pages counted in the file, or null when it could not tell. */
  pages: number | null;
  /** Twilio's `num_pages`, or null. */
  numPages: number | null;
  /** The media host's ETag (unquoted), or null. */
  etag?: string | null;
  /** MD5 of the bytes received. */
  md5Hex?: string;
}

/** Every reason the media is unacceptable; empty when it is fine. */
export function mediaProblems(facts: DownloadedMediaFacts): string[] {
  const problems: string[] = [];
  if (facts.contentLength !== null && facts.size !== facts.contentLength) {
    problems.push(`received ${facts.size} bytes but Content-Length said ${facts.contentLength} (truncated download)`);
  }
  // A single-part S3 ETag is the MD5 of the stored bytes: bytes changed on the way (same length,
  // right magic, right page count) are caught only here. Multipart ETags (`...-N`) prove nothing.
  if (facts.etag && facts.md5Hex && /^[0-9a-f]{32}$/i.test(facts.etag) && facts.etag.toLowerCase() !== facts.md5Hex.toLowerCase()) {
    problems.push('the bytes received do not match the media host\'s ETag (MD5): changed in transit');
  }
  if (facts.size === 0) problems.push('media is empty');
  if (facts.magicKind === null) problems.push('media is neither a PDF nor a TIFF (magic bytes)');
  if (facts.declaredKind === null) problems.push(`unexpected content type ${JSON.stringify(facts.contentType)}`);
  if (facts.magicKind !== null && facts.declaredKind !== null && facts.magicKind !== facts.declaredKind) {
    problems.push(`content type says ${facts.declaredKind} but the bytes are a ${facts.magicKind}`);
  }
  if (facts.numPages !== null && facts.numPages > 0 && facts.pages !== null && facts.pages !== facts.numPages) {
    problems.push(`file has ${facts.pages} pages but Twilio says num_pages=${facts.numPages}`);
  }
  return problems;
}
