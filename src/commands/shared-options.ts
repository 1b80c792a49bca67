/**
 * The options every command shares, declared once (name, default, help, environment variable), in
 * the way rclone declares its flags in one table. Commands add the ones they use with `addSharedOptions`.
 */
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';

export interface SharedOptionSpec {
  flags: string;
  description: string;
  env?: string;
  defaultValue?: string | boolean;
}

export const SHARED_OPTIONS = {
  catalog: { flags: '--catalog <path>', description: 'the SQLite catalog', env: 'FAX_SUNSET_CATALOG', defaultValue: './fax-archive/catalog.sqlite' },
  store: { flags: '--store <url>', description: 'where media goes: s3://bucket/prefix, file:///dir or a path', env: 'FAX_SUNSET_STORE', defaultValue: './fax-archive/media' },
  twilioUrl: { flags: '--twilio-url <url>', description: 'send every Twilio request to this origin (an emulator)', env: 'FAX_SUNSET_TWILIO_URL' },
  concurrency: { flags: '--concurrency <n>', description: 'Twilio requests in flight at once', env: 'FAX_SUNSET_CONCURRENCY', defaultValue: '8' },
  rps: { flags: '--rps <n>', description: 'Twilio requests per second (token bucket)', env: 'FAX_SUNSET_RPS', defaultValue: '50' },
  mediaConcurrency: { flags: '--media-concurrency <n>', description: 'media downloads at once', env: 'FAX_SUNSET_MEDIA_CONCURRENCY', defaultValue: '16' },
  dryRun: { flags: '--dry-run', description: 'show what would happen; write nothing to Twilio or the store' },
  json: { flags: '--json', description: 'machine-readable output: one JSON summary line on stdout, progress as JSON lines on stderr' },
  quiet: { flags: '--quiet', description: 'print only errors and the final summary' },
  credentials: {
    flags: '--credentials <file>',
    description: 'each subaccount\'s own credentials ("ACsid authToken" or "ACsid SKkey secret" per line, or JSON; mode 0600): needed with an API key',
    env: 'FAX_SUNSET_CREDENTIALS',
  },
} as const satisfies Record<string, SharedOptionSpec>;

export type SharedOptionName = keyof typeof SHARED_OPTIONS;

export function sharedOption(name: SharedOptionName): Option {
  const spec: SharedOptionSpec = SHARED_OPTIONS[name];
  const option = new Option(spec.flags, spec.description);
  if (spec.env) option.env(spec.env);
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  return option;
}

/** An option's default as the table declares it (for code that reads a flag its command may not take). */
export function optionDefault(name: SharedOptionName): string {
  const spec: SharedOptionSpec = SHARED_OPTIONS[name];
  if (spec.defaultValue === undefined) throw new Error(`--${name} has no default`);
  return String(spec.defaultValue);
}

export function addSharedOptions(command: Command, names: readonly SharedOptionName[]): Command {
  for (const name of names) command.addOption(sharedOption(name));
  return command;
}

/** Parses a positive integer flag value, or throws UsageError naming the flag. */
export function parsePositiveInt(value: unknown, flag: string, { allowZero = false } = {}): number {
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(String(value))}`);
  }
  return n;
}

/** Parses a positive number flag value (e.g. --rps 2.5). */
export function parsePositiveNumber(value: unknown, flag: string): number {
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(String(value))}`);
  return n;
}
