/**
 * Which URL Twilio called. A signature covers the exact URL Twilio was configured with, which is
 * not what this server sees when it sits behind a proxy or tunnel (TLS ended elsewhere, another
 * host and port, sometimes a path prefix the proxy strips). `--public-url` names it; without it the
 * usual forwarding headers are trusted, which is safe for signature checks because a forged header
 * can only make a valid signature fail, never make a forged request pass. Pure functions.
 */
import { UsageError } from '../errors.js';

/** The FaxUrl to give the numbers (their VoiceUrl while in fax mode). */
export const FAX_INCOMING_PATH = '/fax/incoming';
/** The `<Receive action>` callback. */
export const FAX_RECEIVED_PATH = '/fax/received';
export const HEALTH_PATH = '/healthz';

export interface PublicBase {
  /** `https://fax.example.org` (scheme, host and port exactly as the operator wrote them). */
  origin: string;
  /** A path prefix without trailing slash (`/hooks`), or '' for none. */
  basePath: string;
}

/** Parses `--public-url`; refuses anything but an absolute http(s) URL without query or fragment. */
export function parsePublicUrl(text: string): PublicBase {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--public-url must be an absolute URL such as https://fax.example.org, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--public-url must start with https:// or http://');
  if (url.search || url.hash) throw new UsageError('--public-url must not carry a query string or fragment');
  if (url.username || url.password) throw new UsageError('--public-url must not carry credentials');
  // Keep the origin as written (not url.origin, which drops a default port the operator may have
  // configured in Twilio: the signature covers the string, and validateRequest tries both forms anyway).
  const schemeAndRest = text.slice(url.protocol.length + 2);
  const slash = schemeAndRest.indexOf('/');
  const authority = slash === -1 ? schemeAndRest : schemeAndRest.slice(0, slash);
  return { origin: `${url.protocol}//${authority}`, basePath: url.pathname.replace(/\/+$/, '') };
}

/** Splits a raw request target (`/fax/incoming?x=1`) without normalizing it: Twilio signed the raw form. */
export function splitRequestTarget(target: string): { pathname: string; search: string } {
  const q = target.indexOf('?');
  return q === -1 ? { pathname: target, search: '' } : { pathname: target.slice(0, q), search: target.slice(q) };
}

/**
 * The route a request is for, with the public base path removed when the proxy passed it through
 * (a proxy that strips the prefix sends the bare route, which is returned as it is).
 */
export function routeOf(pathname: string, basePath: string): string {
  if (basePath && (pathname === basePath || pathname.startsWith(`${basePath}/`))) {
    return pathname.slice(basePath.length) || '/';
  }
  return pathname;
}

type Headers = Record<string, string | string[] | undefined>;

function firstHeader(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  // A chain of proxies appends: the first entry is what the client (Twilio) used.
  return text?.split(',')[0]?.trim() || undefined;
}

/** The public base of this request: `--public-url` when given, else the forwarding headers, else Host. */
export function publicBaseFor(headers: Headers, configured: PublicBase | null): PublicBase {
  if (configured) return configured;
  const proto = firstHeader(headers, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
  const host = firstHeader(headers, 'x-forwarded-host') ?? firstHeader(headers, 'host') ?? 'localhost';
  return { origin: `${proto}://${host}`, basePath: '' };
}

/** The URL Twilio signed for this request: public base + route + the query string as sent. */
export function signedUrlFor(target: string, headers: Headers, configured: PublicBase | null): string {
  const base = publicBaseFor(headers, configured);
  const { pathname, search } = splitRequestTarget(target);
  return `${base.origin}${base.basePath}${routeOf(pathname, base.basePath)}${search}`;
}

/** The absolute URL of one of this server's routes, as Twilio must call it. */
export function publicUrlOf(base: PublicBase, route: string): string {
  return `${base.origin}${base.basePath}${route}`;
}
