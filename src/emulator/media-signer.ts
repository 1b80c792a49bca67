/**
 * Pre-signed, expiring media URLs in the shape of Twilio's (an S3-style query on another host):
 * `/fax/{AccountSid}/{MediaSid}?X-Amz-Date=...&X-Amz-Expires=7200&X-Amz-Signature=<hmac>`.
 * The HMAC covers the path, the date and the lifetime, so editing any of them is "tampered".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type MediaUrlCheck =
  | { ok: true; accountSid: string; mediaSid: string }
  | { ok: false; reason: 'malformed' | 'tampered' | 'expired' };

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function parseAmzDate(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

export class MediaSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
  ) {}

  private signature(path: string, date: string, expires: string): string {
    return createHmac('sha256', this.secret).update(`${path}\n${date}\n${expires}`).digest('hex');
  }

  /** A URL valid for the configured lifetime from `nowMs`. */
  sign(mediaOrigin: string, accountSid: string, mediaSid: string, nowMs: number): string {
    const path = `/fax/${accountSid}/${mediaSid}`;
    const date = amzDate(nowMs);
    const expires = String(this.ttlSeconds);
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Date': date,
      'X-Amz-Expires': expires,
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': this.signature(path, date, expires),
    });
    return `${mediaOrigin}${path}?${query.toString()}`;
  }

  /** Checks a request's path and query against its signature and the clock. */
  verify(pathname: string, query: URLSearchParams, nowMs: number): MediaUrlCheck {
    const m = /^\/fax\/(AC[0-9a-f]{32})\/(ME[0-9a-f]{32})$/.exec(pathname);
    const date = query.get('X-Amz-Date');
    const expires = query.get('X-Amz-Expires');
    const signature = query.get('X-Amz-Signature');
    if (!m || !date || !expires || !signature) return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.signature(pathname, date, expires), 'hex');
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'tampered' };
    const issuedMs = parseAmzDate(date);
    const lifetime = Number(expires);
    if (issuedMs === null || !Number.isFinite(lifetime)) return { ok: false, reason: 'malformed' };
    if (nowMs > issuedMs + lifetime * 1000) return { ok: false, reason: 'expired' };
    return { ok: true, accountSid: m[1] as string, mediaSid: m[2] as string };
  }
}
