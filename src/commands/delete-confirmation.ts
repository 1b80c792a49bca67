/**
 * The confirmation before `--delete` (issue 17 §10), like `numbers apply` has. On a terminal the
 * operator is asked unless --yes. Without a terminal (cron, systemd, CI, a pipe) or with --json it
 * does not ask and proceeds as before: `--delete` on a scheduled line is the decision, made when
 * the line was written (the README's and MIGRATION's scheduled `sync --delete` lines keep working).
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';

export function deletionNeedsConfirmation(
  flags: { yes?: unknown; json?: unknown },
  terminal: { stdin: boolean; stderr: boolean } = { stdin: Boolean(process.stdin.isTTY), stderr: Boolean(process.stderr.isTTY) },
): boolean {
  return !flags.yes && !flags.json && terminal.stdin && terminal.stderr;
}

export async function confirmDeletion(flags: { yes?: unknown; json?: unknown }, maxDelete: number | undefined): Promise<void> {
  if (!deletionNeedsConfirmation(flags)) return;
  const cap = maxDelete === undefined ? 'every fax' : `up to ${maxDelete} faxes`;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Delete from Twilio ${cap} proven archived by this run (stored and verified first)? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed: nothing was deleted (pass --yes to skip this question)');
  } finally {
    rl.close();
  }
}
