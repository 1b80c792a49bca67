/**
 * Builds the emulated accounts, numbers and faxes from a seed: the same options always give the
 * same sids, tokens, dates and media. Distributions aim at a realistic fax account (mostly
 * delivered/received, some failed/canceled/no-answer/busy without media, ~70% PDF).
 */
import { SeededRandom } from './seeded-random.js';
import type {
  EmulatorAccount,
  FaxContentType,
  FaxDirection,
  FaxQuality,
  FaxRecord,
  FaxStatus,
  PhoneNumberRecord,
} from './emulator-records.js';

export interface WorldSize {
  seed: number;
  faxes: number;
  numbers: number;
  /** Subaccounts besides the main account. */
  accounts: number;
  nowMs: number;
}

export interface GeneratedWorld {
  accounts: EmulatorAccount[];
  numbers: PhoneNumberRecord[];
  faxes: FaxRecord[];
}

const DAY_MS = 86_400_000;
/** Twilio keeps faxes 180 days: nothing older can exist. */
export const RETENTION_MS = 180 * DAY_MS;

const OUTBOUND_STATUSES: readonly (readonly [FaxStatus, number])[] = [
  ['delivered', 80], ['failed', 8], ['no-answer', 5], ['busy', 4], ['canceled', 3],
];
const INBOUND_STATUSES: readonly (readonly [FaxStatus, number])[] = [['received', 92], ['failed', 5], ['canceled', 3]];
const QUALITIES: readonly (readonly [FaxQuality, number])[] = [['fine', 60], ['standard', 30], ['superfine', 10]];
const CONTENT_TYPES: readonly (readonly [FaxContentType, number])[] = [['application/pdf', 70], ['image/tiff', 30]];
const AREA_CODES = ['212', '312', '415', '503', '617', '646', '702', '737', '805', '919'];

export function randomE164(rng: SeededRandom): string {
  return `+1${rng.pick(AREA_CODES)}${rng.int(200, 999)}${String(rng.int(0, 9999)).padStart(4, '0')}`;
}

/** Pages of a delivered fax: mostly short, a long tail up to 20 (real faxes are rarely longer). */
export function randomPageCount(rng: SeededRandom): number {
  return rng.weighted([[1, 30], [2, 22], [3, 14], [4, 9], [5, 7], [rng.int(6, 10), 12], [rng.int(11, 20), 6]]);
}

/** Twilio billed per page; the payloads carried prices as strings. */
export function priceFor(direction: FaxDirection, pages: number): string {
  const perPage = direction === 'outbound' ? 0.014 : 0.007;
  return (perPage * pages).toFixed(3);
}

export function generateWorld(size: WorldSize): GeneratedWorld {
  const rng = new SeededRandom(size.seed, 'world');
  const accounts: EmulatorAccount[] = [];
  const mainSid = rng.sid('AC');
  for (let i = 0; i <= size.accounts; i++) {
    const sid = i === 0 ? mainSid : rng.sid('AC');
    accounts.push({
      sid,
      authToken: rng.hex(32),
      friendlyName: i === 0 ? 'Main fax account' : `Clinic ${i}`,
      ownerAccountSid: mainSid,
      createdMs: Math.floor((size.nowMs - 3 * 365 * DAY_MS + i * DAY_MS) / 1000) * 1000,
      apiKeySid: rng.sid('SK'),
      apiKeySecret: rng.hex(32),
      apiKeyKind: 'standard',
      status: 'active',
      closedMs: null,
    });
  }

  const numbers: PhoneNumberRecord[] = [];
  for (let i = 0; i < size.numbers; i++) {
    const account = accounts[i % accounts.length] as EmulatorAccount;
    // Two in three numbers take faxes: the ones the migration has to revert to voice.
    const faxMode = i % 3 !== 2;
    const sid = rng.sid('PN');
    const createdMs = Math.floor((size.nowMs - rng.int(200, 900) * DAY_MS) / 1000) * 1000;
    numbers.push({
      sid,
      accountSid: account.sid,
      phoneNumber: randomE164(rng),
      friendlyName: faxMode ? `Fax line ${i + 1}` : `Front desk ${i + 1}`,
      voiceReceiveMode: faxMode ? 'fax' : 'voice',
      voiceUrl: faxMode ? `https://fax.example.com/twiml/${i + 1}` : `https://voice.example.com/ivr/${i + 1}`,
      voiceMethod: 'POST',
      voiceFallbackUrl: '',
      voiceFallbackMethod: 'POST',
      voiceApplicationSid: '',
      smsUrl: '',
      statusCallback: '',
      createdMs,
      updatedMs: createdMs,
    });
  }

  const faxes: FaxRecord[] = [];
  const accountWeights = accounts.map((a, i) => [a, i === 0 ? 2 : 1] as const);
  const numbersOf = new Map<string, PhoneNumberRecord[]>(accounts.map((a) => [a.sid, numbers.filter((n) => n.accountSid === a.sid)]));
  for (let i = 0; i < size.faxes; i++) {
    const account = rng.weighted(accountWeights);
    const own = numbersOf.get(account.sid) ?? [];
    const ownNumber = own.length > 0 ? rng.pick(own).phoneNumber : randomE164(rng);
    const remote = randomE164(rng);
    const direction: FaxDirection = rng.next() < 0.6 ? 'inbound' : 'outbound';
    const status = rng.weighted(direction === 'inbound' ? INBOUND_STATUSES : OUTBOUND_STATUSES);
    const ok = status === 'delivered' || status === 'received';
    const pages = ok ? randomPageCount(rng) : null;
    const createdMs = Math.floor((size.nowMs - rng.next() * (RETENTION_MS - DAY_MS)) / 1000) * 1000;
    const duration = ok ? (pages as number) * rng.int(25, 60) : status === 'canceled' ? 0 : rng.int(5, 60);
    faxes.push({
      sid: rng.sid('FX'),
      accountSid: account.sid,
      from: direction === 'inbound' ? remote : ownNumber,
      to: direction === 'inbound' ? ownNumber : remote,
      quality: rng.weighted(QUALITIES),
      direction,
      status,
      numPages: pages,
      duration,
      price: ok ? priceFor(direction, pages as number) : null,
      createdMs,
      updatedMs: createdMs + (duration + rng.int(1, 30)) * 1000,
      mediaSid: ok ? rng.sid('ME') : null,
      contentType: rng.weighted(CONTENT_TYPES),
      mediaRevision: 0,
    });
  }
  return { accounts, numbers, faxes };
}
