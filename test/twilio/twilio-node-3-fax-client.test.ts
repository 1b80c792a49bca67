/**
 * Issue 12 §5: twilio-node 3.77.1 (the last release with the Fax client) still lists, fetches,
 * reads media and deletes against the emulator. It needs that old release beside the current one,
 * as a devDependency alias: `"twilio-fax-3": "npm:twilio@3.77.1"`. Without it the test says so and
 * is skipped (the OpenAPI checks in test/emulator/ cover the wire shapes meanwhile).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';

const require = createRequire(import.meta.url);
type Twilio3 = (sid: string, token: string, options: { httpClient: unknown }) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
let twilio3: Twilio3 | null = null;
let RequestClient: (new () => { request(options: Record<string, unknown>): Promise<unknown> }) | null = null;
// FAX_SUNSET_TWILIO3_DIR: a folder holding twilio@3.77.1 (e.g. /tmp/x/node_modules/twilio), for a run without the alias.
const where = process.env.FAX_SUNSET_TWILIO3_DIR ?? 'twilio-fax-3';
try {
  twilio3 = require(where) as Twilio3;
  RequestClient = require(`${where}/lib/base/RequestClient`);
} catch {
  console.warn("skipped: twilio-node 3.77.1 is not installed; add the devDependency \"twilio-fax-3\": \"npm:twilio@3.77.1\" to run this test");
}

describe.skipIf(twilio3 === null)("twilio-node 3.77.1's fax client against the emulator", () => {
  let emu: TestEmulator;
  beforeAll(async () => {
    emu = await startTestEmulator({ faxes: 30, accounts: 0, seed: 12 });
  });
  afterAll(() => emu?.close());

  /** A client whose every request for fax.twilio.com goes to the emulator instead. */
  function clientFor(target: TestEmulator) {
    const inner = new RequestClient!();
    const httpClient = {
      request: (options: Record<string, unknown>) => inner.request({ ...options, uri: String(options.uri).replace('https://fax.twilio.com', target.url) }),
    };
    return twilio3!(target.accountSid, target.authToken, { httpClient });
  }

  it('reads the hard world too: contradictory records, in-progress faxes, null price_unit and duration', async () => {
    const hard = await startTestEmulator({ faxes: 40, accounts: 0, seed: 13, world: { contradictoryMedia: 0.5, inProgress: 0.2 } });
    try {
      const faxes = (await clientFor(hard).fax.v1.faxes.list()) as { sid: string; status: string; mediaUrl: string | null; priceUnit: string | null }[];
      expect(faxes).toHaveLength(40);
      expect(faxes.some((f) => f.status === 'queued' || f.status === 'processing' || f.status === 'sending' || f.status === 'receiving')).toBe(true);
      expect(faxes.some((f) => f.priceUnit === null)).toBe(true);
    } finally {
      await hard.close();
    }
  });

  it('lists, fetches, reads media and deletes', async () => {
    const client = clientFor(emu);
    const faxes = (await client.fax.v1.faxes.list({ pageSize: 7 })) as { sid: string; mediaUrl: string | null; mediaSid: string | null }[];
    expect(faxes).toHaveLength(30);
    const withMedia = faxes.find((f) => f.mediaUrl)!;
    const fetched = await client.fax.v1.faxes(withMedia.sid).fetch();
    expect(fetched.sid).toBe(withMedia.sid);
    const media = await client.fax.v1.faxes(withMedia.sid).media.list();
    expect(media.map((m: { sid: string }) => m.sid)).toEqual([withMedia.mediaSid]);
    const bytes = await fetch(fetched.mediaUrl, { headers: { 'User-Agent': 'twilio-node/3.77.1' } });
    expect(bytes.status).toBe(200);
    expect((await bytes.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect(await client.fax.v1.faxes(withMedia.sid).remove()).toBe(true);
    await expect(client.fax.v1.faxes(withMedia.sid).fetch()).rejects.toMatchObject({ status: 404 });
  });
});
