/**
 * `npm run torture`: archive with --delete over a few thousand faxes with faults on both sides,
 * SIGKILL the archiver at random moments (default 25 times), rerun until it exits 0, audit
 * independently, print the figures, exit 1 on any violation (2 on bad flags).
 *
 *   npm run torture -- --kills 25 --faxes 2000 --seed 7 [--keep] [--json]
 */
import { parseArgs } from 'node:util';
import type { KillAnchor } from './torture/archive-child.js';
import { DEFAULT_TORTURE_OPTIONS, runTorture, type TortureOptions } from './torture/run-torture.js';
import { formatTortureReport, tortureSummaryJson } from './torture/torture-report.js';

const KILL_ANCHORS: readonly KillAnchor[] = ['spawn', 'reconcile', 'list', 'archive', 'delete', 'csv'];

const USAGE = `usage: npm run torture -- [--kills N] [--faxes N] [--subaccounts N] [--seed N]
  [--min-kill-ms MS] [--max-kill-ms MS] [--kill-anchors spawn:1,archive:2,delete:2] [--emulator-fault-rate R] [--emulator-faults 500,503,reset,truncate,corrupt,slow]
  [--s3-fault-rate R] [--s3-faults 500,503,reset,flip] [--finish-s3-fault-rate R] [--max-finish-runs N]
  [--keep] [--json] [-- extra archive flags]`;

function parseOptions(argv: string[]): { options: TortureOptions; json: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kills: { type: 'string' }, faxes: { type: 'string' }, subaccounts: { type: 'string' }, seed: { type: 'string' },
      'min-kill-ms': { type: 'string' }, 'max-kill-ms': { type: 'string' }, 'kill-anchors': { type: 'string' },
      'emulator-fault-rate': { type: 'string' }, 'emulator-faults': { type: 'string' },
      's3-fault-rate': { type: 'string' }, 's3-faults': { type: 'string' }, 'finish-s3-fault-rate': { type: 'string' },
      'max-finish-runs': { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const d = DEFAULT_TORTURE_OPTIONS;
  const int = (value: string | undefined, fallback: number, name: string, min = 0): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
  const rate = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(n >= 0 && n <= 1)) throw new Error(`--${name} must be within 0..1, got ${JSON.stringify(value)}`);
    return n;
  };
  const kinds = <T extends string>(value: string | undefined, fallback: T[], allowed: readonly T[], name: string): T[] => {
    if (value === undefined) return fallback;
    const list = value.split(',').map((k) => k.trim()).filter(Boolean);
    for (const k of list) if (!allowed.includes(k as T)) throw new Error(`--${name}: unknown fault kind ${JSON.stringify(k)}`);
    return list as T[];
  };
  const anchors = (value: string | undefined, fallback: TortureOptions['killAnchors']): TortureOptions['killAnchors'] => {
    if (value === undefined) return fallback;
    const out: TortureOptions['killAnchors'] = {};
    for (const part of value.split(',')) {
      const [name, weight] = part.split(':');
      if (!name || !KILL_ANCHORS.includes(name as KillAnchor) || !(Number(weight ?? '1') >= 0)) {
        throw new Error(`--kill-anchors: expected anchor:weight pairs with anchors ${KILL_ANCHORS.join(', ')}, got ${JSON.stringify(part)}`);
      }
      out[name as KillAnchor] = Number(weight ?? '1');
    }
    return out;
  };
  const options: TortureOptions = {
    ...d,
    kills: int(values.kills, d.kills, 'kills'),
    faxes: int(values.faxes, d.faxes, 'faxes', 1),
    subaccounts: int(values.subaccounts, d.subaccounts, 'subaccounts'),
    seed: int(values.seed, d.seed, 'seed'),
    minKillMs: int(values['min-kill-ms'], d.minKillMs, 'min-kill-ms'),
    maxKillMs: int(values['max-kill-ms'], d.maxKillMs, 'max-kill-ms', 1),
    killAnchors: anchors(values['kill-anchors'], d.killAnchors),
    emulatorFaultRate: rate(values['emulator-fault-rate'], d.emulatorFaultRate, 'emulator-fault-rate'),
    emulatorFaultKinds: kinds(values['emulator-faults'], d.emulatorFaultKinds, ['500', '503', 'reset', 'truncate', 'corrupt', 'slow'], 'emulator-faults'),
    s3FaultRate: rate(values['s3-fault-rate'], d.s3FaultRate, 's3-fault-rate'),
    s3FaultKinds: kinds(values['s3-faults'], d.s3FaultKinds, ['500', '503', 'reset', 'flip'], 's3-faults'),
    finishS3FaultRate: rate(values['finish-s3-fault-rate'], d.finishS3FaultRate, 'finish-s3-fault-rate'),
    maxFinishRuns: int(values['max-finish-runs'], d.maxFinishRuns, 'max-finish-runs', 1),
    keep: values.keep ?? false,
    archiveArgs: positionals,
  };
  if (options.maxKillMs < options.minKillMs) throw new Error('--max-kill-ms must not be below --min-kill-ms');
  return { options, json: values.json ?? false };
}

let parsed: { options: TortureOptions; json: boolean };
try {
  parsed = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`torture: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const report = await runTorture(parsed.options, (line) => process.stderr.write(`${line}\n`));
for (const line of formatTortureReport(report)) process.stdout.write(`${line}\n`);
if (parsed.json) process.stdout.write(`${tortureSummaryJson(report)}\n`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
