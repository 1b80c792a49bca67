/**
 * Every option of every command (the emulator's aside: a test tool, documented in
 * src/emulator/README.md), declared once, with its default and its environment variable, in the
 * way rclone declares its flags in one table (issue 14 §4). Commands add the ones they take with
 * `addSharedOptions`; no command declares a flag inline. The README's option table is generated
 * from this one (test/docs/options-table.test.ts keeps them equal).
 *
 * Environment variables: one per option that configures a run (`FAX_SUNSET_` and the flag's name).
 * A few have none on purpose (`env: null` with the reason): a deliberate decision (`--delete`,
 * `--yes`, `--insecure-skip-signature`, `--catalog-moved`, a resolve decision, the plan hash an
 * operator confirms) is typed each time, never inherited from an environment left behind, and a
 * records request's filters (`find`, `export`) belong to that one request. A boolean option's
 * variable turns it on when set to anything (commander's rule).
 */
import { Command, Option } from 'commander';
import { FAX_STATES } from '../catalog/fax-states.js';
import { UsageError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits/default-limits.js';
import { AT_RISK_MARGIN_DAYS, TWILIO_RETENTION_DAYS } from '../retention.js';
import { DEFAULT_DEADLINE } from '../reversion/reversion-plan.js';
import { FAX_MEDIA_TYPES, FAX_PAGE_SIZES, WEBHOOK_MODES } from '../webhook/fax-twiml.js';

/** Twilio's fax statuses (fax-api.md) and directions (`find`/`export --status`, `--direction`). */
export const FAX_STATUSES = ['queued', 'processing', 'sending', 'delivered', 'receiving', 'received', 'no-answer', 'busy', 'failed', 'canceled'] as const;
export const FAX_DIRECTIONS = ['inbound', 'outbound'] as const;

export interface SharedOptionSpec {
  flags: string;
  description: string;
  /** Its environment variable; null (with `noEnvBecause`) where a variable would be a hazard. */
  env: string | null;
  noEnvBecause?: string;
  defaultValue?: string | boolean;
  choices?: readonly string[];
  /** Given several times, the values are collected in order into a string[] (the variable gives one). */
  repeatable?: boolean;
  /** Required on its command (a flag or its variable). */
  required?: boolean;
}

const DECISION = 'a deliberate decision, typed each time';
const REQUEST = 'a filter of one records request';

export const SHARED_OPTIONS = {
  // Every command that opens the archive.
  catalog: { flags: '--catalog <path>', description: 'the SQLite catalog', env: 'FAX_SUNSET_CATALOG', defaultValue: './fax-archive/catalog.sqlite' },
  // verify and report read a set of catalogs (shards, issue 15 §1).
  catalogSet: { flags: '--catalog <path>', description: 'the SQLite catalog; given more than once, or a folder of shard catalogs (shard-0-of-3.sqlite ...), they are checked as one set', env: 'FAX_SUNSET_CATALOG', defaultValue: './fax-archive/catalog.sqlite', repeatable: true },
  store: { flags: '--store <url>', description: 'where media goes: s3://bucket/prefix, file:///dir or a path', env: 'FAX_SUNSET_STORE', defaultValue: './fax-archive/media' },
  twilioUrl: { flags: '--twilio-url <url>', description: 'send every Twilio request to this origin (an emulator)', env: 'FAX_SUNSET_TWILIO_URL' },
  concurrency: { flags: '--concurrency <n>', description: 'Twilio requests in flight at once', env: 'FAX_SUNSET_CONCURRENCY', defaultValue: String(DEFAULT_LIMITS.concurrency) },
  rps: { flags: '--rps <n>', description: 'Twilio requests per second (token bucket)', env: 'FAX_SUNSET_RPS', defaultValue: String(DEFAULT_LIMITS.ratePerSecond) },
  mediaConcurrency: { flags: '--media-concurrency <n>', description: 'media downloads at once', env: 'FAX_SUNSET_MEDIA_CONCURRENCY', defaultValue: String(DEFAULT_LIMITS.mediaConcurrency) },
  dryRun: { flags: '--dry-run', description: 'show what would happen; write nothing to Twilio or the store', env: 'FAX_SUNSET_DRY_RUN' },
  json: { flags: '--json', description: 'machine-readable output: one JSON summary line on stdout, progress as JSON lines on stderr', env: 'FAX_SUNSET_JSON' },
  quiet: { flags: '--quiet', description: 'print only errors and the final summary', env: 'FAX_SUNSET_QUIET' },
  credentials: {
    flags: '--credentials <file>',
    description: 'each subaccount\'s own credentials ("ACsid authToken" or "ACsid SKkey secret" per line, or JSON; mode 0600): needed with an API key',
    env: 'FAX_SUNSET_CREDENTIALS',
  },
  // The store (issue 17 §10).
  s3Endpoint: { flags: '--s3-endpoint <url>', description: 'S3-compatible endpoint for an s3:// store (else AWS_ENDPOINT_URL_S3, else the one the catalog recorded, else AWS)', env: 'FAX_SUNSET_S3_ENDPOINT' },
  catalogMoved: { flags: '--catalog-moved', description: 'the catalog\'s store or account really changed: use the ones given and record the move (an event)', env: null, noEnvBecause: DECISION },
  sse: { flags: '--sse <mode>', description: 'server-side encryption for S3 objects', env: 'FAX_SUNSET_SSE', choices: ['AES256', 'aws:kms'] },
  kmsKeyId: { flags: '--kms-key-id <id>', description: 'KMS key for --sse aws:kms', env: 'FAX_SUNSET_KMS_KEY_ID' },
  retainUntil: { flags: '--retain-until <date>', description: 'S3 Object Lock retention date for every object written (needs --lock-mode)', env: 'FAX_SUNSET_RETAIN_UNTIL' },
  lockMode: { flags: '--lock-mode <mode>', description: 'S3 Object Lock mode', env: 'FAX_SUNSET_LOCK_MODE', choices: ['compliance', 'governance'] },
  storageClass: { flags: '--storage-class <class>', description: 'S3 storage class, e.g. STANDARD_IA, GLACIER_IR', env: 'FAX_SUNSET_STORAGE_CLASS' },
  // archive and sync.
  subaccounts: { flags: '--subaccounts', description: 'also archive every subaccount, each with its own credentials (from the accounts list with the auth token; from --credentials with an API key)', env: 'FAX_SUNSET_SUBACCOUNTS' },
  shard: { flags: '--shard <i/n>', description: 'with --subaccounts: only the subaccounts whose sid hashes to i of n (the main account is in 0); one catalog per shard', env: 'FAX_SUNSET_SHARD' },
  delete: { flags: '--delete', description: 'delete from Twilio the faxes proven archived, each re-checked in the store just before its DELETE (two-phase, with receipts); asks first on a terminal', env: null, noEnvBecause: DECISION },
  yes: { flags: '-y, --yes', description: 'with --delete: do not ask on a terminal (without a terminal it never asks)', env: null, noEnvBecause: DECISION },
  maxDelete: { flags: '--max-delete <n>', description: 'delete at most this many faxes in this run', env: 'FAX_SUNSET_MAX_DELETE' },
  since: { flags: '--since <date>', description: 'only faxes created at or after this instant; a date alone (2021-11-29) is that whole UTC day, inclusive', env: null, noEnvBecause: 'it narrows one run; a nightly run left narrowed would skip faxes' },
  until: { flags: '--until <date>', description: 'only faxes created at or before this instant; a date alone (2021-11-29) is that whole UTC day, inclusive', env: null, noEnvBecause: 'it narrows one run; a nightly run left narrowed would skip faxes' },
  verify: { flags: '--verify <method>', description: 'verification: the strongest the store supports, or a full re-read', env: 'FAX_SUNSET_VERIFY', choices: ['strongest', 'full'], defaultValue: 'strongest' },
  csv: { flags: '--csv <path>', description: 'CSV listing of the archive (default: faxes.csv beside catalog.sqlite, <name>.faxes.csv beside any other catalog)', env: 'FAX_SUNSET_CSV' },
  workers: { flags: '--workers <n>', description: 'faxes archived at once', env: 'FAX_SUNSET_WORKERS', defaultValue: '16' },
  uploadConcurrency: { flags: '--upload-concurrency <n>', description: 'uploads to the store at once', env: 'FAX_SUNSET_UPLOAD_CONCURRENCY', defaultValue: '8' },
  maxAttempts: { flags: '--max-attempts <n>', description: 'give up retrying a failing fax after this many attempts', env: 'FAX_SUNSET_MAX_ATTEMPTS', defaultValue: '10' },
  now: { flags: '--now <date>', description: 'the time to measure Twilio\'s 180-day retention from (default: Twilio\'s clock, from its Date header)', env: null, noEnvBecause: 'a fixed clock is for one run; left in an environment it would misjudge retention for ever' },
  lookback: { flags: '--lookback <duration>', description: 'relist this far before the watermark (late status changes): 48h, 2d, 90m; a bare number is hours', env: 'FAX_SUNSET_LOOKBACK', defaultValue: '48h' },
  atRiskDays: { flags: '--at-risk-days <days>', description: `name unarchived faxes this close to Twilio's ${TWILIO_RETENTION_DAYS}-day pruning`, env: 'FAX_SUNSET_AT_RISK_DAYS', defaultValue: String(AT_RISK_MARGIN_DAYS) },
  fullListingEvery: {
    flags: '--full-listing-every <duration>',
    description: 'sync, serve --sync-every: list every fax again (no date filter) when no full listing started within this long, by Twilio\'s clock: 7d, 36h, 90m, or never',
    env: 'FAX_SUNSET_FULL_LISTING_EVERY',
    defaultValue: '7d',
  },
  // serve.
  port: { flags: '--port <n>', description: 'port to listen on (0 = a free port)', env: 'FAX_SUNSET_PORT', defaultValue: '8080' },
  host: { flags: '--host <host>', description: 'interface to listen on (0.0.0.0 for all)', env: 'FAX_SUNSET_HOST', defaultValue: '127.0.0.1' },
  publicUrl: { flags: '--public-url <url>', description: 'the URL Twilio calls (signatures cover it); without it the Host header decides: give it on any reachable address', env: 'FAX_SUNSET_PUBLIC_URL' },
  trustProxy: { flags: '--trust-proxy <addr|cidr>', description: 'without --public-url: believe X-Forwarded-Proto/Host only from this proxy (repeatable or a comma list)', env: 'FAX_SUNSET_TRUST_PROXY', repeatable: true },
  mode: { flags: '--mode <mode>', description: 'receive faxes, or reject them (the freeze before the switch-off)', env: 'FAX_SUNSET_MODE', choices: WEBHOOK_MODES, defaultValue: 'receive' },
  mediaType: { flags: '--media-type <type>', description: 'media Twilio keeps for received faxes', env: 'FAX_SUNSET_MEDIA_TYPE', choices: FAX_MEDIA_TYPES, defaultValue: 'application/pdf' },
  pageSize: { flags: '--page-size <size>', description: 'page size of received faxes', env: 'FAX_SUNSET_PAGE_SIZE', choices: FAX_PAGE_SIZES, defaultValue: 'letter' },
  storeMedia: { flags: '--store-media <bool>', description: 'whether Twilio keeps the media (false: archived metadata-only, accepted without media in the event log)', env: 'FAX_SUNSET_STORE_MEDIA', choices: ['true', 'false'], defaultValue: 'true' },
  insecureSkipSignature: { flags: '--insecure-skip-signature', description: 'accept requests without a valid X-Twilio-Signature (local trials only!)', env: null, noEnvBecause: 'turning off signature checks must be visible on the command line' },
  serveWorkers: { flags: '--workers <n>', description: 'faxes archived at once', env: 'FAX_SUNSET_SERVE_WORKERS', defaultValue: '4' },
  graceSeconds: { flags: '--grace-seconds <n>', description: 'on SIGTERM, how long archives in flight may finish (the rest stays queued)', env: 'FAX_SUNSET_GRACE_SECONDS', defaultValue: '25' },
  syncEvery: { flags: '--sync-every <duration>', description: 'also list the account(s) like `sync` this often (e.g. 6h, 30m): serve holds the lock, so sync cannot run beside it', env: 'FAX_SUNSET_SYNC_EVERY' },
  serveSubaccounts: { flags: '--subaccounts', description: 'with --sync-every: list every subaccount too', env: 'FAX_SUNSET_SERVE_SUBACCOUNTS' },
  // verify.
  verifyMethod: { flags: '--verify <method>', description: 'the strongest check the store supports, or a full re-read of every byte', env: 'FAX_SUNSET_VERIFY', choices: ['strongest', 'full'], defaultValue: 'strongest' },
  full: { flags: '--full', description: 'the same as --verify full (kept: runbooks use it)', env: null, noEnvBecause: 'FAX_SUNSET_VERIFY=full says it' },
  sample: { flags: '--sample <percent>', description: 'audit a random share of faxes, e.g. 5%', env: 'FAX_SUNSET_SAMPLE' },
  verifyWorkers: { flags: '--workers <n>', description: 'faxes audited at once', env: 'FAX_SUNSET_VERIFY_WORKERS', defaultValue: '16' },
  // report.
  reportOut: { flags: '--out <dir>', description: 'folder to write the report into (created; earlier report files are replaced atomically)', env: 'FAX_SUNSET_REPORT_OUT', required: true },
  organization: { flags: '--organization <name>', description: 'Source-Organization for bag-info.txt and the report header', env: 'FAX_SUNSET_ORGANIZATION' },
  bag: { flags: '--bag', description: 'filesystem store only: put every archived object under <out>/data/ (hard links where possible) so <out> is a complete, valid BagIt bag', env: 'FAX_SUNSET_BAG' },
  shareable: { flags: '--shareable', description: 'make --out 0755 and its files 0644 for other users to read (default 0700/0600: it names accounts, the store and phone numbers)', env: 'FAX_SUNSET_SHAREABLE' },
  // resolve.
  acceptMissingMedia: { flags: '--accept-missing-media', description: 'archive these faxes without their media (metadata only); afterwards --delete may delete them', env: null, noEnvBecause: DECISION },
  reason: { flags: '--reason <text>', description: 'why (required; kept in the catalog\'s event log and the report)', env: null, noEnvBecause: DECISION },
  by: { flags: '--by <name>', description: 'who decided (kept with the decision; default: $USER)', env: 'FAX_SUNSET_BY' },
  // numbers.
  planOut: { flags: '--out <dir>', description: 'folder for plan.json, plan.csv and plan.md', env: 'FAX_SUNSET_PLAN_OUT', defaultValue: './numbers-plan' },
  numbersSubaccounts: { flags: '--subaccounts', description: 'also plan the numbers of every subaccount', env: 'FAX_SUNSET_SUBACCOUNTS' },
  voiceUrl: { flags: '--voice-url <url>', description: 'the voice URL every reverted number gets', env: 'FAX_SUNSET_VOICE_URL' },
  voiceMethod: { flags: '--voice-method <method>', description: 'HTTP method for --voice-url: GET or POST (any case)', env: 'FAX_SUNSET_VOICE_METHOD' },
  voiceApplicationSid: { flags: '--voice-application-sid <AP...>', description: 'a TwiML application every reverted number gets (instead of --voice-url)', env: 'FAX_SUNSET_VOICE_APPLICATION_SID' },
  map: { flags: '--map <numbers.csv>', description: 'per-number destinations: rows of "number-or-PN-sid,voice-url-or-AP-sid[,method]"; overrides the default', env: 'FAX_SUNSET_NUMBER_MAP' },
  keepVoiceUrl: { flags: '--keep-voice-url', description: 'allow numbers without a destination to keep their fax URL as voice URL (flagged in the plan)', env: 'FAX_SUNSET_KEEP_VOICE_URL' },
  deadline: { flags: '--deadline <YYYY-MM-DD>', description: 'the date shown as the deadline in plan.md', env: 'FAX_SUNSET_DEADLINE', defaultValue: DEFAULT_DEADLINE },
  expectSha256: { flags: '--expect-sha256 <hex>', description: 'refuse the plan unless plan.json\'s SHA-256 is this: the hash plan.md shows, what `sha256sum plan.json` prints (required with --yes or without a terminal)', env: null, noEnvBecause: 'the hash of the plan a person reviewed, typed for that plan' },
  rollbackOut: { flags: '--out <dir>', description: 'folder for rollback.json (default: the plan\'s folder)', env: 'FAX_SUNSET_ROLLBACK_OUT' },
  numbersYes: { flags: '-y, --yes', description: 'change numbers without asking', env: null, noEnvBecause: DECISION },
  // Records requests: find, show, restore, export (issue 18).
  restoreOut: { flags: '--out <dir>', description: 'folder to restore into, laid out as in the store (created, mode 0700)', env: 'FAX_SUNSET_RESTORE_OUT', required: true },
  restorePrevious: { flags: '--previous', description: 'also restore the earlier media versions the store keeps (object_versions)', env: 'FAX_SUNSET_PREVIOUS' },
  exportOut: { flags: '--out <path>', description: 'the bag\'s folder (new or empty); with --zip, the .zip file to write', env: 'FAX_SUNSET_EXPORT_OUT', required: true },
  zip: { flags: '--zip', description: 'write the bag as one ZIP file (stored, not compressed) at --out', env: 'FAX_SUNSET_ZIP' },
  all: { flags: '--all', description: 'every fax in the catalog (without a filter, export refuses: a disclosure should be what was asked for)', env: null, noEnvBecause: DECISION },
  exportPrevious: { flags: '--previous', description: 'also put the earlier media versions the store keeps into the bag', env: 'FAX_SUNSET_PREVIOUS' },
  exportOrganization: { flags: '--organization <name>', description: 'Source-Organization for bag-info.txt', env: 'FAX_SUNSET_ORGANIZATION' },
  account: { flags: '--account <sid>', description: 'only this (sub)account\'s faxes', env: null, noEnvBecause: REQUEST },
  from: { flags: '--from <number>', description: 'only faxes from this number (E.164; spaces, dashes, dots and brackets are ignored: "+1 415 555 0100")', env: null, noEnvBecause: REQUEST },
  to: { flags: '--to <number>', description: 'only faxes to this number (as --from)', env: null, noEnvBecause: REQUEST },
  direction: { flags: '--direction <direction>', description: 'only inbound or outbound faxes', env: null, noEnvBecause: REQUEST, choices: FAX_DIRECTIONS },
  status: { flags: '--status <status>', description: 'only faxes with this Twilio status', env: null, noEnvBecause: REQUEST, choices: FAX_STATUSES },
  state: { flags: '--state <state>', description: 'only faxes in this catalog state', env: null, noEnvBecause: REQUEST, choices: FAX_STATES },
  filterSince: { flags: '--since <date>', description: 'only faxes created at or after this instant; a date alone (2021-03-01) is that whole UTC day, inclusive', env: null, noEnvBecause: REQUEST },
  filterUntil: { flags: '--until <date>', description: 'only faxes created at or before this instant; a date alone (2021-03-31) is that whole UTC day, inclusive', env: null, noEnvBecause: REQUEST },
  sid: { flags: '--sid <prefix>', description: 'only faxes whose sid starts with this (FX and some hex digits)', env: null, noEnvBecause: REQUEST },
  csvOutput: { flags: '--csv', description: 'CSV even on a terminal', env: 'FAX_SUNSET_FIND_CSV' },
  limit: { flags: '--limit <n>', description: 'at most this many faxes', env: null, noEnvBecause: REQUEST },
  // demo.
  demoDir: { flags: '--dir <path>', description: 'where the demo writes its catalog, media, report and plan', env: 'FAX_SUNSET_DEMO_DIR', defaultValue: './fax-sunset-demo' },
  demoFaxes: { flags: '--faxes <n>', description: 'faxes in the emulated account', env: 'FAX_SUNSET_DEMO_FAXES', defaultValue: '300' },
  demoS3: { flags: '--s3', description: 'archive into a local S3-compatible server (moto_server, else s3rver) instead of a folder', env: 'FAX_SUNSET_DEMO_S3' },
  demoJson: { flags: '--json', description: 'machine-readable output from every step', env: 'FAX_SUNSET_JSON' },
} as const satisfies Record<string, SharedOptionSpec>;

export type SharedOptionName = keyof typeof SHARED_OPTIONS;

/** Which table entry built an Option (the README table and its test read it back from the command tree). */
const ENTRY_OF = new WeakMap<Option, SharedOptionName>();

export function tableEntryOf(option: Option): SharedOptionName | undefined {
  return ENTRY_OF.get(option);
}

export function sharedOption(name: SharedOptionName): Option {
  const spec: SharedOptionSpec = SHARED_OPTIONS[name];
  const option = new Option(spec.flags, spec.description);
  if (spec.choices) option.choices(spec.choices);
  if (spec.repeatable) {
    // The default (or the variable) is a plain string: the first flag replaces it, later ones add to it.
    const collect = (value: string, previous: unknown): string[] => (Array.isArray(previous) ? [...(previous as string[]), value] : [value]);
    option.argParser(collect);
  }
  if (spec.env) option.env(spec.env);
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  if (spec.required) option.makeOptionMandatory();
  ENTRY_OF.set(option, name);
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
