/**
 * `fax-sunset demo`: the main job on embedded defaults. Starts the bundled Twilio emulator (a main
 * account and two subaccounts, a few hundred faxes), then runs the very commands an operator runs:
 * `archive --subaccounts --delete`, `verify`, `report`, `numbers plan`. The emulator keeps its state in
 * the demo folder, so a second demo finds nothing new to do, as a second real run would.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Command } from 'commander';
import { DEFAULT_EMULATOR_NOW, startEmulator } from '../emulator/index.js';
import { addSharedOptions, parsePositiveInt } from './shared-options.js';
import { startLocalS3Server, type LocalS3Server } from './local-s3-server.js';

/** A path as the operator would type it: ./dir/... when under the working folder, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : path;
}

export type RunSubcommand = (args: string[]) => Promise<number>;

export function demoCommand(runSubcommand: RunSubcommand): Command {
  const command = new Command('demo')
    .description('Run the whole job against the bundled Twilio emulator: archive with --delete, verify, report, plan the number reversion');
  // --dir is never the production default (./fax-archive): a later real archive there would mix
  // the emulator's faxes into the compliance record (issue 17 §1).
  addSharedOptions(command, ['demoDir', 'demoFaxes', 'demoS3', 'demoJson']);
  return command.action(async (flags: { dir: string; faxes: string; s3?: boolean; json?: boolean }) => {
      process.exitCode = await runDemo(flags, runSubcommand);
    });
}

async function runDemo(flags: { dir: string; faxes: string; s3?: boolean; json?: boolean }, run: RunSubcommand): Promise<number> {
  const dir = resolve(flags.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const emulator = await startEmulator({
    faxes: parsePositiveInt(flags.faxes, '--faxes'),
    accounts: 2,
    numbers: 12,
    seed: 2021,
    port: 0,
    mediaPort: 0,
    stateFile: join(dir, flags.s3 ? 'emulator-state-s3.jsonl' : 'emulator-state.jsonl'),
  });
  let s3: LocalS3Server | null = null;
  const say = (line: string) => {
    if (!flags.json) process.stdout.write(`${line}\n`);
  };
  try {
    process.env.TWILIO_ACCOUNT_SID = emulator.mainAccount.sid;
    process.env.TWILIO_AUTH_TOKEN = emulator.mainAccount.authToken;
    delete process.env.TWILIO_API_KEY;
    delete process.env.TWILIO_API_SECRET;
    say(`Twilio emulator: ${emulator.url} (media host ${emulator.mediaUrl}), ${emulator.accounts.length} accounts`);

    let store = join(dir, 'media');
    const storeArgs: string[] = [];
    if (flags.s3) {
      s3 = await startLocalS3Server();
      process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
      process.env.AWS_REGION ??= 'us-east-1';
      const client = new S3Client({ endpoint: s3.endpoint, region: process.env.AWS_REGION, forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
      await client.send(new CreateBucketCommand({ Bucket: 'fax-sunset-demo' })).catch(() => undefined);
      client.destroy();
      store = 's3://fax-sunset-demo/archive';
      storeArgs.push('--s3-endpoint', s3.endpoint);
      say(`S3-compatible server (${s3.kind}): ${s3.endpoint}, bucket fax-sunset-demo`);
    }

    const catalog = join(dir, flags.s3 ? 'catalog-s3.sqlite' : 'catalog.sqlite');
    const common = ['--catalog', catalog, '--store', store, ...storeArgs];
    const output = flags.json ? ['--json'] : ['--quiet'];
    const emulatorNow = DEFAULT_EMULATOR_NOW.toISOString();

    say('\n== fax-sunset archive --subaccounts --delete');
    const archived = await run(['archive', '--subaccounts', '--delete', '--yes', '--twilio-url', emulator.url, '--now', emulatorNow, ...common, ...output]);
    say('\n== fax-sunset verify');
    const verified = await run(['verify', ...common, ...output]);
    say('\n== fax-sunset report');
    const reportDir = join(dir, 'report');
    const reported = await run(['report', '--out', reportDir, '--catalog', catalog, '--store', store, '--organization', 'Demo Clinic', ...(flags.json ? ['--json'] : ['--quiet'])]);
    say('\n== fax-sunset numbers plan --subaccounts');
    const planDir = join(dir, 'numbers-plan');
    const planned = await run(['numbers', 'plan', '--subaccounts', '--voice-url', 'https://voice.example.com/incoming', '--out', planDir,
      '--twilio-url', emulator.url, ...(flags.json ? ['--json'] : [])]);

    // The README shows this block as printed: keep the two the same (test/docs/demo-output.test.ts).
    const media = flags.s3 ? `${store}/<AccountSid>/... on ${s3?.endpoint}` : `${shown(store)}/<AccountSid>/<yyyy>/<mm>/<FaxSid>.pdf|.tiff + <FaxSid>.json`;
    say('');
    for (const [label, path, note] of [
      ['Catalog:', shown(catalog), '(SQLite, mode 0600: every fax, object, deletion receipt, run, event)'],
      ['CSV:', shown(join(dir, 'faxes.csv')), '(one row per fax, safe to open in a spreadsheet)'],
      ['Media:', media, ''],
      ['Report:', shown(join(reportDir, 'report.html')), '(plus summary.json and BagIt manifests)'],
      ['Numbers plan:', shown(join(planDir, 'plan.md')), '(review it, then `numbers apply` with its SHA-256)'],
    ] as const) {
      say(`${label.padEnd(14)}${note ? `${path.padEnd(39)} ${note}` : path}`.trimEnd());
    }
    say('');
    say('Run the same command again: the archive finds nothing new to do (the emulator keeps its state in the demo folder).');
    return Math.max(archived, verified, reported, planned);
  } finally {
    await emulator.close();
    await s3?.close();
  }
}
