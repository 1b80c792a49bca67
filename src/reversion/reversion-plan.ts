/**
 * The reversion plan: which fax-mode numbers go back to voice, to which destination, from exactly
 * which state; and which numbers are only reported. Built by a pure function over listed numbers so
 * every decision is tested without I/O. The plan carries its own SHA-256 (canonical JSON of the body
 * without the hash) so `apply` can refuse a plan edited after a person reviewed it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { UsageError } from '../errors.js';
import { isSid } from '../sid.js';
import { applyVoiceUpdate, type IncomingNumber, type VoiceState, type VoiceUpdate } from './voice-state.js';
import { destinationFor, type VoiceTargets } from './voice-targets.js';

export const PLAN_KIND = 'fax-sunset/numbers-plan';
/** Twilio Programmable Fax's end of life; `--deadline` overrides it. */
export const DEFAULT_DEADLINE = '2021-12-17';

export interface AccountSummary {
  sid: string;
  friendlyName: string | null;
  /** active | suspended | closed */
  status: string | null;
}

export interface PlannedChange {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  friendlyName: string | null;
  /** The full relevant state when the plan was made: the stale check compares against it. */
  before: VoiceState;
  /** Exactly what apply writes. */
  change: VoiceUpdate;
  /** What a re-fetch should show afterwards. */
  after: VoiceState;
  destination: 'url' | 'application' | 'kept-fax-url';
  warnings: string[];
}

export type ReportReason = 'already-voice' | 'no-voice-capability' | 'trunk' | 'no-destination' | 'voice-url-is-fax-url';

/** A number the plan does not change, and why. `refused` ones are fax numbers a person must decide on. */
export interface ReportedNumber {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  friendlyName: string | null;
  reason: ReportReason;
  refused: boolean;
  detail: string;
  before: VoiceState;
}

export interface PlanCounts {
  accounts: number;
  numbersListed: number;
  faxMode: number;
  toChange: number;
  refused: number;
  keptFaxUrl: number;
  alreadyVoice: number;
  noVoiceCapability: number;
  trunk: number;
  withWarnings: number;
}

export interface ReversionPlan {
  kind: typeof PLAN_KIND;
  version: 1;
  createdAt: string;
  /** YYYY-MM-DD */
  deadline: string;
  options: {
    subaccounts: boolean;
    keepVoiceUrl: boolean;
    voiceUrl: string | null;
    voiceMethod: string | null;
    voiceApplicationSid: string | null;
    mapFile: string | null;
    mapEntries: number;
  };
  accounts: AccountSummary[];
  /** Plan-wide warnings, most important first. */
  warnings: string[];
  counts: PlanCounts;
  changes: PlannedChange[];
  reported: ReportedNumber[];
  /** SHA-256 (hex) of the canonical JSON of every other field. */
  sha256: string;
}

export interface PlanOptions {
  accounts: readonly AccountSummary[];
  subaccounts: boolean;
  keepVoiceUrl: boolean;
  createdAt: Date;
  deadline: string;
  mapFile?: string | null;
}

/**
 * Decides the plan. A fax-mode number is changed only when it can take voice, is not on a trunk and
 * has a voice destination that is not its old fax URL (unless `keepVoiceUrl` says so, and then it is
 * flagged). Everything else is reported with a reason. Output order is stable (account, number).
 */
export function buildReversionPlan(numbers: readonly IncomingNumber[], targets: VoiceTargets, options: PlanOptions): ReversionPlan {
  parseDeadline(options.deadline);
  const changes: PlannedChange[] = [];
  const reported: ReportedNumber[] = [];
  const accountStatus = new Map(options.accounts.map((account) => [account.sid, account.status]));
  const sorted = [...numbers].sort((a, b) => a.accountSid.localeCompare(b.accountSid) || a.phoneNumber.localeCompare(b.phoneNumber) || a.sid.localeCompare(b.sid));

  for (const number of sorted) {
    const before = number.state;
    const base = { accountSid: number.accountSid, sid: number.sid, phoneNumber: number.phoneNumber, friendlyName: number.friendlyName, before };
    if (before.voiceReceiveMode !== 'fax') {
      reported.push({ ...base, reason: 'already-voice', refused: false, detail: `voice_receive_mode is ${before.voiceReceiveMode ?? 'unset'}; nothing to do` });
      continue;
    }
    if (!number.voiceCapable) {
      reported.push({ ...base, reason: 'no-voice-capability', refused: false, detail: 'capabilities.voice is false: the number cannot take voice calls; release or port it instead' });
      continue;
    }
    if (before.trunkSid) {
      reported.push({ ...base, reason: 'trunk', refused: false, detail: `belongs to trunk ${before.trunkSid}: the trunk routes its calls; change it there` });
      continue;
    }
    const destination = destinationFor(targets, number);
    const warnings: string[] = [];
    let change: VoiceUpdate;
    let kind: PlannedChange['destination'];
    if (destination === null) {
      if (!options.keepVoiceUrl) {
        reported.push({ ...base, reason: 'no-destination', refused: true, detail: 'no voice destination given (--voice-url, --voice-application-sid or a --map row): refused, or it would keep its fax URL' });
        continue;
      }
      change = { voiceReceiveMode: 'voice' };
      kind = 'kept-fax-url';
      warnings.push(`KEEPS ITS FAX URL as its voice URL (--keep-voice-url): callers will reach ${before.voiceUrl ?? '(no URL)'}`);
    } else if (destination.kind === 'url') {
      if (sameUrl(destination.voiceUrl, before.voiceUrl) && !options.keepVoiceUrl) {
        reported.push({ ...base, reason: 'voice-url-is-fax-url', refused: true, detail: 'the voice URL given is its current fax URL: callers would reach the fax handler; refused without --keep-voice-url' });
        continue;
      }
      change = { voiceReceiveMode: 'voice', voiceUrl: destination.voiceUrl, voiceMethod: destination.voiceMethod };
      // A voice application overrides the URL; clear it or the new URL never answers.
      if (before.voiceApplicationSid) {
        change.voiceApplicationSid = '';
        warnings.push(`clears voice_application_sid ${before.voiceApplicationSid} so the new voice URL takes effect`);
      }
      kind = sameUrl(destination.voiceUrl, before.voiceUrl) ? 'kept-fax-url' : 'url';
      if (kind === 'kept-fax-url') warnings.push(`KEEPS ITS FAX URL as its voice URL (--keep-voice-url): callers will reach ${before.voiceUrl}`);
    } else {
      change = { voiceReceiveMode: 'voice', voiceApplicationSid: destination.voiceApplicationSid };
      kind = 'application';
      if (before.voiceUrl) warnings.push(`voice_url still holds the fax URL ${before.voiceUrl}; it is ignored while the application is set`);
    }
    if (before.voiceFallbackUrl) warnings.push(`voice_fallback_url ${before.voiceFallbackUrl} stays: callers reach it when the voice destination fails`);
    const status = accountStatus.get(number.accountSid);
    if (status && status !== 'active') warnings.push(`account ${number.accountSid} is ${status}: the update may be refused`);
    changes.push({ ...base, change, after: applyVoiceUpdate(before, change), destination: kind, warnings });
  }

  const counts: PlanCounts = {
    accounts: options.accounts.length,
    numbersListed: numbers.length,
    faxMode: numbers.filter((n) => n.state.voiceReceiveMode === 'fax').length,
    toChange: changes.length,
    refused: reported.filter((r) => r.refused).length,
    keptFaxUrl: changes.filter((c) => c.destination === 'kept-fax-url').length,
    alreadyVoice: reported.filter((r) => r.reason === 'already-voice').length,
    noVoiceCapability: reported.filter((r) => r.reason === 'no-voice-capability').length,
    trunk: reported.filter((r) => r.reason === 'trunk').length,
    withWarnings: changes.filter((c) => c.warnings.length > 0).length,
  };
  const days = daysUntilDeadline(options.deadline, options.createdAt);
  const warnings: string[] = [];
  if (days < 0) warnings.push(`The deadline ${options.deadline} is PAST (${-days} day${-days === 1 ? '' : 's'} ago).`);
  if (counts.refused > 0) warnings.push(`${counts.refused} fax number${counts.refused === 1 ? ' is' : 's are'} REFUSED (no safe voice destination) and will stay in fax mode: see "Not changed".`);
  if (counts.keptFaxUrl > 0) warnings.push(`${counts.keptFaxUrl} number${counts.keptFaxUrl === 1 ? '' : 's'} will keep the fax URL as the voice URL (--keep-voice-url): callers will reach a fax handler.`);
  if (counts.noVoiceCapability + counts.trunk > 0) warnings.push(`${counts.noVoiceCapability + counts.trunk} fax number${counts.noVoiceCapability + counts.trunk === 1 ? '' : 's'} cannot be reverted here (no voice capability, or on a trunk).`);

  const defaultDestination = targets.defaultDestination;
  const body: Omit<ReversionPlan, 'sha256'> = {
    kind: PLAN_KIND,
    version: 1,
    createdAt: options.createdAt.toISOString(),
    deadline: options.deadline,
    options: {
      subaccounts: options.subaccounts,
      keepVoiceUrl: options.keepVoiceUrl,
      voiceUrl: defaultDestination?.kind === 'url' ? defaultDestination.voiceUrl : null,
      voiceMethod: defaultDestination?.kind === 'url' ? defaultDestination.voiceMethod : null,
      voiceApplicationSid: defaultDestination?.kind === 'application' ? defaultDestination.voiceApplicationSid : null,
      mapFile: options.mapFile ?? null,
      mapEntries: targets.byNumber.size,
    },
    accounts: [...options.accounts],
    warnings,
    counts,
    changes,
    reported,
  };
  return { ...body, sha256: planSha256(body) };
}

export { canonicalJson };

/** SHA-256 over the canonical JSON of the plan without its `sha256` field. */
export function planSha256(plan: Omit<ReversionPlan, 'sha256'> | ReversionPlan): string {
  const { sha256: _ignored, ...body } = plan as ReversionPlan;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/**
 * Refuses a plan whose content no longer hashes to its recorded hash (edited after it was made), or
 * whose hash is not the one the reviewer approved (`expectSha256`). UsageError: a person must act.
 *
 * The approved hash is plan.json's own SHA-256 (`fileSha256`, what `sha256sum plan.json` prints and
 * plan.md shows) when the plan was read from a file; without a file, the recorded content hash.
 */
export function checkPlanIntegrity(plan: ReversionPlan, expectSha256?: string | null, fileSha256?: string): void {
  const actual = planSha256(plan);
  if (actual !== plan.sha256) {
    throw new UsageError(`the plan was edited after its hash was taken (recorded ${plan.sha256.slice(0, 12)}…, content ${actual.slice(0, 12)}…): make a new plan and review it`);
  }
  if (!expectSha256) return;
  const expected = expectSha256.trim().toLowerCase();
  const approvable = fileSha256 ?? actual;
  if (expected === approvable) return;
  if (fileSha256 && expected === plan.sha256) {
    throw new UsageError(`${expected.slice(0, 12)}… is the content hash recorded inside plan.json, not the file's: the approved hash is the file's SHA-256 (sha256sum plan.json: ${fileSha256}), as plan.md shows`);
  }
  throw new UsageError(`the plan's SHA-256${fileSha256 ? ' (sha256sum plan.json)' : ''} is ${approvable}, not the approved ${expectSha256.trim()}: refusing a plan other than the one reviewed`);
}

/** Whole days from `now` (UTC date) to the deadline (UTC date); negative once it has passed. */
export function daysUntilDeadline(deadline: string, now: Date): number {
  const deadlineDay = parseDeadline(deadline);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((deadlineDay - today) / 86_400_000);
}

function parseDeadline(deadline: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(deadline);
  const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== deadline) {
    throw new UsageError(`--deadline must be a date YYYY-MM-DD, got ${JSON.stringify(deadline)}`);
  }
  return time;
}

function sameUrl(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  return a.trim().replace(/\/+$/, '') === b.trim().replace(/\/+$/, '');
}

/**
 * Reads a plan from parsed JSON, checking the shape and every sid (they go into request URLs).
 * Does not check the hash: `checkPlanIntegrity` does.
 */
export function parsePlan(json: unknown, fileName = 'plan.json'): ReversionPlan {
  const fail = (what: string): never => {
    throw new UsageError(`${fileName} is not a fax-sunset numbers plan: ${what}`);
  };
  if (!json || typeof json !== 'object') fail('not a JSON object');
  const plan = json as Partial<ReversionPlan>;
  if (plan.kind !== PLAN_KIND) fail(`kind is ${JSON.stringify(plan.kind)}`);
  if (plan.version !== 1) fail(`unsupported version ${JSON.stringify(plan.version)}`);
  if (typeof plan.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(plan.sha256)) fail('sha256 missing');
  if (!Array.isArray(plan.changes) || !Array.isArray(plan.reported)) fail('changes/reported missing');
  for (const [index, change] of (plan.changes ?? []).entries()) {
    if (!isSid(change?.accountSid, 'AC') || !isSid(change?.sid, 'PN')) fail(`changes[${index}] has an invalid account or number sid`);
    if (!change.before || !change.change || !change.after) fail(`changes[${index}] lacks before/change/after`);
  }
  return plan as ReversionPlan;
}
