/**
 * `fax-sunset resolve FX... --accept-missing-media --reason "..."`: a person's way out of
 * `needs-review` (issue 11 §2). The decision, its reason and who took it go to the catalog's
 * hash-chained event log; the fax goes back to `listed`, accepted without its media, and the next
 * archive/sync run stores and verifies its metadata alone (state metadata-only, deletable like any
 * metadata-only fax). A fax in any other state is refused, and nothing is changed for it.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigurationError, describeError, ExitCode, UsageError } from '../errors.js';
import { isSid } from '../sid.js';
import { chooseOutputMode, createRunOutput } from './run-output.js';
import { addSharedOptions } from './shared-options.js';
import { openLockedCatalog, withRun } from './run-lifecycle.js';

interface ResolveFlags {
  catalog: string;
  acceptMissingMedia?: boolean;
  reason?: string;
  by?: string;
  json?: boolean;
  quiet?: boolean;
}

export function resolveCommand(): Command {
  const command = new Command('resolve')
    .description('Decide for faxes in needs-review (their record says media, none could be had); the decision goes to the event log')
    .argument('<faxSid...>', 'FX... sids of faxes in needs-review');
  addSharedOptions(command, ['acceptMissingMedia', 'reason', 'by', 'catalog', 'json', 'quiet']);
  command.action(async (sids: string[], flags: ResolveFlags) => {
    if (!flags.acceptMissingMedia) throw new UsageError('resolve needs a decision: --accept-missing-media (the only one there is)');
    const reason = (flags.reason ?? '').trim();
    if (reason === '') throw new UsageError('resolve needs --reason "...": the decision is evidence for auditors');
    for (const sid of sids) if (!isSid(sid, 'FX')) throw new UsageError(`not a fax sid (FX followed by 32 hex digits): ${JSON.stringify(String(sid).slice(0, 40))}`);
    if (!existsSync(flags.catalog)) throw new ConfigurationError(`no catalog at ${flags.catalog}; pass --catalog`);
    const output = createRunOutput(chooseOutputMode(flags));
    const accepted: string[] = [];
    const refused: { sid: string; reason: string }[] = [];
    // resolve keeps no run record of its own (each decision is an event); the lifecycle still owns the lock.
    await withRun(() => openLockedCatalog(flags.catalog, 'resolve'), async ({ catalog }) => {
      for (const sid of new Set(sids)) {
        try {
          catalog.acceptMissingMedia(sid, reason, flags.by ?? process.env.USER ?? null);
          accepted.push(sid);
        } catch (error) {
          refused.push({ sid, reason: describeError(error) });
          output.warning(`not resolved ${sid}: ${describeError(error)}`);
        }
      }
      return refused.length > 0 ? ExitCode.itemsLeft : ExitCode.ok;
    });
    const exitCode = refused.length > 0 ? ExitCode.itemsLeft : ExitCode.ok;
    output.summary('resolve', { accepted: accepted.length, acceptedSids: accepted, refused, exitCode });
    process.exitCode = exitCode;
  });
  return command;
}
