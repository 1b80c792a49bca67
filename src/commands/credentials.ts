/**
 * Twilio credentials come only from the environment, never from flags (flags end up in shell
 * history and process listings): the main account's from TWILIO_*, and the subaccounts' (needed
 * when the main account uses an API key, which Twilio never lets reach a subaccount) from a file
 * named by `--credentials FILE` or FAX_SUNSET_CREDENTIALS, readable by its owner only.
 */
import { readFileSync, statSync } from 'node:fs';
import { AuthError, ConfigurationError, rememberSecret } from '../errors.js';
import { isSid } from '../sid.js';

export interface TwilioCredentials {
  accountSid: string;
  /** Basic-auth user: the account sid, or an API key sid (SK...). */
  username: string;
  /** Basic-auth password: the auth token or API key secret. A secret: never print it. */
  password: string;
}

export function twilioCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): TwilioCredentials {
  const accountSid = env.TWILIO_ACCOUNT_SID?.trim();
  if (!accountSid) throw new AuthError('TWILIO_ACCOUNT_SID is not set (and TWILIO_AUTH_TOKEN, or TWILIO_API_KEY + TWILIO_API_SECRET)');
  if (!isSid(accountSid, 'AC')) throw new AuthError('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  const apiKey = env.TWILIO_API_KEY?.trim();
  const apiSecret = env.TWILIO_API_SECRET?.trim();
  if (apiKey || apiSecret) {
    if (!apiKey || !apiSecret) throw new AuthError('TWILIO_API_KEY and TWILIO_API_SECRET must be set together');
    if (!isSid(apiKey, 'SK')) throw new AuthError('TWILIO_API_KEY must be SK followed by 32 hex digits');
    rememberSecret(apiSecret, apiKey);
    rememberSecret(env.TWILIO_AUTH_TOKEN?.trim(), accountSid);
    return { accountSid, username: apiKey, password: apiSecret };
  }
  const authToken = env.TWILIO_AUTH_TOKEN?.trim();
  if (!authToken) throw new AuthError('TWILIO_AUTH_TOKEN is not set (or use TWILIO_API_KEY + TWILIO_API_SECRET)');
  rememberSecret(authToken, accountSid);
  return { accountSid, username: accountSid, password: authToken };
}

/** One account's credentials from the credentials file. */
export interface AccountCredentialEntry {
  accountSid: string;
  /** The account sid (with its auth token) or an API key sid of that account (SK...). */
  username: string;
  /** Auth token or API key secret. A secret: never print it. */
  password: string;
  /** The auth token when the entry gives one (serve checks webhook signatures with it). */
  authToken: string | null;
}

export const CREDENTIALS_ENV = 'FAX_SUNSET_CREDENTIALS';

/** How to give a credential, for the one line that says one is missing. */
export const CREDENTIALS_HINT =
  `list each as "ACsid authToken" (or "ACsid SKkey secret") in a file readable only by you (chmod 600), ` +
  `given by --credentials FILE or ${CREDENTIALS_ENV}=FILE`;

/**
 * The credentials file named by `--credentials` or FAX_SUNSET_CREDENTIALS, or an empty map when
 * neither is set. One account per line (`ACsid authToken`, or `ACsid SKkey secret`; spaces, commas
 * or colons between; `#` comments), or JSON: `[{"accountSid","authToken"}|{"accountSid","apiKey","apiSecret"}]`
 * or `{"ACsid": "authToken" | {"authToken"} | {"apiKey","apiSecret"}}`. Refused unless it is a
 * regular file of mode 0600 (or stricter). Errors name the file and a line number, never a value.
 */
export function credentialsFromFile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, AccountCredentialEntry> {
  const path = flag?.trim() || env[CREDENTIALS_ENV]?.trim();
  if (!path) return new Map();
  const source = flag?.trim() ? '--credentials' : CREDENTIALS_ENV;
  let mode: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigurationError(`${source}: ${path} is not a regular file`);
    mode = stat.mode & 0o777;
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`${source}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigurationError(`${source}: ${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); it holds secrets: chmod 600 ${path}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`${source}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const entries = text.trimStart().startsWith('[') || text.trimStart().startsWith('{')
    ? credentialsFromJson(text, path)
    : credentialsFromLines(text, path);
  const out = new Map<string, AccountCredentialEntry>();
  for (const entry of entries) {
    rememberSecret(entry.password, entry.username);
    out.set(entry.accountSid, entry);
  }
  // The file as a whole is a secret too: a line of it echoed somewhere is scrubbed.
  for (const line of text.split('\n')) if (line.trim().length >= 16 && !line.trim().startsWith('#')) rememberSecret(line.trim());
  return out;
}

function entryFrom(accountSid: unknown, apiKey: unknown, secret: unknown, where: string): AccountCredentialEntry {
  if (!isSid(accountSid, 'AC')) throw new ConfigurationError(`${where}: the account must be AC followed by 32 hex digits`);
  if (typeof secret !== 'string' || secret.trim() === '') throw new ConfigurationError(`${where}: no auth token or API key secret for ${accountSid}`);
  if (apiKey !== undefined && apiKey !== null) {
    if (!isSid(apiKey, 'SK')) throw new ConfigurationError(`${where}: the API key of ${accountSid} must be SK followed by 32 hex digits`);
    return { accountSid, username: apiKey, password: secret.trim(), authToken: null };
  }
  return { accountSid, username: accountSid, password: secret.trim(), authToken: secret.trim() };
}

function credentialsFromLines(text: string, path: string): AccountCredentialEntry[] {
  const out: AccountCredentialEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `credentials file ${path} line ${index + 1}`;
    const parts = line.split(/[\s,:]+/).filter((p) => p !== '');
    if (parts.length === 2) out.push(entryFrom(parts[0], undefined, parts[1], where));
    else if (parts.length === 3) out.push(entryFrom(parts[0], parts[1], parts[2], where));
    else throw new ConfigurationError(`${where}: expected "ACsid authToken" or "ACsid SKkey secret"`);
  });
  return out;
}

function credentialsFromJson(text: string, path: string): AccountCredentialEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`credentials file ${path} is not valid JSON`);
  }
  const where = (n: string | number) => `credentials file ${path} entry ${n}`;
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      const e = (item ?? {}) as Record<string, unknown>;
      return entryFrom(e.accountSid, e.apiKey, e.apiKey !== undefined ? e.apiSecret : e.authToken, where(i + 1));
    });
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([sid, item], i) => {
      if (typeof item === 'string') return entryFrom(sid, undefined, item, where(i + 1));
      const e = (item ?? {}) as Record<string, unknown>;
      return entryFrom(sid, e.apiKey, e.apiKey !== undefined ? e.apiSecret : e.authToken, where(i + 1));
    });
  }
  throw new ConfigurationError(`credentials file ${path}: expected a list or an object of accounts`);
}
