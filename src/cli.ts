#!/usr/bin/env node
/**
 * fax-sunset's entry: parses the command line (the command tree is in program.ts) and is the one
 * place errors become exit codes (`exitCodeFor`) and, with --json, the failure's summary line.
 * No logic lives here or in src/commands/: they build a config, call one use case, print.
 */
import { Command, CommanderError } from 'commander';

// The AWS SDK warns on every run under Node 20 that *future* SDK releases will need Node 22. The
// lockfile pins the SDK this tool was tested with, so the warning says nothing about this tool and
// would only clutter scheduler logs; an operator can still turn it on by setting the variable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { describeError, exitCodeFor, ExitCode, UsageError } from './errors.js';
import { ignoreBrokenPipe, failureSummaryLine, resetSummaryLine, summaryLinePrinted } from './commands/summary-line.js';
import { buildCommandTree } from './program.js';

export function buildProgram(): Command {
  return buildCommandTree(runSubcommand);
}

/** Runs one command of a fresh program in this process and returns its exit code (used by `demo`). */
async function runSubcommand(args: string[]): Promise<number> {
  process.exitCode = undefined;
  const code = await main(['node', 'fax-sunset', ...args]);
  process.exitCode = undefined;
  return code;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  resetSummaryLine();
  // --json or its variable (the option table's FAX_SUNSET_JSON): a failure's summary line is JSON too.
  const json = argv.slice(2).includes('--json') || process.env.FAX_SUNSET_JSON !== undefined;
  const name = commandName(program, argv.slice(2));
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; parse errors were already printed.
      if (error.exitCode === 0) return ExitCode.ok;
      if (json && name !== 'demo') failureSummaryLine(name, ExitCode.usage, error.message.replace(/^error: /, '').split('\n')[0] ?? '');
      return ExitCode.usage;
    }
    const code = error instanceof UsageError ? ExitCode.usage : exitCodeFor(error);
    const line = describeError(error, knownSecretsFromEnv());
    process.stderr.write(`fax-sunset: ${line}\n`);
    // A failure before (or after) any work still leaves the one summary line a scheduler reads.
    if (json && name !== 'demo' && !summaryLinePrinted()) failureSummaryLine(name, code, line);
    return code;
  }
}

/** `archive`, `numbers apply`, ...: the command words of argv (for the summary line of a failure). */
function commandName(program: Command, args: readonly string[]): string {
  const words: string[] = [];
  let current: Command = program;
  for (const arg of args) {
    const sub = current.commands.find((c) => c.name() === arg);
    if (!sub) break;
    words.push(arg);
    current = sub;
  }
  return words.join(' ') || 'fax-sunset';
}

function knownSecretsFromEnv(): string[] {
  return [process.env.TWILIO_AUTH_TOKEN, process.env.TWILIO_API_SECRET, process.env.AWS_SECRET_ACCESS_KEY].filter((s): s is string => !!s);
}

ignoreBrokenPipe();
const exitCode = await main(process.argv);
process.exitCode = exitCode;
