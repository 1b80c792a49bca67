/**
 * Which URL Twilio called. A signature covers the exact URL Twilio was configured with, which is
 * not what this server sees when it sits behind a proxy or tunnel (TLS ended elsewhere, another
 * host and port, sometimes a path prefix the proxy strips). `--public-url` names it, and then no
 * request header changes it. Without it, the Host header decides, and the forwarding headers
 * (X-Forwarded-Proto/Host) only when the request comes from a proxy named by `--trust-proxy`: a
 * forged header does NOT only make valid signatures fail, as this comment once said. It makes a
 * signature Twilio made for the same path on another host pass here (issue 13 §4). Pure functions.
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
  return text?.trim() || undefined;
}

/**
 * The entry the trusted proxy itself set: the last one. A proxy that appends to what its client
 * sent leaves the client's (anyone's) values in front; one that overwrites leaves one entry.
 */
function forwardedHeader(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  return text?.split(',').pop()?.trim() || undefined;
}

/**
 * The public base of this request: `--public-url` when given; else, from a trusted proxy
 * (`forwardedTrusted`), its X-Forwarded-Proto/Host; else plain http and the Host header.
 */
export function publicBaseFor(headers: Headers, configured: PublicBase | null, forwardedTrusted = false): PublicBase {
  if (configured) return configured;
  const host = firstHeader(headers, 'host') ?? 'localhost';
  if (!forwardedTrusted) return { origin: `http://${host}`, basePath: '' };
  const proto = forwardedHeader(headers, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
  return { origin: `${proto}://${forwardedHeader(headers, 'x-forwarded-host') ?? host}`, basePath: '' };
}

/** The URL Twilio signed for this request: public base + route + the query string as sent. */
export function signedUrlFor(target: string, headers: Headers, configured: PublicBase | null, forwardedTrusted = false): string {
  const base = publicBaseFor(headers, configured, forwardedTrusted);
  const { pathname, search } = splitRequestTarget(target);
  return `${base.origin}${base.basePath}${routeOf(pathname, base.basePath)}${search}`;
}

/** The absolute URL of one of this server's routes, as Twilio must call it. */
export function publicUrlOf(base: PublicBase, route: string): string {
  return `${base.origin}${base.basePath}${route}`;
}
