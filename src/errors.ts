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
  // Basic / Bearer authorization values
  /(?<=\b(?:Basic|Bearer)\s)[A-Za-z0-9+/=._-]{8,}/g,
  // pre-signed URL signatures and credentials
  /(?<=[?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|sig|token)=)[^&\s"']+/gi,
];

/**
 * Removes anything that looks like a secret from text that came from outside (an error from a
 * library, a URL). Known secret values (auth tokens, keys) are removed by exact match as well.
 */
export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
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
