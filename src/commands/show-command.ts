/**
 * `fax-sunset show FX...`: everything the catalog knows about each fax (issue 18 §2). Text for a
 * person; with --json one `"event":"fax"` line per fax, then the one summary line. Read-only, no
 * lock. Exit 0 when every sid was found, 1 when some are not in the catalog (each named in one
 * line), 2 for a malformed sid or a missing catalog.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { RecordsQuery } from '../catalog/records-query.js';
import { ExitCode, UsageError } from '../errors.js';
import { faxRecordFor, renderFaxRecord } from '../records/fax-record.js';
import { isSid } from '../sid.js';
import { addSharedOptions } from './shared-options.js';
import { printSummaryLine } from './summary-line.js';

export function parseFaxSids(values: readonly string[]): string[] {
  for (const value of values) {
    if (!isSid(value, 'FX')) throw new UsageError(`${JSON.stringify(String(value).slice(0, 40))} is not a fax sid (FX followed by 32 hex digits)`);
  }
  return [...new Set(values)];
}

export function showCommand(): Command {
  const command = new Command('show')
    .description('Show everything known about faxes: each metadata version, their objects and how each was verified, the pre-delete proof, the deletion receipt, their events')
    .argument('<sid...>', 'fax sids (FX...)');
  addSharedOptions(command, ['catalog', 'json']);
  command.action((sids: string[], flags: { catalog: string; json?: boolean }) => {
    const wanted = parseFaxSids(sids);
    const query = new RecordsQuery(resolve(flags.catalog));
    const missing: string[] = [];
    try {
      for (const sid of wanted) {
        const record = faxRecordFor(query, sid);
        if (!record) {
          missing.push(sid);
          process.stderr.write(`fax-sunset: ${sid} is not in the catalog ${query.path}\n`);
          continue;
        }
        process.stdout.write(flags.json ? `${JSON.stringify({ event: 'fax', ...record })}\n` : renderFaxRecord(record));
      }
    } finally {
      query.close();
    }
    const exitCode = missing.length > 0 ? ExitCode.itemsLeft : ExitCode.ok;
    if (flags.json) printSummaryLine({ command: 'show', exitCode, shown: wanted.length - missing.length, missing });
    process.exitCode = exitCode;
  });
  return command;
}
