/**
 * The emulator's fax media: deterministic, valid multi-page PDFs and TIFFs of realistic size,
 * generated page by page as they are streamed, with their exact length known beforehand so the
 * media server can send Content-Length (and the archiver can check it) without buffering.
 *
 * Same spec -> same bytes; a different faxSid or seed -> different bytes (the sid is also
 * written into the file's metadata, so two faxes never share bytes).
 */
import type { Readable } from 'node:stream';
import { MediaPartsStream, partsLength, type MediaPart } from './media-parts.js';
import { pdfParts } from './pdf-writer.js';
import { tiffParts } from './tiff-writer.js';

export interface FaxMediaSpec {
  faxSid: string;
  seed: number;
  contentType: 'application/pdf' | 'image/tiff';
  numPages: number;
  quality: 'standard' | 'fine' | 'superfine';
}

function describe(spec: FaxMediaSpec): Iterable<MediaPart> {
  if (!Number.isInteger(spec.numPages) || spec.numPages < 1 || spec.numPages > 65535) {
    // TIFF's PageNumber tag is 16-bit; a real fax never comes close.
    throw new RangeError(`numPages must be an integer from 1 to 65535, got ${spec.numPages}`);
  }
  if (!Number.isFinite(spec.seed)) throw new RangeError(`seed must be a finite number, got ${spec.seed}`);
  switch (spec.contentType) {
    case 'application/pdf':
      return pdfParts(spec);
    case 'image/tiff':
      return tiffParts(spec);
    default:
      throw new RangeError(`unsupported fax media content type: ${String(spec.contentType)}`);
  }
}

/** Exact byte length of the media for `spec`, computed without generating the page images. */
export function faxMediaSize(spec: FaxMediaSpec): number {
  return partsLength(describe(spec));
}

/** The media bytes for `spec`, generated lazily in ~64 KB chunks (never the whole file in memory). */
export function createFaxMediaStream(spec: FaxMediaSpec): Readable {
  return new MediaPartsStream(describe(spec));
}
