/**
 * The gateway's one media URL cache (issue 14 §2): bounded (the URL remembered longest ago goes
 * first), expiring, and behind `openFaxMediaVia`, which refreshes an expired URL by fetching the fax
 * again a bounded number of times.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MediaUrlExpiredError } from '../../src/errors.js';
import { MAX_MEDIA_URL_REFRESHES, MediaUrlCache, openFaxMediaVia, type FaxMediaCalls } from '../../src/twilio/fax-media-urls.js';
import type { MediaDownload, TwilioFax } from '../../src/twilio/twilio-gateway.js';

const SID = 'FX' + 'a'.repeat(32);

function fax(mediaUrl: string | null): TwilioFax {
  return { sid: SID, account_sid: 'AC' + 'b'.repeat(32), media_url: mediaUrl } as TwilioFax;
}

function download(): MediaDownload {
  return { httpStatus: 200, contentType: 'application/pdf', contentLength: 0, etag: null, body: Readable.from([]) };
}

describe('MediaUrlCache', () => {
  it('forgets the URL remembered longest ago when full, and a URL past its time', () => {
    let now = 0;
    const cache = new MediaUrlCache({ maxEntries: 2, ttlMs: 1_000, nowMs: () => now });
    cache.remember('FX1', 'https://m/1');
    cache.remember('FX2', 'https://m/2');
    cache.remember('FX1', 'https://m/1b'); // seen again: now the newest
    cache.remember('FX3', 'https://m/3');
    expect(cache.get('FX2')).toBeUndefined();
    expect(cache.get('FX1')).toBe('https://m/1b');
    expect(cache.get('FX3')).toBe('https://m/3');
    now = 1_000;
    expect(cache.get('FX3')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('keeps an older URL when a record without one is seen', () => {
    const cache = new MediaUrlCache();
    cache.remember('FX1', 'https://m/1');
    cache.remember('FX1', null);
    expect(cache.get('FX1')).toBe('https://m/1');
  });
});

describe('openFaxMediaVia', () => {
  it('uses the remembered URL without a fetch, and refreshes an expired one by fetching the fax', async () => {
    const opened: string[] = [];
    let fetches = 0;
    const calls: FaxMediaCalls = {
      fetchFax: async () => (fetches++, fax(`https://m/fresh${fetches}`)),
      listFaxMedia: async () => [],
      openMedia: async (url) => {
        opened.push(url);
        if (url === 'https://m/listed') throw new MediaUrlExpiredError('expired');
        return download();
      },
    };
    const cache = new MediaUrlCache();
    cache.remember(SID, 'https://m/listed');
    const result = await openFaxMediaVia(calls, cache, SID);
    expect(result.kind).toBe('opened');
    expect(opened).toEqual(['https://m/listed', 'https://m/fresh1']);
    // The fresh URL is kept: the next open (an ETag re-download) uses it without a fetch.
    await openFaxMediaVia(calls, cache, SID);
    expect(opened[2]).toBe('https://m/fresh1');
    expect(fetches).toBe(1);
  });

  it('gives up after a bounded number of refreshes', async () => {
    let fetches = 0;
    const calls: FaxMediaCalls = {
      fetchFax: async () => (fetches++, fax('https://m/always-expired')),
      listFaxMedia: async () => [],
      openMedia: async () => {
        throw new MediaUrlExpiredError('expired');
      },
    };
    await expect(openFaxMediaVia(calls, new MediaUrlCache(), SID)).rejects.toBeInstanceOf(MediaUrlExpiredError);
    expect(fetches).toBe(MAX_MEDIA_URL_REFRESHES + 1);
  });

  it('says gone on 404 and no-media-url with what FaxMedia lists', async () => {
    const gone: FaxMediaCalls = { fetchFax: async () => null, listFaxMedia: async () => null, openMedia: async () => download() };
    expect((await openFaxMediaVia(gone, new MediaUrlCache(), SID)).kind).toBe('gone');
    const noUrl: FaxMediaCalls = {
      fetchFax: async () => fax(null),
      listFaxMedia: async () => [{ sid: 'ME' + 'c'.repeat(32), contentType: null, url: null }],
      openMedia: async () => download(),
    };
    const result = await openFaxMediaVia(noUrl, new MediaUrlCache(), SID);
    expect(result.kind === 'no-media-url' && result.faxMedia.map((m) => m.sid)).toEqual(['ME' + 'c'.repeat(32)]);
  });
});
