/**
 * The command tree: every command registered in one place, each throwing its parse errors to the
 * entry (src/cli.ts) and showing the exit-code table in its --help. Separate from the entry so a
 * test can build it and read every command's help without spawning a process per command.
 */
import { Command, Help, type Option } from 'commander';
import { archiveCommand, syncCommand } from './commands/archive-command.js';
import { demoCommand, type RunSubcommand } from './commands/demo-command.js';
import { emulatorCommand } from './commands/emulator-command.js';
import { verifyCommand } from './commands/verify-command.js';
import { numbersCommand } from './commands/numbers-command.js';
import { reportCommand } from './commands/report-command.js';
import { serveCommand } from './commands/serve-command.js';
import { resolveCommand } from './commands/resolve-command.js';
import { findCommand } from './commands/find-command.js';
import { showCommand } from './commands/show-command.js';
import { restoreCommand } from './commands/restore-command.js';
import { exportCommand } from './commands/export-command.js';
import { EXIT_CODES_HELP } from './commands/summary-line.js';

export function buildCommandTree(runSubcommand: RunSubcommand): Command {
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
  // Records requests (issue 18): find, show, restore, export.
  program.addCommand(findCommand());
  program.addCommand(showCommand());
  program.addCommand(restoreCommand());
  program.addCommand(exportCommand());
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
  // The exit-code table in every command's --help (issue 17 §4), not only in the README.
  if (command.parent) command.addHelpText('after', EXIT_CODES_HELP);
  // The environment variable in a parenthesis of its own, after the default: "(default: 16)
  // (env: FAX_SUNSET_WORKERS)" reads as two facts, not one "(default: 16, env: ...)".
  command.configureHelp({ optionDescription: describeOption });
  // Defaults as an operator types them: (default: 16), not (default: "16").
  for (const option of command.options) {
    if (typeof option.defaultValue === 'string' && option.defaultValueDescription === undefined) option.defaultValueDescription = option.defaultValue;
  }
  for (const sub of command.commands) throwParseErrors(sub);
}


function describeOption(this: Help, option: Option): string {
  const withoutEnv = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { envVar: undefined });
  const text = Help.prototype.optionDescription.call(this, withoutEnv);
  return option.envVar ? `${text} (env: ${option.envVar})` : text;
}
