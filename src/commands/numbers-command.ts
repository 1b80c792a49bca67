/**
 * `fax-sunset numbers plan|apply|rollback`: parse flags, wire the Twilio client, limiter and catalog,
 * call one reversion use case, print, set the exit code. No decisions here (src/reversion/ has them).
 */
import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { applyPlan } from '../reversion/apply-plan.js';
import { callGateFromLimiter, HelperLibraryNumberDirectory, subaccountAccessFrom } from '../twilio/helper-library-number-directory.js';
import { makeReversionPlan } from '../reversion/make-reversion-plan.js';
import type { NumberChangeReport, NumberChangeResult } from '../reversion/number-change-run.js';
import { exitCodeForChanges } from '../reversion/number-change-run.js';
import { readPlanFileWithHash, writePlanFiles } from '../reversion/plan-files.js';
import { describeDeadline } from '../reversion/render-plan.js';
import { checkPlanIntegrity, DEFAULT_DEADLINE } from '../reversion/reversion-plan.js';
import { rollbackChanges } from '../reversion/rollback-changes.js';
import { readRollbackFile } from '../reversion/rollback-journal.js';
import { defaultDestinationFrom, parseNumberMap, type VoiceTargets } from '../reversion/voice-targets.js';
import { createTwilioRestClient } from '../twilio/twilio-rest-client.js';
import { createGatewayFromFlags, unreachableAsConfiguration } from './archive-resources.js';
import { CREDENTIALS_HINT, twilioCredentialsFromEnv } from './credentials.js';
import { chooseOutputMode } from './run-output.js';
import { printSummaryLine } from './summary-line.js';
import { openLockedCatalog, withRun } from './run-lifecycle.js';
import type { Catalog } from '../catalog/catalog.js';
import { addSharedOptions, optionDefault, parsePositiveInt, sharedOption } from './shared-options.js';

type Flags = Record<string, string | boolean | undefined>;

const CONFIRMATION_HELP =
  '\nConfirmation: on a terminal you are asked before anything changes unless --yes is given; ' +
  'without a terminal (cron, CI) or with --json, --yes is required. --dry-run never asks and changes nothing.\n' +
  'Exit codes: 0 all done; 1 numbers left (failed, skipped as stale, not run); 2 bad usage, plan refused or credentials; 3 catalog locked.';

const PLAN_HASH_HELP =
  '\nThe plan\'s hash: the SHA-256 of plan.json itself, shown in plan.md and printed by `sha256sum plan.json`. ' +
  'With --yes or without a terminal, --expect-sha256 is required; at a terminal without it, the prompt shows the hash to confirm.\n';

export function numbersCommand(): Command {
  const numbers = new Command('numbers')
    .description('Move fax numbers back to voice: a reviewable plan, applied with a dry run, a stale check and a rollback file')
    .exitOverride();
  numbers.addCommand(planCommand());
  numbers.addCommand(applyCommand());
  numbers.addCommand(rollbackCommand());
  return numbers;
}

function planCommand(): Command {
  const command = new Command('plan')
    .description('List every number in fax mode and write plan.json, plan.csv and plan.md (review plan.md before applying)')
    .exitOverride()
    .addHelpText('after', '\nA fax number without a safe voice destination is refused (left in fax mode). Exit 1 when any is refused.');
  addSharedOptions(command, ['planOut', 'numbersSubaccounts', 'voiceUrl']);
  command.addOption(sharedOption('voiceMethod').argParser(parseVoiceMethod));
  addSharedOptions(command, ['voiceApplicationSid', 'map', 'keepVoiceUrl', 'deadline', 'twilioUrl', 'credentials', 'concurrency', 'rps', 'json', 'quiet']);
  command.action(async (flags: Flags) => {
    try {
      process.exitCode = await planAction(flags);
    } catch (error) {
      throw unreachableAsConfiguration(error, str(flags.twilioUrl));
    }
  });
  return command;
}

function applyCommand(): Command {
  const command = new Command('apply')
    .description('Apply a reviewed plan.json: stale numbers are skipped, each change is re-fetched, rollback.json is written as it goes')
    .argument('<plan>', 'the plan.json written by `numbers plan`')
    .exitOverride()
    .addHelpText('after', CONFIRMATION_HELP)
    .addHelpText('after', PLAN_HASH_HELP);
  addSharedOptions(command, ['expectSha256', 'rollbackOut', 'numbersYes', 'catalog', 'twilioUrl', 'credentials', 'concurrency', 'rps', 'dryRun', 'json', 'quiet']);
  command.action(async (planPath: string, flags: Flags) => {
    process.exitCode = await applyAction(planPath, flags);
  });
  return command;
}

function rollbackCommand(): Command {
  const command = new Command('rollback')
    .description('Restore the prior state recorded in rollback.json (numbers changed since are skipped, never overwritten)')
    .argument('<rollback>', 'the rollback.json written by `numbers apply`')
    .exitOverride()
    .addHelpText('after', CONFIRMATION_HELP);
  addSharedOptions(command, ['numbersYes', 'catalog', 'twilioUrl', 'credentials', 'concurrency', 'rps', 'dryRun', 'json', 'quiet']);
  command.action(async (rollbackPath: string, flags: Flags) => {
    process.exitCode = await rollbackAction(rollbackPath, flags);
  });
  return command;
}

export async function planAction(flags: Flags): Promise<number> {
  const defaultDestination = defaultDestinationFrom({
    voiceUrl: str(flags.voiceUrl),
    voiceMethod: str(flags.voiceMethod),
    voiceApplicationSid: str(flags.voiceApplicationSid),
  });
  const mapFile = str(flags.map);
  const byNumber = mapFile ? parseNumberMap(await readText(mapFile), mapFile) : new Map();
  const keepVoiceUrl = Boolean(flags.keepVoiceUrl);
  if (!defaultDestination && byNumber.size === 0 && !keepVoiceUrl) {
    throw new UsageError('no voice destination: give --voice-url, --voice-application-sid or --map (or --keep-voice-url to keep each fax URL, flagged)');
  }
  const targets: VoiceTargets = { defaultDestination, byNumber };
  const directory = directoryFrom(flags);
  const plan = await makeReversionPlan(directory, targets, {
    subaccounts: Boolean(flags.subaccounts),
    keepVoiceUrl,
    deadline: String(flags.deadline ?? DEFAULT_DEADLINE),
    mapFile: mapFile ?? null,
  });
  const written = await writePlanFiles(plan, String(flags.out ?? './numbers-plan'));
  const paths = { json: written.json, csv: written.csv, markdown: written.markdown };
  const code = plan.counts.refused > 0 ? ExitCode.itemsLeft : ExitCode.ok;
  if (flags.json) {
    printSummaryLine({ command: 'numbers plan', sha256: written.fileSha256, contentSha256: plan.sha256, counts: plan.counts, warnings: plan.warnings, files: paths, exitCode: code });
  } else {
    const out: string[] = ['', 'numbers plan', `  ${describeDeadline(plan.deadline, new Date(plan.createdAt))}`];
    // The deadline line above already says when it has passed; the plan keeps that warning for plan.md.
    if (!flags.quiet) for (const warning of plan.warnings) if (!warning.startsWith('The deadline ')) out.push(`  warning: ${warning}`);
    for (const [key, value] of Object.entries(plan.counts)) out.push(`  ${key.padEnd(18)} ${value}`);
    out.push(`  sha256             ${written.fileSha256}  (sha256sum ${paths.json})`, `  review             ${paths.markdown}`);
    // --quiet: the summary only, without the next-step hint.
    if (!flags.quiet) out.push('', `then: fax-sunset numbers apply ${paths.json} --expect-sha256 ${written.fileSha256} --dry-run`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return code;
}

export async function applyAction(planPath: string, flags: Flags): Promise<number> {
  const { plan, fileSha256 } = await readPlanFileWithHash(planPath);
  const expectSha256 = str(flags.expectSha256);
  checkPlanIntegrity(plan, expectSha256, fileSha256);
  const dryRun = Boolean(flags.dryRun);
  // Numbers change only for the plan a person approved: a script names its hash; only a person at
  // a terminal may instead confirm the hash shown in the prompt (issue 17).
  if (!dryRun && !expectSha256 && (flags.yes || flags.json || !process.stdin.isTTY || !process.stderr.isTTY)) {
    throw new UsageError(`numbers apply needs --expect-sha256 with --yes or without a terminal: the hash approved in plan.md (sha256sum ${planPath} prints it)`);
  }
  const rollbackPath = resolve(join(str(flags.out) ?? dirname(planPath), 'rollback.json'));
  const concurrency = parsePositiveInt(flags.concurrency ?? optionDefault('concurrency'), '--concurrency');
  const directory = directoryFrom(flags);
  if (!dryRun) await confirm(`Change ${plan.changes.length} number(s) to voice per ${planPath} (SHA-256 ${fileSha256})?`, flags);
  return withCatalog(flags, 'numbers-apply', dryRun, { plan: plan.sha256, planFileSha256: fileSha256, planPath, rollbackPath }, async (events) => {
    const report = await applyPlan(plan, { directory, rollbackPath, dryRun, concurrency, events, onResult: printer(flags) });
    return finish(flags, dryRun ? 'numbers apply (dry run: nothing changed)' : 'numbers apply', report, { plan: plan.sha256, planFileSha256: fileSha256, rollback: report.rollbackPath });
  });
}

export async function rollbackAction(rollbackPath: string, flags: Flags): Promise<number> {
  const file = await readRollbackFile(rollbackPath);
  const dryRun = Boolean(flags.dryRun);
  const concurrency = parsePositiveInt(flags.concurrency ?? optionDefault('concurrency'), '--concurrency');
  const directory = directoryFrom(flags);
  if (!dryRun) await confirm(`Restore the prior state of ${file.entries.length} number(s) from ${rollbackPath}?`, flags);
  return withCatalog(flags, 'numbers-rollback', dryRun, { plan: file.planSha256, rollbackPath }, async (events) => {
    const report = await rollbackChanges(file, { directory, dryRun, concurrency, events, onResult: printer(flags) });
    return finish(flags, dryRun ? 'numbers rollback (dry run: nothing changed)' : 'numbers rollback', report, { plan: file.planSha256 });
  });
}

/** Locks and opens the catalog for a run that changes numbers; a dry run touches neither. */
async function withCatalog(
  flags: Flags,
  kind: 'numbers-apply' | 'numbers-rollback',
  dryRun: boolean,
  runOptions: Record<string, unknown>,
  body: (events: Catalog | null) => Promise<{ code: number; summary: Record<string, unknown> }>,
): Promise<number> {
  if (dryRun) return (await body(null)).code;
  const catalogPath = String(flags.catalog ?? optionDefault('catalog'));
  return withRun(() => openLockedCatalog(catalogPath, kind), async ({ catalog }, run) => {
    run.start(kind, runOptions);
    const { code, summary } = await body(catalog);
    run.finish(code, summary);
    return code;
  });
}

/**
 * The numbers directory over the one account directory: with the main auth token one client
 * reaches every subaccount (as Twilio allows); with an API key each subaccount is spoken to with
 * its own credentials (`--credentials`), and one missing is named before anything changes.
 */
function directoryFrom(flags: Flags): HelperLibraryNumberDirectory {
  const credentials = twilioCredentialsFromEnv();
  const baseUrl = str(flags.twilioUrl);
  // The numbers client and the accounts listing share the one limiter: --rps is the process's total.
  const { directory: accounts, limiter, limits } = createGatewayFromFlags({ twilioUrl: baseUrl, rps: str(flags.rps), concurrency: str(flags.concurrency), credentials: str(flags.credentials) });
  const concurrency = limits.concurrency;
  const client = createTwilioRestClient({ ...credentials, baseUrl, maxSockets: concurrency });
  const mainUsesApiKey = credentials.username !== credentials.accountSid;
  // With the auth token the parent's client reaches the subaccounts; the accounts list still comes from the one directory.
  const access = subaccountAccessFrom(accounts, {
    makeClient: (own) => createTwilioRestClient({ ...own, baseUrl, maxSockets: concurrency }),
    ...(mainUsesApiKey ? {} : { sharedClient: client }),
    warn: (line) => process.stderr.write(`warning: ${line}\n`),
    missingCredentialsHint: CREDENTIALS_HINT,
  });
  return new HelperLibraryNumberDirectory(client, callGateFromLimiter(limiter), credentials.accountSid, access);
}

/**
 * On a terminal: ask unless --yes. Elsewhere (or with --json, where a prompt would corrupt the
 * output): --yes is required, so a scheduled job never changes numbers by accident.
 */
async function confirm(question: string, flags: Flags): Promise<void> {
  if (flags.yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY || flags.json) {
    throw new UsageError('refusing to change numbers without confirmation: pass --yes (or --dry-run to only look)');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed: nothing changed');
  } finally {
    rl.close();
  }
}

function printer(flags: Flags): (result: NumberChangeResult) => void {
  const mode = chooseOutputMode({ json: Boolean(flags.json), quiet: Boolean(flags.quiet) });
  return (result) => {
    // Per-number lines are progress: stderr. stdout carries only the one summary line.
    if (mode === 'json') return line({ event: 'number', ...result });
    if (mode === 'quiet' && result.outcome !== 'failed') return;
    let detail = '';
    if (result.outcome === 'skipped-stale') detail = `: changed since the plan (${(result.differences ?? []).map((d) => d.field).join(', ')})`;
    else if (result.error) detail = `: ${result.error}`;
    else if (result.update) detail = `: ${JSON.stringify(result.update)}`;
    process.stderr.write(`${result.outcome.padEnd(15)} ${result.phoneNumber} ${result.sid}${detail}\n`);
  };
}

function finish(flags: Flags, title: string, report: NumberChangeReport, extra: Record<string, unknown>): { code: number; summary: Record<string, unknown> } {
  const code = exitCodeForChanges(report);
  const summary = { ...report.summary, ...extra, exitCode: code };
  if (chooseOutputMode({ json: Boolean(flags.json), quiet: Boolean(flags.quiet) }) === 'json') printSummaryLine({ command: title, ...summary });
  else {
    process.stdout.write(`\n${title}\n`);
    for (const [key, value] of Object.entries(summary)) if (value !== null && value !== undefined) process.stdout.write(`  ${key.padEnd(16)} ${String(value)}\n`);
  }
  return { code, summary };
}

function line(value: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`);
}

/** One vocabulary in --help: "GET or POST", whatever case the operator types. */
function parseVoiceMethod(value: string): string {
  const method = value.trim().toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new InvalidArgumentError('must be GET or POST.');
  return method;
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function readText(filePath: string): Promise<string> {
  try {
    return await fs.readFile(filePath, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${filePath}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
