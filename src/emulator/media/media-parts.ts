/**
 * A media file described as a sequence of parts: small literal byte runs (headers, dictionaries,
 * IFDs, xref) and page rasters whose length is known without generating them. The PDF and TIFF
 * writers only describe; this module measures (for Content-Length) and streams (for the body),
 * so the two can never disagree.
 */
import { Readable } from 'node:stream';
import { PageRasterWriter, pageRasterSize, type FaxQuality } from './fax-page-raster.js';

export interface RasterPart {
  quality: FaxQuality;
  seed: number;
  withEndOfData: boolean;
}

export type MediaPart = Uint8Array | RasterPart;

export function partLength(part: MediaPart): number {
  return part instanceof Uint8Array ? part.length : pageRasterSize(part.quality, part.withEndOfData);
}

/** Total byte length of a part sequence. */
export function partsLength(parts: Iterable<MediaPart>): number {
  let total = 0;
  for (const part of parts) total += partLength(part);
  return total;
}

/** Latin-1 bytes of a string (PDF and TIFF text here is ASCII; binary PDF comment bytes pass through). */
export function latin1(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Streams a part sequence in ~64 KB chunks. Parts are pulled lazily, one page at a time, so
 * memory stays flat whatever the page count. Each pushed chunk is a fresh buffer: the consumer
 * may hold on to it, so reusing it would corrupt data already handed out.
 */
export class MediaPartsStream extends Readable {
  private readonly parts: Iterator<MediaPart>;
  private literal: Uint8Array | null = null;
  private literalPos = 0;
  private raster: PageRasterWriter | null = null;
  private finished = false;

  constructor(parts: Iterable<MediaPart>) {
    super({ highWaterMark: CHUNK_BYTES * 2 });
    this.parts = parts[Symbol.iterator]();
  }

  override _read(): void {
    try {
      let more = true;
      while (more && !this.finished) {
        const chunk = this.nextChunk();
        if (chunk === null) {
          this.finished = true;
          this.push(null);
        } else {
          more = this.push(chunk);
        }
      }
    } catch (error) {
      this.destroy(error as Error);
    }
  }

  /** Fills one chunk from the current and following parts; null when the sequence is done. */
  private nextChunk(): Buffer | null {
    const out = Buffer.allocUnsafe(CHUNK_BYTES);
    let pos = 0;
    for (;;) {
      if (this.literal) {
        const n = Math.min(this.literal.length - this.literalPos, out.length - pos);
        out.set(this.literal.subarray(this.literalPos, this.literalPos + n), pos);
        pos += n;
        this.literalPos += n;
        if (this.literalPos === this.literal.length) this.literal = null;
        if (pos === out.length) return out;
      } else if (this.raster) {
        const next = this.raster.fill(out, pos);
        if (this.raster.done) this.raster = null;
        else if (next === pos || next === out.length) return out.subarray(0, next);
        pos = next;
      } else {
        const step = this.parts.next();
        if (step.done) return pos > 0 ? out.subarray(0, pos) : null;
        const part = step.value;
        if (part instanceof Uint8Array) {
          this.literal = part;
          this.literalPos = 0;
        } else {
          this.raster = new PageRasterWriter(part.quality, part.seed, part.withEndOfData);
        }
      }
    }
  }
}
