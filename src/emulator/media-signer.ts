/**
 * Pre-signed, expiring media URLs in the shape of Twilio's: an S3 SigV4 query on another host,
 * signed with temporary credentials (an `ASIA...` access key and an `X-Amz-Security-Token`), as the
 * real `media_url` was (README.md in this folder cites the payloads):
 * `/fax/{AccountSid}/{MediaSid}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA.../20211201/us-east-1/s3/aws4_request
 *  &X-Amz-Date=...&X-Amz-Expires=7200&X-Amz-Security-Token=...&X-Amz-SignedHeaders=host&X-Amz-Signature=<hmac>`.
 * The HMAC covers the path, the date, the lifetime and the token, so editing any of them is "tampered".
 * The token has its own lifetime (`tokenTtlSeconds`): past it, before X-Amz-Expires, the URL answers
 * 400 ExpiredToken; past X-Amz-Expires, 403 AccessDenied.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type MediaUrlCheck =
  | { ok: true; accountSid: string; mediaSid: string }
  | { ok: false; reason: 'malformed' | 'tampered' | 'expired' | 'token-expired' };

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function parseAmzDate(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/** The issue time a token names (the signature already proved the token is ours). */
function tokenIssuedAt(token: string): number | null {
  const m = /^FwoGZXIvYXdzE([A-Za-z0-9_-]+)\./.exec(token);
  if (!m) return null;
  const ms = Number(Buffer.from(m[1] as string, 'base64url').toString('latin1'));
  return Number.isSafeInteger(ms) ? ms : null;
}

export class MediaSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    private readonly tokenTtlSeconds = ttlSeconds,
  ) {}

  private signature(path: string, date: string, expires: string, token: string): string {
    return createHmac('sha256', this.secret).update(`${path}\n${date}\n${expires}\n${token}`).digest('hex');
  }

  /** A session token naming when it was issued (as STS tokens encode their expiry inside). */
  private token(issuedMs: number): string {
    const body = createHmac('sha256', this.secret).update(`token:${issuedMs}`).digest('base64');
    return `FwoGZXIvYXdzE${Buffer.from(String(issuedMs)).toString('base64url')}.${body}`;
  }

  private accessKey(): string {
    return `ASIA${createHmac('sha256', this.secret).update('access-key').digest('hex').slice(0, 16).toUpperCase()}`;
  }

  /**
   * A URL valid for the configured lifetime from `nowMs`, signed with a session token issued at
   * `tokenIssuedMs` (default now: the token then outlives the URL unless tokenTtlSeconds is shorter).
   */
  sign(mediaOrigin: string, accountSid: string, mediaSid: string, nowMs: number, tokenIssuedMs = nowMs): string {
    const path = `/fax/${accountSid}/${mediaSid}`;
    const date = amzDate(nowMs);
    const expires = String(this.ttlSeconds);
    const token = this.token(Math.floor(tokenIssuedMs / 1000) * 1000);
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${this.accessKey()}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
      'X-Amz-Date': date,
      'X-Amz-Expires': expires,
      'X-Amz-Security-Token': token,
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': this.signature(path, date, expires, token),
    });
    return `${mediaOrigin}${path}?${query.toString()}`;
  }

  /** Checks a request's path and query against its signature and the clock. */
  verify(pathname: string, query: URLSearchParams, nowMs: number): MediaUrlCheck {
    const m = /^\/fax\/(AC[0-9a-f]{32})\/(ME[0-9a-f]{32})$/.exec(pathname);
    const date = query.get('X-Amz-Date');
    const expires = query.get('X-Amz-Expires');
    const signature = query.get('X-Amz-Signature');
    const token = query.get('X-Amz-Security-Token');
    if (!m || !date || !expires || !signature || !token) return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.signature(pathname, date, expires, token), 'hex');
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'tampered' };
    const issuedMs = parseAmzDate(date);
    const lifetime = Number(expires);
    if (issuedMs === null || !Number.isFinite(lifetime)) return { ok: false, reason: 'malformed' };
    if (nowMs > issuedMs + lifetime * 1000) return { ok: false, reason: 'expired' };
    const tokenIssuedMs = tokenIssuedAt(token);
    if (tokenIssuedMs === null) return { ok: false, reason: 'malformed' };
    if (nowMs > tokenIssuedMs + this.tokenTtlSeconds * 1000) return { ok: false, reason: 'token-expired' };
    return { ok: true, accountSid: m[1] as string, mediaSid: m[2] as string };
  }
}
