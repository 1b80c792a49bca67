#!/usr/bin/env node
/**
 * fax-sunset's entry: parses the command line and wires implementations to use cases. This is the
 * one place commands are registered and the one place errors become exit codes (`exitCodeFor`).
 * No logic lives here or in src/commands/: they build a config, call one use case, print.
 */
import { Command, CommanderError } from 'commander';

// The AWS SDK warns on every run under Node 20 that *future* SDK releases will need Node 22. The
// lockfile pins the SDK this tool was tested with, so the warning says nothing about this tool and
// would only clutter scheduler logs; an operator can still turn it on by setting the variable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { describeError, exitCodeFor, ExitCode, UsageError } from './errors.js';
import { archiveCommand, syncCommand } from './commands/archive-command.js';
import { demoCommand } from './commands/demo-command.js';
import { emulatorCommand } from './commands/emulator-command.js';
import { verifyCommand } from './commands/verify-command.js';
import { numbersCommand } from './commands/numbers-command.js';
import { reportCommand } from './commands/report-command.js';
import { resolveCommand } from './commands/resolve-command.js';
import { serveCommand } from './commands/serve-command.js';

export function buildProgram(): Command {
  const program = new Command('fax-sunset')
    .description('Archive every Twilio fax, prove the copy, delete safely, and move fax numbers back to voice.')
    .version('0.1.0');
  program.addCommand(archiveCommand());
  program.addCommand(syncCommand());
  program.addCommand(verifyCommand());
  program.addCommand(emulatorCommand());
  program.addCommand(demoCommand(runSubcommand));
  program.addCommand(numbersCommand());
  program.addCommand(reportCommand());
  program.addCommand(serveCommand());
  program.addCommand(resolveCommand());
  throwParseErrors(program);
  return program;
}

/**
 * Commands built on their own and added with addCommand do not inherit the program's settings, so a
 * bad flag on `archive` would exit 1 (commander's default) — the code for "items left to retry". A
 * scheduler must see 2 for bad usage, so every command throws its parse errors to `main` instead.
 */
function throwParseErrors(command: Command): void {
  command.exitOverride().configureOutput({
    // One line, like every other error: "fax-sunset: error: unknown option '--bogus' (see --help)".
    outputError: (message, write) => write(`fax-sunset: ${message.trim()} (see --help)\n`),
  });
  for (const sub of command.commands) throwParseErrors(sub);
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
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; parse errors were already printed.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const code = error instanceof UsageError ? ExitCode.usage : exitCodeFor(error);
    process.stderr.write(`fax-sunset: ${describeError(error)}\n`);
    return code;
  }
}

const exitCode = await main(process.argv);
process.exitCode = exitCode;
