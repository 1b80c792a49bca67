/** Twilio fax JSON as the Fax API returns it (facts copied from the API reference), for catalog tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ACCOUNT = 'AC' + 'a'.repeat(32);
export const OTHER_ACCOUNT = 'AC' + 'b'.repeat(32);

export function faxSid(n: number): string {
  return 'FX' + n.toString(16).padStart(32, '0');
}

export function mediaSid(n: number): string {
  return 'ME' + n.toString(16).padStart(32, '0');
}

/** A fax created `n` minutes after 2024-01-01 (so a higher n is newer). */
export function twilioFax(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const created = new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString().replace('.000Z', 'Z');
  const sid = faxSid(n);
  return {
    sid,
    account_sid: ACCOUNT,
    from: '+14155550100',
    to: '+14155551234',
    quality: 'fine',
    media_sid: mediaSid(n),
    media_url: `https://media.twiliocdn.com/fax/${ACCOUNT}/${'c'.repeat(40)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101&X-Amz-Signature=deadbeefcafe1234567890&X-Amz-Expires=7200`,
    num_pages: 2,
    duration: 61,
    status: 'received',
    direction: 'inbound',
    api_version: 'v1',
    price: '-0.00700',
    price_unit: 'USD',
    date_created: created,
    date_updated: created,
    links: { media: `https://fax.twilio.com/v1/Faxes/${sid}/Media` },
    url: `https://fax.twilio.com/v1/Faxes/${sid}`,
    ...overrides,
  };
}

export const SHA = 'a'.repeat(64);
export const MD5 = 'b'.repeat(32);

export function tempDir(prefix = 'catalog-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `fax-sunset-${prefix}`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
