/**
 * The fax filters `find` and `export` share (issue 18 §1, §4), declared once: account, numbers,
 * direction, status, created date range (whole UTC days inclusive, as --since/--until elsewhere),
 * catalog state and sid prefix. Parsing is pure and refuses bad input with one line that never
 * repeats a phone number (personal data).
 */
import type { Command } from 'commander';
import { addSharedOptions } from './shared-options.js';
import type { FaxFilter } from '../catalog/records-query.js';
import type { FaxState } from '../catalog/fax-states.js';
import { UsageError } from '../errors.js';
import { isSid } from '../sid.js';
import { parseDateFlag } from './archive-command.js';

/** Twilio's fax statuses and directions: declared with the option table, which offers them as choices. */
export { FAX_DIRECTIONS, FAX_STATUSES } from './shared-options.js';

export interface FaxFilterFlags {
  account?: string;
  from?: string;
  to?: string;
  direction?: string;
  status?: string;
  state?: string;
  since?: string;
  until?: string;
  sid?: string;
}

export function addFaxFilterOptions(command: Command): Command {
  return addSharedOptions(command, ['account', 'from', 'to', 'direction', 'status', 'state', 'filterSince', 'filterUntil', 'sid']);
}

/** A phone number as the catalog keeps it (E.164), or the text as given when it is not one (a SIP address). */
export function normalizeNumber(value: string, flag: string): string {
  const text = value.trim();
  if (text === '') throw new UsageError(`${flag} is empty`);
  const compact = text.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{1,14}$/.test(compact)) return compact;
  if (/^sip:/i.test(text)) return text;
  // Not echoed: a number is personal data, and stderr ends up in logs.
  throw new UsageError(`${flag} must be a phone number in E.164 form like +14155550100 (or a sip: address)`);
}

/** The filter the flags describe (pure). Throws UsageError with one line. */
export function faxFilterFrom(flags: FaxFilterFlags): FaxFilter {
  const filter: FaxFilter = {};
  if (flags.account !== undefined) {
    if (!isSid(flags.account, 'AC')) throw new UsageError(`--account must be an account sid (AC followed by 32 hex digits), got ${JSON.stringify(String(flags.account).slice(0, 40))}`);
    filter.accountSid = flags.account;
  }
  if (flags.from !== undefined) filter.from = normalizeNumber(flags.from, '--from');
  if (flags.to !== undefined) filter.to = normalizeNumber(flags.to, '--to');
  if (flags.direction !== undefined) filter.direction = flags.direction;
  if (flags.status !== undefined) filter.status = flags.status;
  if (flags.state !== undefined) filter.state = flags.state as FaxState;
  const since = parseDateFlag(flags.since, '--since');
  const until = parseDateFlag(flags.until, '--until', 'end');
  if (since) filter.since = since;
  if (until) filter.until = until;
  if (since && until && since > until) throw new UsageError('--since lies after --until: no fax can match');
  if (flags.sid !== undefined) {
    if (!/^FX[0-9a-fA-F]{0,32}$/.test(flags.sid)) throw new UsageError(`--sid must be FX followed by up to 32 hex digits, got ${JSON.stringify(flags.sid.slice(0, 40))}`);
    filter.sidPrefix = flags.sid;
  }
  return filter;
}

/** The filter as recorded in a provenance file or a disclosure event: what was asked, dates as ISO 8601. */
export function describeFilter(filter: FaxFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    out[name] = value instanceof Date ? value.toISOString() : String(value);
  }
  return out;
}
