/**
 * The media host (the second port), behaving like the object store behind Twilio's `media_url`:
 * pre-signed expiring URLs (403 expired/tampered), a second auth mechanism refused (400 when an
 * Authorization header comes along), no User-Agent refused (403, per Twilio's receive guide).
 * Bytes are generated on demand, page by page, with an exact Content-Length.
 * Faults here: 500/503, reset (no response), slow, truncate (fewer bytes than Content-Length,
 * then the connection closes), corrupt (same length, some bytes flipped).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { realWorldFile } from './media/real-world-files.js';
import type { EmulatorContext } from './emulator-context.js';
import type { FaxRecord } from './emulator-records.js';
import { delay } from './http-io.js';
import { hashUnit } from './seeded-random.js';
import { createFaxMediaStream, faxMediaSize, type FaxMediaSpec } from './media/fax-media.js';

function sendXmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The generator's input for a fax's current media; a media change (revision) changes the bytes. */
export function mediaSpecFor(ctx: EmulatorContext, fax: FaxRecord): FaxMediaSpec {
  return {
    faxSid: fax.sid,
    seed: ctx.options.seed + fax.mediaRevision * 7919,
    contentType: fax.contentType,
    numPages: Math.max(fax.mediaPages ?? fax.numPages ?? 1, 1),
    quality: fax.quality,
  };
}

/** Counts bytes sent; for 'truncate' stops after `limit` bytes; for 'corrupt' flips a few bytes. */
class FaultyBody extends Transform {
  sent = 0;
  constructor(
    private readonly limit: number,
    private readonly corruptAt: number | null,
    private readonly onCut: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let out = chunk;
    if (this.corruptAt !== null && this.corruptAt >= this.sent && this.corruptAt < this.sent + chunk.length) {
      out = Buffer.from(chunk);
      const at = this.corruptAt - this.sent;
      for (let i = at; i < Math.min(at + 16, out.length); i++) out[i] = (out[i] as number) ^ 0xff;
    }
    if (this.sent + out.length >= this.limit) {
      out = out.subarray(0, this.limit - this.sent);
      this.sent += out.length;
      this.push(out);
      this.onCut();
      done();
      return;
    }
    this.sent += out.length;
    done(null, out);
  }
}

/**
 * MD5s of generated media, for the ETag. Computing one means generating the file once more, so
 * they are remembered (bounded: the oldest are forgotten first, at ~100 bytes each).
 */
class MediaMd5Cache {
  private readonly known = new Map<string, string>();
  constructor(private readonly limit: number) {}

  async of(spec: FaxMediaSpec): Promise<string> {
    const key = `${spec.faxSid}:${spec.seed}:${spec.contentType}:${spec.numPages}:${spec.quality}`;
    const known = this.known.get(key);
    if (known) return known;
    const hash = createHash('md5');
    for await (const chunk of createFaxMediaStream(spec)) hash.update(chunk as Buffer);
    const md5 = hash.digest('hex');
    if (this.known.size >= this.limit) this.known.delete(this.known.keys().next().value as string);
    this.known.set(key, md5);
    return md5;
  }
}

export function createMediaHandler(ctx: EmulatorContext) {
  const mediaMd5s = new MediaMd5Cache(200_000);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', ctx.mediaOrigin);
    const method = (req.method ?? 'GET').toUpperCase();
    req.resume();
    ctx.stats.mediaRequests++;
    ctx.clockEffects?.tick(ctx.clock.now());
    if (method !== 'GET' && method !== 'HEAD') return sendXmlError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    if (req.headers.authorization !== undefined) {
      return sendXmlError(res, 400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter should be specified');
    }
    if (!req.headers['user-agent']) return sendXmlError(res, 403, 'AccessDenied', 'A User-Agent header is required');
    const check = ctx.signer.verify(url.pathname, url.searchParams, ctx.clock.now());
    if (!check.ok && check.reason === 'token-expired') {
      // S3's answer when the temporary credentials behind a pre-signed URL expired before the URL did.
      return sendXmlError(res, 400, 'ExpiredToken', 'The provided token has expired.');
    }
    if (!check.ok) {
      const message = check.reason === 'expired' ? 'Request has expired' : 'The request signature we calculated does not match the signature you provided';
      return sendXmlError(res, 403, 'AccessDenied', message);
    }
    const fax = ctx.state.faxes.getByMediaSid(check.mediaSid);
    if (!fax || fax.accountSid !== check.accountSid) return sendXmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');

    const fault = ctx.faults.decide('media', method, url.pathname);
    if (fault) ctx.stats.faults[fault]++;
    if (fault === '500') return sendXmlError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    if (fault === '503') return sendXmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'slow') await delay(ctx.options.slowMs);

    const spec = mediaSpecFor(ctx, fax);
    // A real-world writer's file (small, built whole) or the emulator's own, generated as it streams.
    const fixed = fax.realWorldFile ? realWorldFile(fax.realWorldFile, spec.numPages, `${fax.sid}:${fax.mediaRevision}`) : null;
    const size = fixed ? fixed.length : faxMediaSize(spec);
    const etag = fixed ? createHash('md5').update(fixed).digest('hex') : await mediaMd5s.of(spec);
    res.writeHead(200, {
      'Content-Type': fax.servedContentType ?? fax.contentType,
      'Content-Length': String(size),
      // As S3 answers a pre-signed GET: the single-part ETag is the MD5 of the stored (clean) bytes.
      ETag: `"${etag}"`,
      'Last-Modified': new Date(fax.updatedMs).toUTCString(),
      'Cache-Control': 'private, max-age=0',
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    const limit = fault === 'truncate' ? Math.floor(size / 2) : size;
    // Where the bytes flip differs from one corrupt answer to the next (as line noise would), still
    // reproducible from the seed and the order of requests.
    const corruptAt = fault === 'corrupt' ? Math.floor(size * (0.1 + 0.8 * hashUnit(ctx.options.seed, 'corrupt-at', url.pathname, ctx.stats.mediaRequests))) : null;
    const source = fixed ? Readable.from([fixed]) : createFaxMediaStream(spec);
    const body = new FaultyBody(limit, corruptAt, () => {
      // Cut mid-body: the client sees fewer bytes than Content-Length and a closed connection.
      source.unpipe(body);
      source.destroy();
      body.end();
    });
    body.on('data', (chunk: Buffer) => {
      ctx.stats.mediaBytesServed += chunk.length;
    });
    body.on('end', () => {
      if (fault === 'truncate') {
        // end() flushes what was written, then closes: short of Content-Length, so the client sees it cut.
        res.socket?.end();
      } else {
        res.end();
      }
    });
    body.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    });
    res.on('close', () => source.destroy());
    source.on('error', () => res.destroy());
    source.pipe(body);
  };
}
