/**
 * The few typed errors fax-sunset raises, and the one table that maps them to exit codes.
 * The class (not the message) says what an error means and whether a retry can help, in the
 * way rclone's fserrors do: callers branch on `instanceof`, never on message text.
 *
 * Messages are one line, say what is wrong and what to do, and never contain a secret:
 * build them from sids, paths and hosts only (see `redactSecrets` for text from outside).
 */

/** Exit codes a scheduler understands. Documented in README.md ("Exit codes"). */
export const ExitCode = {
  /** Everything asked for is done. */
  ok: 0,
  /** The run finished but some items are left to retry (failed, unverifiable, lost). */
  itemsLeft: 1,
  /** Bad usage, configuration or credentials: a rerun will not help until a person fixes it. */
  usage: 2,
  /** Another run holds the catalog's lock. */
  locked: 3,
  /** An invariant was refused or a bug was hit; nothing unproven was deleted. */
  internal: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class FaxSunsetError extends Error {
  /** Whether running the same thing again, unchanged, may succeed. */
  abstract readonly retryable: boolean;
  abstract readonly exitCode: ExitCodeValue;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line was wrong (unknown flag value, missing argument). */
export class UsageError extends FaxSunsetError {
  readonly retryable = false;
  readonly exitCode = ExitCode.usage;
}

/** The configuration cannot work (bad store URL, unwritable catalog folder, missing bucket). */
export class ConfigurationError extends FaxSunsetError {
  readonly retryable = false;
  readonly exitCode = ExitCode.usage;
}

/** Credentials are missing or refused (Twilio 20003, S3 403 on the bucket). */
export class AuthError extends FaxSunsetError {
  readonly retryable = false;
  readonly exitCode = ExitCode.usage;
}

/** Another process holds the catalog's lock. */
export class LockError extends FaxSunsetError {
  readonly retryable = true;
  readonly exitCode = ExitCode.locked;
}

/** Something tried to break an invariant (e.g. delete an unverified fax) and was refused. */
export class InvariantError extends FaxSunsetError {
  readonly retryable = false;
  readonly exitCode = ExitCode.internal;
}

/** Stored bytes do not hash to what was sent. The item is retried; the fax is never deleted. */
export class ChecksumMismatchError extends FaxSunsetError {
  readonly retryable = true;
  readonly exitCode = ExitCode.itemsLeft;
}

/**
 * The store gave no verdict on objects it was asked about (a HEAD or read kept failing): not a
 * checksum mismatch and not a reason to fetch the fax from Twilio again. The fax keeps its state
 * and a later run asks the store again (issue 14 §3).
 */
export class StoreUnavailableError extends FaxSunsetError {
  readonly retryable = true;
  readonly exitCode = ExitCode.itemsLeft;
}

/** A remote service (Twilio, the media host, S3) failed in a way a later retry may not see. */
export class ExternalServiceError extends FaxSunsetError {
  readonly retryable: boolean;
  readonly exitCode = ExitCode.itemsLeft;
  /** HTTP status when there was a response. */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable ?? true;
  }
}

/** Media bytes that are not what Twilio said they are (size, magic bytes, page count). */
export class MediaValidationError extends FaxSunsetError {
  readonly retryable = true;
  readonly exitCode = ExitCode.itemsLeft;
}

/** The one function that maps any thrown value to an exit code. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof FaxSunsetError) return error.exitCode;
  return ExitCode.internal;
}

/** Whether an error is worth retrying as it is. Unknown errors (network resets) are. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof FaxSunsetError) return error.retryable;
  return true;
}

const SECRET_PATTERNS: RegExp[] = [
  // userinfo in URLs: https://user:pass@host
  /(?<=\/\/)[^/\s:@]+:[^/\s@]+@/g,
  // Basic / Bearer authorization values, in any case ("basic ", "BASIC ")
  /(?<=\b(?:Basic|Bearer)\s+)[A-Za-z0-9+/=._-]{8,}/gi,
  // pre-signed URL signatures and credentials
  /(?<=[?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|sig|token)=)[^&\s"']+/gi,
];

/** Shorter values are not redacted by value (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 6;

/**
 * Every credential this process has learnt (the main token or key secret, each subaccount's token
 * from the Accounts list or the credentials file) and the forms it travels in: base64 of
 * `user:secret` (an Authorization header without its `Basic `), base64 of the secret alone, with
 * and without padding, standard and URL-safe. Issue 13: an echoing API put such forms, and a
 * subaccount's token, into last_error, faxes.csv, report.html, summary.json and stderr, because
 * each writer only knew the secrets it had been handed. Remembered here once, they are scrubbed
 * from every line `redactSecrets` sees, wherever the line was built.
 */
const rememberedSecrets = new Set<string>();
let rememberedIndex: SecretIndex | null = null;

/** Remembers a credential (and `user:secret` pairs when `user` is given) for every later redaction. */
export function rememberSecret(secret: string | null | undefined, user?: string): void {
  if (!secret) return;
  for (const form of secretForms(secret, user)) {
    if (form.length < MIN_SECRET_LENGTH || rememberedSecrets.has(form)) continue;
    rememberedSecrets.add(form);
    rememberedIndex = null;
  }
}

/** The forms a secret is written in: itself and its base64 encodings (alone and as `user:secret`). */
export function secretForms(secret: string, user?: string): string[] {
  const forms = new Set<string>([secret]);
  const encodings = [Buffer.from(secret, 'utf8')];
  if (user) encodings.push(Buffer.from(`${user}:${secret}`, 'utf8'));
  for (const bytes of encodings) {
    const b64 = bytes.toString('base64');
    forms.add(b64);
    forms.add(b64.replace(/=+$/, ''));
    forms.add(bytes.toString('base64url'));
  }
  return [...forms];
}

/**
 * Secret values by their first MIN_SECRET_LENGTH characters (lower-cased), longest first: a run
 * may know thousands of subaccounts' tokens, and text is scanned once, position by position, with
 * one map look-up each, instead of trying every value at every position.
 */
type SecretIndex = Map<string, string[]>;

function indexOf(values: Iterable<string>): SecretIndex {
  const index: SecretIndex = new Map();
  for (const value of new Set([...values].filter((v) => v && v.length >= MIN_SECRET_LENGTH).map((v) => v.toLowerCase()))) {
    const key = value.slice(0, MIN_SECRET_LENGTH);
    const list = index.get(key) ?? [];
    list.push(value);
    index.set(key, list);
  }
  for (const list of index.values()) list.sort((a, b) => b.length - a.length);
  return index;
}

/** Replaces every indexed value, in any letter case, with `[redacted]`. */
function redactValues(text: string, index: SecretIndex): string {
  if (index.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
  const lower = text.toLowerCase();
  if (lower.length !== text.length) {
    // Lower-casing changed the length (a rare Unicode letter): fall back to one case-insensitive pattern.
    const all = [...index.values()].flat().sort((a, b) => b.length - a.length);
    return text.replace(new RegExp(all.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi'), '[redacted]');
  }
  let out = '';
  let last = 0;
  for (let i = 0; i <= lower.length - MIN_SECRET_LENGTH; ) {
    const hit = index.get(lower.slice(i, i + MIN_SECRET_LENGTH))?.find((value) => lower.startsWith(value, i));
    if (hit) {
      out += `${text.slice(last, i)}[redacted]`;
      i += hit.length;
      last = i;
    } else {
      i++;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Removes anything that looks like a secret from text that came from outside (an error from a
 * library, a URL). Known secret values (auth tokens, keys) are removed by value, in any letter case
 * and in their base64 forms, as is every secret remembered with `rememberSecret`.
 */
export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  if (knownSecrets.length > 0) out = redactValues(out, indexOf(knownSecrets.flatMap((secret) => (secret ? secretForms(secret) : []))));
  if (rememberedSecrets.size > 0) {
    rememberedIndex ??= indexOf(rememberedSecrets);
    out = redactValues(out, rememberedIndex);
  }
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '[redacted]');
  return out;
}

/** One line for a person: the message of a known error, a short generic line otherwise. */
export function describeError(error: unknown, knownSecrets: readonly string[] = []): string {
  const raw = error instanceof Error ? plainerMessage(error) : String(error);
  return redactSecrets(raw.split('\n')[0] ?? raw, knownSecrets);
}

/**
 * Node's one-word messages say nothing to an auditor reading a failure reason (issue 17: a report
 * full of "aborted"): a body cut off mid-download is "aborted" (http) or "terminated" (fetch).
 */
function plainerMessage(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (error.message === 'aborted' || error.message === 'terminated') {
    return `the connection closed before the whole response arrived (${[code, error.message].filter(Boolean).join(', ')})`;
  }
  return error.message;
}

/** The pre-signed media URL is expired or refused (403): re-fetch the fax for a fresh one. */
export class MediaUrlExpiredError extends FaxSunsetError {
  readonly retryable = true;
  readonly exitCode = ExitCode.itemsLeft;
}
