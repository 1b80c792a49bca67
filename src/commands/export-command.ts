/**
 * `fax-sunset export --out DIR [filters]`: the selected faxes as a BagIt bag to hand over (issue
 * 18 §4): media and sidecars checked byte for byte against the catalog, data/faxes.csv, SHA-256 and
 * SHA-512 manifests and tag manifests, provenance.json (catalog, store, runs, the event chain's
 * head, who exported, when, with which filters). `--zip` writes the bag as one stored ZIP file at
 * --out instead. Recorded as a disclosure in the catalog's chain. Read-only on the catalog while it
 * works, no writers' lock. Exit 0 all selected faxes in the bag; 1 some left out (each named) or the
 * event chain is broken; 2 bad usage, no catalog, store unreachable.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { RecordsQuery } from '../catalog/records-query.js';
import { ExitCode, UsageError } from '../errors.js';
import { recordDisclosure } from '../records/disclosure-log.js';
import { bagZipEntries, writeExportBag, zipTopName } from '../records/export-bag.js';
import { assertZipFits, writeStoredZip } from '../records/stored-zip.js';
import { ownTempName } from '../temp-files.js';
import { addFaxFilterOptions, describeFilter, faxFilterFrom, type FaxFilterFlags } from './fax-filter-options.js';
import { ProgressLine } from './progress-line.js';
import { openRecordedStore, storeGiven } from './archive-resources.js';
import { addSharedOptions } from './shared-options.js';
import { printSummaryLine } from './summary-line.js';

interface ExportFlags extends FaxFilterFlags {
  out: string;
  zip?: boolean;
  all?: boolean;
  previous?: boolean;
  organization?: string;
  catalog: string;
  store: string;
  json?: boolean;
  quiet?: boolean;
}

export function exportCommand(): Command {
  const command = new Command('export')
    .description('Hand over the selected faxes as a verified BagIt bag (SHA-256 and SHA-512 manifests, metadata CSV, provenance), recorded as a disclosure; reads the store the catalog recorded unless --store names another (a replica)');
  addSharedOptions(command, ['exportOut', 'zip', 'all', 'exportPrevious', 'exportOrganization']);
  addFaxFilterOptions(command);
  addSharedOptions(command, ['catalog', 'store', 'json', 'quiet']);
  command.action(async (flags: ExportFlags, self: Command) => {
    process.exitCode = await runExport(flags, storeGiven(self));
  });
  return command;
}

async function runExport(flags: ExportFlags, given: boolean): Promise<number> {
  const filter = faxFilterFrom(flags);
  const filterDescription = describeFilter(filter);
  if (Object.keys(filterDescription).length === 0 && !flags.all) {
    throw new UsageError('export needs a filter (--from, --to, --since, --until, --account, --sid, ...) or --all for every fax');
  }
  const out = resolve(flags.out);
  if (flags.zip && existsSync(out)) throw new UsageError(`--out ${out} already exists: give a new file name for the zip`);
  const catalogPath = resolve(flags.catalog);
  const query = new RecordsQuery(catalogPath);
  const bar = !flags.json && !flags.quiet && process.stderr.isTTY ? new ProgressLine(process.stderr) : null;
  const bagDir = flags.zip ? join(dirname(out), ownTempName().replace(/\.tmp$/, '.bag')) : out;
  let result;
  let storeUrl: string;
  try {
    const store = openRecordedStore(catalogPath, { store: flags.store, storeGiven: given }).store;
    storeUrl = store.displayUrl;
    try {
      result = await writeExportBag({
        query, store, filter, filterDescription: flags.all ? { ...filterDescription, all: 'true' } : filterDescription,
        outDir: bagDir, organization: flags.organization || null, softwareAgent: 'fax-sunset 0.1.0', previous: !!flags.previous,
        onStart: (objects) => bar?.start('export', objects),
        onObject: () => bar?.advance(),
      });
    } finally {
      bar?.stop();
      await store.close();
    }
  } finally {
    query.close();
  }
  if (flags.zip) {
    try {
      const entries = bagZipEntries(bagDir, zipTopName(out));
      assertZipFits(entries);
      await writeStoredZip(out, entries, new Date());
    } finally {
      await rm(bagDir, { recursive: true, force: true });
    }
  }
  for (const fax of result.excluded) process.stderr.write(`fax-sunset: ${fax.sid} LEFT OUT of the bag: ${fax.problem}\n`);
  if (!result.chain.intact) process.stderr.write(`fax-sunset: the catalog's event chain is BROKEN at event #${result.chain.brokenAtId ?? '?'}: provenance.json says so\n`);
  let disclosureProblem: string | null = null;
  if (result.sids.length > 0 || result.metadataOnlySids.length > 0) {
    disclosureProblem = recordDisclosure(catalogPath, {
      action: 'export', sids: [...result.sids, ...result.metadataOnlySids], store: storeUrl, destination: out,
      objects: result.payload.files, bytes: result.payload.bytes, manifestSha256: result.manifestSha256, filter: filterDescription,
    });
    if (disclosureProblem) process.stderr.write(`fax-sunset: warning: the export was not recorded in the catalog's disclosures: ${disclosureProblem}\n`);
  }
  const exitCode = result.excluded.length === 0 && result.chain.intact ? ExitCode.ok : ExitCode.itemsLeft;
  if (flags.json) {
    printSummaryLine({
      command: 'export', exitCode, out, zip: !!flags.zip, store: storeUrl, filter: filterDescription,
      faxes: result.sids.length, metadataOnly: result.metadataOnlySids.length, excluded: result.excluded,
      payloadOxum: result.payload.oxum, manifestSha256: result.manifestSha256, chain: result.chain,
      disclosureRecorded: disclosureProblem === null && (result.sids.length > 0 || result.metadataOnlySids.length > 0),
    });
  } else if (!flags.quiet) {
    process.stdout.write(`exported ${result.sids.length} faxes (${result.payload.files} files, ${result.payload.bytes} bytes) to ${out}` +
      `${result.metadataOnlySids.length ? `; ${result.metadataOnlySids.length} with nothing archived are in faxes.csv only` : ''}\n` +
      `  manifest-sha256.txt ${result.manifestSha256}\n`);
  }
  return exitCode;
}
