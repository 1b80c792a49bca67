/**
 * Test hooks that change the world the way Twilio would have without a client asking: a new fax,
 * a late change to one (newer date_updated, new media), a fax pruned after 180 days. Used by the
 * control surface and by RunningEmulator's in-process accessors; every change is journaled.
 */
import type { EmulatorContext } from './emulator-context.js';
import {
  FAX_STATUSES,
  type FaxContentType,
  type FaxDirection,
  type FaxQuality,
  type FaxRecord,
  type FaxStatus,
} from './emulator-records.js';
import { SeededRandom } from './seeded-random.js';
import { priceFor, randomE164 } from './world-generator.js';

export interface NewFaxInput {
  /** Default: the main account. */
  accountSid?: string;
  status?: FaxStatus;
  direction?: FaxDirection;
  from?: string;
  to?: string;
  numPages?: number;
  quality?: FaxQuality;
  contentType?: FaxContentType;
  /** ISO 8601; default the emulator's clock. */
  dateCreated?: string;
  /** Default: media exactly when the status is delivered or received. */
  withMedia?: boolean;
}

export interface FaxChange {
  status?: FaxStatus;
  numPages?: number;
  /** ISO 8601; default the emulator's clock (never earlier than the current date_updated + 1 s). */
  dateUpdated?: string;
  /** New media bytes (and a new media sid) for the fax; false removes its media. */
  media?: 'changed' | false;
}

function parseIso(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`${name} is not a date: ${value}`);
  return Math.floor(ms / 1000) * 1000;
}

function checkStatus(status: string): FaxStatus {
  if (!FAX_STATUSES.includes(status as FaxStatus)) throw new RangeError(`unknown fax status ${status}`);
  return status as FaxStatus;
}

export function createFax(ctx: EmulatorContext, input: NewFaxInput): FaxRecord {
  const accountSid = input.accountSid ?? ctx.state.mainAccount.sid;
  if (!ctx.state.account(accountSid)) throw new RangeError(`unknown account ${accountSid}`);
  const sid = ctx.state.newSid('FX');
  const rng = new SeededRandom(ctx.options.seed, sid);
  const direction = input.direction ?? 'inbound';
  const status = checkStatus(input.status ?? (direction === 'inbound' ? 'received' : 'delivered'));
  const ok = status === 'delivered' || status === 'received';
  const withMedia = input.withMedia ?? ok;
  const pages = input.numPages ?? (ok || withMedia ? rng.int(1, 4) : null);
  const own = ctx.state.numbersOf(accountSid)[0]?.phoneNumber ?? randomE164(rng);
  const remote = randomE164(rng);
  const createdMs = parseIso(input.dateCreated, Math.floor(ctx.clock.now() / 1000) * 1000, 'dateCreated');
  const duration = pages === null ? 0 : pages * 30;
  return ctx.state.putFax({
    sid,
    accountSid,
    from: input.from ?? (direction === 'inbound' ? remote : own),
    to: input.to ?? (direction === 'inbound' ? own : remote),
    quality: input.quality ?? 'fine',
    direction,
    status,
    numPages: pages,
    duration,
    price: ok && pages !== null ? priceFor(direction, pages) : null,
    createdMs,
    updatedMs: createdMs + duration * 1000,
    mediaSid: withMedia ? ctx.state.newSid('ME') : null,
    contentType: input.contentType ?? 'application/pdf',
    mediaRevision: 0,
  });
}

export function updateFax(ctx: EmulatorContext, sid: string, change: FaxChange): FaxRecord | null {
  const fax = ctx.state.faxes.get(sid);
  if (!fax) return null;
  const next: FaxRecord = { ...fax };
  if (change.status !== undefined) next.status = checkStatus(change.status);
  if (change.numPages !== undefined) next.numPages = change.numPages;
  if (change.media === 'changed') {
    next.mediaSid = ctx.state.newSid('ME');
    next.mediaRevision = fax.mediaRevision + 1;
  } else if (change.media === false) {
    next.mediaSid = null;
  }
  const now = Math.floor(ctx.clock.now() / 1000) * 1000;
  next.updatedMs = parseIso(change.dateUpdated, Math.max(now, fax.updatedMs + 1000), 'dateUpdated');
  return ctx.state.putFax(next);
}

/** The fax vanishes without a DELETE, as Twilio's 180-day pruning removed fax and media. */
export function pruneFax(ctx: EmulatorContext, sid: string): boolean {
  return ctx.state.deleteFax(sid);
}
