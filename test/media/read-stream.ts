import type { Readable } from 'node:stream';

/**
 * Reads a whole (small, test-sized) stream, keeping each pushed chunk's length. Uses 'data'
 * events: async iteration calls read(), which may join several buffered chunks into one.
 */
export function readAll(stream: Readable): Promise<{ bytes: Buffer; chunkSizes: number[] }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve({ bytes: Buffer.concat(chunks), chunkSizes: chunks.map((c) => c.length) }));
  });
}
