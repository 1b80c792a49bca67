/**
 * Issue 14 §6: one canonical JSON where there were three (the event chain's, the reversion plan's,
 * the sidecar's). Each feeds a hash an auditor may recompute, so the one definition must give the
 * same bytes as each of the three did: proven here over the v1 catalog fixture (its stored event
 * texts and hashes, its faxes' Twilio JSON) and over an emulated world's fax and number JSON,
 * against the three definitions as they were written before (kept below, verbatim but for names).
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/canonical-json.js';
import { eventHash, GENESIS_HASH } from '../../src/catalog/event-chain.js';
import { faxJson, phoneNumberJson } from '../../src/emulator/twilio-json.js';
import { generateWorld } from '../../src/emulator/world-generator.js';
import { sanitizeFaxJson, sidecarFor } from '../../src/archive/fax-metadata.js';
import { buildReversionPlan, planSha256 } from '../../src/reversion/reversion-plan.js';
import { voiceStateFrom } from '../../src/reversion/voice-state.js';
import { defaultDestinationFrom, parseNumberMap } from '../../src/reversion/voice-targets.js';

const FIXTURE = fileURLToPath(new URL('../catalog/fixtures/catalog-v1.sqlite', import.meta.url));

/** src/catalog/event-chain.ts before issue 14. */
function eventChainCanonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v as Record<string, unknown>).sort()) {
        const child = (v as Record<string, unknown>)[key];
        if (child !== undefined) out[key] = sortKeys(child);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

/** src/reversion/reversion-plan.ts before issue 14. */
function planCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => planCanonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${planCanonicalJson(v)}`).join(',')}}`;
}

/** The sidecar's bytes as src/pipeline/fax-metadata.ts wrote them before issue 14. */
function oldSidecarBytes(fax: Record<string, unknown>): Buffer {
  const canonicalize = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonicalize);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v as Record<string, unknown>).sort()) out[key] = canonicalize((v as Record<string, unknown>)[key]);
      return out;
    }
    return v;
  };
  return Buffer.from(JSON.stringify(canonicalize(sanitizeFaxJson(fax)), null, 2) + '\n', 'utf8');
}

function fixtureRows<T>(sql: string): T[] {
  const db = new Database(FIXTURE, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Twilio JSON the product handles today: the fixture catalog's faxes and an emulated world's faxes and numbers. */
function twilioJsonSamples(): Record<string, unknown>[] {
  const fromCatalog = fixtureRows<{ raw: string }>('SELECT raw FROM faxes ORDER BY sid').map((r) => JSON.parse(r.raw) as Record<string, unknown>);
  const world = generateWorld({ seed: 1414, faxes: 60, numbers: 6, accounts: 2, nowMs: Date.parse('2021-12-01T00:00:00Z') });
  const faxes = world.faxes.map((fax) => faxJson(fax, 'https://fax.twilio.com', `https://media.example.com/${fax.sid}?X-Amz-Signature=abc`));
  const numbers = world.numbers.map((n) => phoneNumberJson(n));
  return [...fromCatalog, ...faxes, ...numbers];
}

describe('one canonical JSON, the same bytes as each of the three it replaces', () => {
  it('reproduces every event text and hash stored in the v1 catalog fixture', () => {
    const events = fixtureRows<{ id: number; at: string; type: string; fax_sid: string | null; data: string; prev_hash: string; hash: string }>(
      'SELECT id, at, type, fax_sid, data, prev_hash, hash FROM events ORDER BY id',
    );
    expect(events.length).toBeGreaterThan(10);
    let prev = GENESIS_HASH;
    for (const event of events) {
      const data = JSON.parse(event.data) as Record<string, unknown>;
      expect(canonicalJson(data), `event ${event.id}`).toBe(event.data);
      expect(event.prev_hash).toBe(prev);
      expect(eventHash(prev, { id: event.id, at: event.at, type: event.type, faxSid: event.fax_sid, data }), `event ${event.id}`).toBe(event.hash);
      prev = event.hash;
    }
  });

  it('compact: as the event chain and the reversion plan rendered Twilio JSON; indented: the sidecar bytes', () => {
    const samples = twilioJsonSamples();
    expect(samples.length).toBeGreaterThan(60);
    for (const sample of samples) {
      const text = canonicalJson(sample);
      expect(text).toBe(eventChainCanonicalJson(sample));
      expect(text).toBe(planCanonicalJson(sample));
      if (typeof sample.sid === 'string' && sample.sid.startsWith('FX')) {
        expect(sidecarFor(sample).bytes.equals(oldSidecarBytes(sample)), String(sample.sid)).toBe(true);
      }
    }
    // Members left undefined, nulls, nesting and key order that only sorting fixes.
    const edge = { z: [1, { y: null, x: undefined, w: [] }], a: undefined, 'B': 'x', b: { d: 2, c: [null] } };
    expect(canonicalJson(edge)).toBe(planCanonicalJson(edge));
    expect(canonicalJson(edge)).toBe(eventChainCanonicalJson(edge));
    expect(canonicalJson(edge)).toBe('{"B":"x","b":{"c":[null],"d":2},"z":[1,{"w":[],"y":null}]}');
  });

  it("a reversion plan's sha256 is the one computed with the plan's own definition before", () => {
    const account = `AC${'a'.repeat(32)}`;
    const numbers = [1, 2, 3].map((n) => ({
      accountSid: account,
      sid: `PN${n.toString(16).padStart(32, '0')}`,
      phoneNumber: `+1555000000${n}`,
      friendlyName: n === 2 ? null : `line ${n}`,
      voiceCapable: n !== 3,
      state: voiceStateFrom({ voiceReceiveMode: 'fax', voiceUrl: 'https://fax.example.com/in', voiceMethod: 'POST', voiceFallbackUrl: '', voiceApplicationSid: '', trunkSid: null }),
    }));
    const plan = buildReversionPlan(numbers, { defaultDestination: defaultDestinationFrom({ voiceUrl: 'https://voice.example.com/a' }), byNumber: parseNumberMap('') }, {
      accounts: [{ sid: account, friendlyName: 'main', status: 'active' }],
      subaccounts: false,
      keepVoiceUrl: false,
      createdAt: new Date('2021-12-01T12:00:00Z'),
      deadline: '2021-12-17',
    });
    const { sha256, ...body } = plan;
    const before = createHash('sha256').update(planCanonicalJson(body)).digest('hex');
    expect(sha256).toBe(before);
    expect(planSha256(plan)).toBe(before);
  });
});
