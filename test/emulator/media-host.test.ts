import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

let emu: TestEmulator;
const UA = { 'User-Agent': 'fax-sunset-test/1.0' };

interface FaxJson {
  sid: string;
  media_url: string | null;
  num_pages: number | null;
  status: string;
}

/** Pages of a PDF: its `/Type /Page` objects (not `/Pages`). */
export function pdfPageCount(buf: Buffer): number {
  return (buf.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g) ?? []).length;
}

/** Pages of a TIFF: the IFD chain from the header's first offset. */
export function tiffPageCount(buf: Buffer): number {
  const little = buf.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  expect(u16(2)).toBe(42);
  let pages = 0;
  let ifd = u32(4);
  const visited = new Set<number>();
  while (ifd !== 0) {
    expect(visited.has(ifd)).toBe(false);
    visited.add(ifd);
    pages++;
    const entries = u16(ifd);
    ifd = u32(ifd + 2 + entries * 12);
  }
  return pages;
}

function mediaFaxes(contentType: string): FaxJson[] {
  // Finished faxes: their media has num_pages pages (an unsent outbound fax's document has more than it sent).
  return (emu.emulator.faxes() as unknown as (FaxJson & { sid: string })[]).filter((f) => f.media_url !== null && (f.status === 'delivered' || f.status === 'received')).filter((f) => {
    const record = emu.emulator.faxes().find((x) => x.sid === f.sid);
    return record !== undefined && contentTypeOf(f.sid) === contentType;
  });
}

const contentTypes = new Map<string, string>();
function contentTypeOf(sid: string): string | undefined {
  return contentTypes.get(sid);
}

beforeAll(async () => {
  // Exact content types here; inexact ones (S3 objects stored without a type) are media-as-s3-serves-it.test.ts's.
  emu = await startTestEmulator({ faxes: 60, seed: 5, mediaTtlSeconds: 600, world: { inexactContentTypes: 0 } });
  // Content types come from the Media subresource, as a client would learn them.
  for (const fax of emu.emulator.faxes() as unknown as { sid: string; account_sid: string; media_sid: string | null; links: { media: string } }[]) {
    if (!fax.media_sid) continue;
    // Each fax is visible only to its own account (subaccount faxes answer 404 to the parent).
    const owner = emu.emulator.accounts.find((a) => a.sid === fax.account_sid);
    if (!owner) throw new Error(`no account ${fax.account_sid}`);
    const res = await fetch(fax.links.media, { headers: { Authorization: emu.basicAuth(owner.sid, owner.authToken) } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { media: { content_type: string }[] };
    contentTypes.set(fax.sid, body.media[0]?.content_type as string);
  }
});
afterAll(() => emu.close());

describe('media host', () => {
  it('serves PDFs and TIFFs whose page count equals num_pages, with exact Content-Type and Content-Length', async () => {
    const pdfs = mediaFaxes('application/pdf').slice(0, 2);
    const tiffs = mediaFaxes('image/tiff').slice(0, 2);
    expect(pdfs.length).toBeGreaterThan(0);
    expect(tiffs.length).toBeGreaterThan(0);
    for (const [fax, type] of [...pdfs.map((f) => [f, 'application/pdf'] as const), ...tiffs.map((f) => [f, 'image/tiff'] as const)]) {
      const res = await fetch(fax.media_url as string, { headers: UA });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      const buf = Buffer.from(await res.arrayBuffer());
      expect(Number(res.headers.get('content-length'))).toBe(buf.length);
      expect(buf.length / (fax.num_pages as number)).toBeGreaterThan(10_000);
      if (type === 'application/pdf') {
        expect(buf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        expect(pdfPageCount(buf)).toBe(fax.num_pages);
      } else {
        expect(tiffPageCount(buf)).toBe(fax.num_pages);
      }
    }
    expect(emu.emulator.stats().mediaBytesServed).toBeGreaterThan(0);
  });

  it('serves the same bytes for the same fax (deterministic)', async () => {
    const fax = mediaFaxes('application/pdf')[0] as FaxJson;
    const a = Buffer.from(await (await fetch(fax.media_url as string, { headers: UA })).arrayBuffer());
    const b = Buffer.from(await (await fetch(fax.media_url as string, { headers: UA })).arrayBuffer());
    expect(a.equals(b)).toBe(true);
  });

  it('refuses a request carrying an Authorization header with 400', async () => {
    const fax = mediaFaxes('application/pdf')[0] as FaxJson;
    const res = await fetch(fax.media_url as string, { headers: { ...UA, Authorization: emu.basicAuth() } });
    expect(res.status).toBe(400);
  });

  it('refuses a request without a User-Agent with 403', async () => {
    const fax = mediaFaxes('application/pdf')[0] as FaxJson;
    // fetch always sends a User-Agent; node:http sends none unless told to.
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      http.get(fax.media_url as string, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('refuses a tampered URL (path, lifetime or signature changed) with 403', async () => {
    const fax = mediaFaxes('application/pdf')[0] as FaxJson;
    const url = new URL(fax.media_url as string);
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '999999');
    const otherSig = new URL(url);
    otherSig.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    const otherPath = new URL(url);
    const other = mediaFaxes('image/tiff')[0] as FaxJson;
    otherPath.pathname = new URL(other.media_url as string).pathname;
    for (const bad of [longer, otherSig, otherPath]) {
      const res = await fetch(bad, { headers: UA });
      expect(res.status).toBe(403);
    }
  });

  it('expires a URL after the media TTL; re-fetching the fax gives a fresh one that works', async () => {
    const fax = mediaFaxes('application/pdf')[0] as FaxJson;
    const stale = (await (await fetch(`${emu.url}/v1/Faxes/${fax.sid}`, { headers: { Authorization: emu.basicAuth() } })).json()) as FaxJson;
    const before = await fetch(stale.media_url as string, { headers: UA });
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    await fetch(`${emu.url}/_emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceSeconds: 601 }) });
    const expired = await fetch(stale.media_url as string, { headers: UA });
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('expired');
    const fresh = (await (await fetch(`${emu.url}/v1/Faxes/${fax.sid}`, { headers: { Authorization: emu.basicAuth() } })).json()) as FaxJson;
    const again = await fetch(fresh.media_url as string, { headers: UA });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });

  it('answers 404 for media deleted after its URL was issued', async () => {
    const fax = emu.emulator.createFax({}) as unknown as FaxJson & { media_sid: string };
    await fetch(`${emu.url}/v1/Faxes/${fax.sid}`, { method: 'DELETE', headers: { Authorization: emu.basicAuth() } });
    const res = await fetch(fax.media_url as string, { headers: UA });
    expect(res.status).toBe(404);
  });
});
