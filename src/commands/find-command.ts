/**
 * `fax-sunset find [filters]`: the faxes a records request asks for (issue 18 §1). A table on a
 * terminal, CSV otherwise (or with --csv), JSON lines with --json (one `"event":"fax"` line per
 * fax, then the one summary line). Reads the catalog read-only and never takes the writers' lock,
 * so it runs beside a `sync`. Exit 0 (matches or not), 2 for bad usage or a missing catalog.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { RecordsQuery } from '../catalog/records-query.js';
import { csvHeader, csvLine, findRecordFor, tableHeader, tableLine } from '../records/fax-listing.js';
import { addFaxFilterOptions, describeFilter, faxFilterFrom, type FaxFilterFlags } from './fax-filter-options.js';
import { addSharedOptions, parsePositiveInt } from './shared-options.js';
import { printSummaryLine } from './summary-line.js';

interface FindFlags extends FaxFilterFlags {
  catalog: string;
  json?: boolean;
  csv?: boolean;
  limit?: string;
}

export function findCommand(): Command {
  const command = new Command('find')
    .description('List the faxes a records request asks for: a table on a terminal, CSV in a pipe or with --csv, JSON lines with --json (read-only; runs beside a sync)');
  addSharedOptions(command, ['csvOutput', 'limit']);
  addFaxFilterOptions(command);
  addSharedOptions(command, ['catalog', 'json']);
  command.action((flags: FindFlags) => {
    process.exitCode = runFind(flags);
  });
  return command;
}

function runFind(flags: FindFlags): number {
  const filter = faxFilterFrom(flags);
  const limit = flags.limit === undefined ? Number.POSITIVE_INFINITY : parsePositiveInt(flags.limit, '--limit');
  const query = new RecordsQuery(resolve(flags.catalog));
  const format = flags.json ? 'json' : flags.csv || !process.stdout.isTTY ? 'csv' : 'table';
  let matched = 0;
  try {
    if (format === 'csv') process.stdout.write(csvHeader());
    if (format === 'table') process.stdout.write(tableHeader());
    for (const fax of query.find(filter)) {
      if (matched >= limit) break;
      matched++;
      const record = findRecordFor(fax);
      if (format === 'json') process.stdout.write(`${JSON.stringify({ event: 'fax', ...record })}\n`);
      else process.stdout.write(format === 'csv' ? csvLine(record) : tableLine(record));
    }
  } finally {
    query.close();
  }
  if (flags.json) printSummaryLine({ command: 'find', exitCode: 0, matched, filter: describeFilter(filter) });
  else if (format === 'table') process.stderr.write(`${matched} ${matched === 1 ? 'fax' : 'faxes'}\n`);
  return 0;
}
