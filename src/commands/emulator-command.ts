/**
 * `fax-sunset emulator`: runs the local Twilio emulator until SIGINT/SIGTERM. Once both hosts
 * listen it prints one JSON line, `{"url","mediaUrl","accounts":[{sid,authToken,friendlyName,status}...],
 * "apiKeys":[{accountSid,sid,secret,kind}...]}` (main account first), so scripts and tests can pick up
 * the ports, credentials and key kinds; on a terminal it adds ready-to-paste `export` lines.
 */
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { API_KEY_KINDS, FAULT_KINDS, startEmulator, type ApiKeyKind, type EmulatorOptions, type FaultKind } from '../emulator/index.js';
import { parsePositiveInt } from './shared-options.js';

interface EmulatorFlags {
  faxes: string;
  numbers: string;
  accounts: string;
  seed: string;
  port: string;
  mediaPort: string;
  host: string;
  state?: string;
  mediaTtl: string;
  concurrencyLimit?: string;
  rps?: string;
  latencyMs: string;
  faultRate: string;
  faults?: string;
  slowMs: string;
  now?: string;
  apiKeys?: string;
  suspendedAccounts?: string;
  closedAccounts?: string;
  clockSpeed: string;
  pruning: boolean;
  mediaTokenTtl?: string;
  failedWithMedia: boolean;
  inexactContentTypes: string;
  contradictoryMedia: string;
  inProgress: string;
  expiredTokenInListings: string;
  realWorldFiles: string;
}

function share(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${flag} must be a share within 0..1, got ${JSON.stringify(value)}`);
  return n;
}

/** Flags to EmulatorOptions; throws UsageError naming the bad flag. Pure: exported for tests. */
export function emulatorOptionsFromFlags(flags: EmulatorFlags): EmulatorOptions {
  const int = (value: string, flag: string) => parsePositiveInt(value, flag, { allowZero: true });
  const options: EmulatorOptions = {
    faxes: int(flags.faxes, '--faxes'),
    numbers: int(flags.numbers, '--numbers'),
    accounts: int(flags.accounts, '--accounts'),
    seed: int(flags.seed, '--seed'),
    port: int(flags.port, '--port'),
    mediaPort: int(flags.mediaPort, '--media-port'),
    host: flags.host,
    mediaTtlSeconds: int(flags.mediaTtl, '--media-ttl'),
    latencyMs: int(flags.latencyMs, '--latency-ms'),
    slowMs: int(flags.slowMs, '--slow-ms'),
  };
  if (flags.state !== undefined) options.stateFile = flags.state;
  if (flags.concurrencyLimit !== undefined) options.concurrencyLimit = int(flags.concurrencyLimit, '--concurrency-limit');
  if (flags.rps !== undefined) {
    const rps = Number(flags.rps);
    if (!Number.isFinite(rps) || rps < 0) throw new UsageError(`--rps must be a non-negative number, got ${JSON.stringify(flags.rps)}`);
    options.rps = rps;
  }
  const rate = Number(flags.faultRate);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new UsageError(`--fault-rate must be within 0..1, got ${JSON.stringify(flags.faultRate)}`);
  options.faultRate = rate;
  if (flags.faults !== undefined) {
    const kinds = flags.faults.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k as FaultKind));
    if (unknown.length > 0) throw new UsageError(`--faults: unknown kind(s) ${unknown.join(', ')} (known: ${FAULT_KINDS.join(',')})`);
    options.faultKinds = kinds as FaultKind[];
  }
  if (flags.apiKeys !== undefined) {
    const kinds = flags.apiKeys.split(',').map((k) => k.trim());
    const unknown = kinds.filter((k) => !API_KEY_KINDS.includes(k as ApiKeyKind));
    if (unknown.length > 0) throw new UsageError(`--api-keys: unknown kind(s) ${unknown.join(', ')} (known: ${API_KEY_KINDS.join(',')})`);
    const accounts = (options.accounts ?? 2) + 1;
    if (kinds.length !== 1 && kinds.length !== accounts) throw new UsageError(`--api-keys names ${kinds.length} kinds: give one, or one per account (${accounts}, main first)`);
    options.apiKeys = kinds.length === 1 ? (kinds[0] as ApiKeyKind) : (kinds as ApiKeyKind[]);
  }
  if (flags.suspendedAccounts !== undefined) options.suspendedAccounts = int(flags.suspendedAccounts, '--suspended-accounts');
  if (flags.closedAccounts !== undefined) options.closedAccounts = int(flags.closedAccounts, '--closed-accounts');
  if ((options.suspendedAccounts ?? 0) + (options.closedAccounts ?? 0) > (options.accounts ?? 2)) {
    throw new UsageError('--suspended-accounts plus --closed-accounts cannot exceed --accounts');
  }
  const speed = Number(flags.clockSpeed ?? '1');
  if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--clock-speed must be a positive number, got ${JSON.stringify(flags.clockSpeed)}`);
  options.clockSpeed = speed;
  options.pruning = flags.pruning !== false;
  if (flags.mediaTokenTtl !== undefined) options.mediaTokenTtlSeconds = int(flags.mediaTokenTtl, '--media-token-ttl');
  options.world = {
    failedWithMedia: flags.failedWithMedia !== false,
    inexactContentTypes: share(flags.inexactContentTypes ?? '0.05', '--inexact-content-types'),
    contradictoryMedia: share(flags.contradictoryMedia ?? '0', '--contradictory-media'),
    inProgress: share(flags.inProgress ?? '0', '--in-progress'),
    expiredTokenInListings: share(flags.expiredTokenInListings ?? '0', '--expired-token-in-listings'),
    realWorldFiles: share(flags.realWorldFiles ?? '0', '--real-world-files'),
  };
  if (flags.now !== undefined) {
    const now = new Date(flags.now);
    if (!Number.isFinite(now.getTime())) throw new UsageError(`--now must be an ISO 8601 date, got ${JSON.stringify(flags.now)}`);
    options.now = now;
  }
  return options;
}

/** Ready-to-paste `export` lines for the main account (the emulator's own, made-up credentials). */
export function exportLines(url: string, main: { sid: string; authToken: string }): string {
  return [
    '',
    '# In another shell, to point fax-sunset at this emulator:',
    `export FAX_SUNSET_TWILIO_URL=${url}`,
    `export TWILIO_ACCOUNT_SID=${main.sid}`,
    `export TWILIO_AUTH_TOKEN=${main.authToken}`,
    '',
  ].join('\n');
}

export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('Run the local Twilio emulator (Fax API, numbers, media host, inbound fax flow)')
    .addOption(new Option('--faxes <n>', 'faxes to generate').default('200'))
    .addOption(new Option('--numbers <n>', 'incoming phone numbers (two in three in fax mode)').default('6'))
    .addOption(new Option('--accounts <n>', 'subaccounts besides the main account').default('2'))
    .addOption(new Option('--seed <n>', 'everything generated follows from it').default('1'))
    .addOption(new Option('--port <n>', 'API port (0 = a free port)').default('0'))
    .addOption(new Option('--media-port <n>', 'media host port (0 = a free port)').default('0'))
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(new Option('--state <file>', 'journal of changes kept across restarts'))
    .addOption(new Option('--media-ttl <seconds>', 'lifetime of pre-signed media URLs').default('7200'))
    .addOption(new Option('--concurrency-limit <n>', 'API requests in flight before 429 / 20429'))
    .addOption(new Option('--rps <n>', 'API requests per second before 429 / 20429'))
    .addOption(new Option('--latency-ms <n>', 'added to every API response').default('0'))
    .addOption(new Option('--fault-rate <p>', 'probability of a fault per request').default('0'))
    .addOption(new Option('--faults <kinds>', `fault kinds, comma separated (${FAULT_KINDS.join(',')})`))
    .addOption(new Option('--slow-ms <n>', 'how long a slow fault stalls').default('5000'))
    .addOption(new Option('--now <iso>', "the emulator's clock at start (data spreads over the 180 days before it)"))
    .addOption(new Option('--api-keys <kinds>', 'API key kind of every account (standard|main), or one per account comma separated, main first').default('standard'))
    .addOption(new Option('--suspended-accounts <n>', 'subaccounts suspended at start (their credentials answer 401 / 20003)'))
    .addOption(new Option('--closed-accounts <n>', 'subaccounts closed at start (listed as closed; their data goes 30 days later)'))
    .addOption(new Option('--clock-speed <x>', 'emulator seconds per real second (POST /_emulator/clock also moves it)').default('1'))
    .addOption(new Option('--no-pruning', "keep faxes past Twilio's 180 days as the clock moves"))
    .addOption(new Option('--media-token-ttl <seconds>', 'lifetime of the session token in media URLs: past it, before --media-ttl, 400 ExpiredToken'))
    .addOption(new Option('--no-failed-with-media', 'outbound failed/busy/no-answer faxes carry no media (real ones often did)'))
    .addOption(new Option('--inexact-content-types <share>', 'share of media served as application/ or binary/octet-stream').default('0.05'))
    .addOption(new Option('--contradictory-media <share>', 'share of faxes with media_sid but no media_url, or media_url but no media_sid').default('0'))
    .addOption(new Option('--expired-token-in-listings <share>', 'share of listed media URLs whose session token already expired (400 ExpiredToken)').default('0'))
    .addOption(new Option('--real-world-files <share>', 'share of media as real writers make it (PDF object streams, incremental updates, multi-strip TIFFs)').default('0'))
    .addOption(new Option('--in-progress <share>', 'share of faxes still queued/processing/sending/receiving, final as the clock moves').default('0'))
    .action(async (flags: EmulatorFlags) => {
      // Listen for the stop signal before anything is printed: a supervisor may signal as soon as it
      // reads the start-up line, and an unhandled SIGTERM would kill the process without closing.
      let stop = (): void => undefined;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const emulator = await startEmulator(emulatorOptionsFromFlags(flags));
      process.stdout.write(emulator.startupLine() + '\n');
      // A person at a terminal gets lines to paste into another shell; scripts read the JSON line above.
      if (process.stdout.isTTY) process.stdout.write(exportLines(emulator.url, emulator.mainAccount));
      await stopped;
      await emulator.close();
    });
}
