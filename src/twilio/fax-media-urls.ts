/**
 * The gateway owns a fax's pre-signed media URL (issue 14 §2): every listing page and every fetch
 * of a fax leaves its `media_url` here, and `openFaxMedia(faxSid)` opens the fax's media from the
 * URL last seen, or from a fresh fetch when none is known or the one known has expired. Callers
 * never hold a URL: it is a bearer credential to the bytes, and it expires.
 *
 * One bounded cache for archive, sync and serve. The listing comes newest first and the archive
 * goes oldest first, so when full the cache forgets the URL remembered longest ago (the last to be
 * used). A URL is kept for well under the two hours Twilio signs it for; one that the media host
 * still calls expired (403, 400 ExpiredToken) is dropped and the fax fetched again, a bounded
 * number of times.
 */
import { MediaUrlExpiredError } from '../errors.js';
import type { MediaDownload, TwilioFax, TwilioFaxMedia, TwilioGateway } from './twilio-gateway.js';

/** What opening a fax's media found. */
export type FaxMediaOpening =
  | { kind: 'opened'; download: MediaDownload }
  /** Twilio answers 404 for the fax (or its FaxMedia): deleted or pruned. */
  | { kind: 'gone' }
  /**
   * Twilio's fresh record gives no media_url (seen on canceled faxes with a media_sid): the record
   * as fetched, and what its FaxMedia subresource lists (the Fax API offers no other way to the bytes).
   */
  | { kind: 'no-media-url'; fax: TwilioFax; faxMedia: TwilioFaxMedia[] };

export interface MediaUrlCacheOptions {
  /** Default 50,000 (~400 bytes each). */
  maxEntries?: number;
  /** How long a remembered URL is used; default one hour (Twilio signs them for two). */
  ttlMs?: number;
  nowMs?: () => number;
}

export const DEFAULT_MEDIA_URL_ENTRIES = 50_000;
export const DEFAULT_MEDIA_URL_TTL_MS = 60 * 60_000;

/** Pre-signed media URLs by fax sid: bounded (oldest remembered forgotten first) and expiring. */
export class MediaUrlCache {
  private readonly urls = new Map<string, { url: string; until: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly nowMs: () => number;

  constructor(options: MediaUrlCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MEDIA_URL_ENTRIES;
    this.ttlMs = options.ttlMs ?? DEFAULT_MEDIA_URL_TTL_MS;
    this.nowMs = options.nowMs ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a whole number >= 1');
  }

  get size(): number {
    return this.urls.size;
  }

  /** Remembers the URL a listing or fetch gave (null/empty: nothing to remember, and any older one is kept). */
  remember(faxSid: string, mediaUrl: unknown): void {
    if (typeof mediaUrl !== 'string' || mediaUrl === '') return;
    // Re-inserted, so a URL seen again counts as the newest.
    this.urls.delete(faxSid);
    this.urls.set(faxSid, { url: mediaUrl, until: this.nowMs() + this.ttlMs });
    while (this.urls.size > this.maxEntries) this.urls.delete(this.urls.keys().next().value as string);
  }

  /** The URL still within its time, or undefined (an expired one is forgotten). */
  get(faxSid: string): string | undefined {
    const entry = this.urls.get(faxSid);
    if (!entry) return undefined;
    if (entry.until <= this.nowMs()) {
      this.urls.delete(faxSid);
      return undefined;
    }
    return entry.url;
  }

  forget(faxSid: string): void {
    this.urls.delete(faxSid);
  }
}

/** Fresh URLs asked for after the media host called one expired, per open. */
export const MAX_MEDIA_URL_REFRESHES = 2;

/** The calls `openFaxMediaVia` needs: a gateway's own (so a stub gateway can share this logic). */
export type FaxMediaCalls = Pick<TwilioGateway, 'fetchFax' | 'listFaxMedia' | 'openMedia'>;

/**
 * Opens the fax's media: from the remembered URL, else from a fresh fetch of the fax; a URL the
 * media host calls expired is dropped and the fax fetched again (at most MAX_MEDIA_URL_REFRESHES
 * times). Other failures are thrown as the download throws them.
 */
export async function openFaxMediaVia(calls: FaxMediaCalls, cache: MediaUrlCache, faxSid: string): Promise<FaxMediaOpening> {
  let refreshes = 0;
  for (;;) {
    let url = cache.get(faxSid);
    if (!url) {
      const fax = await calls.fetchFax(faxSid);
      if (!fax) return { kind: 'gone' };
      // The gateway's fetch remembers it; a stub's may not, so it is remembered here too.
      cache.remember(faxSid, fax.media_url);
      url = typeof fax.media_url === 'string' && fax.media_url ? fax.media_url : undefined;
      if (!url) {
        const faxMedia = await calls.listFaxMedia(faxSid);
        if (faxMedia === null) return { kind: 'gone' };
        return { kind: 'no-media-url', fax, faxMedia };
      }
    }
    try {
      return { kind: 'opened', download: await calls.openMedia(url) };
    } catch (error) {
      if (!(error instanceof MediaUrlExpiredError)) throw error;
      cache.forget(faxSid);
      if (refreshes >= MAX_MEDIA_URL_REFRESHES) throw error;
      refreshes++;
    }
  }
}
