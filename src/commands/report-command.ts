/**
 * `fax-sunset report --out DIR`: the compliance export (faxes.csv, summary.json, report.html and
 * BagIt manifests). Opens the catalog read-only and the store without touching it (unless --bag
 * copies from a filesystem store), calls `writeReport`, prints. Exit 0 when the report is written
 * and the catalog's event chain is intact; 1 when the chain is broken or --bag could not place
 * every object (the report is still written and says so); 2 for bad usage.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { decideIdentity, readCatalogIdentity } from '../catalog/catalog-identity.js';
import { openCatalog } from '../catalog/sqlite-catalog.js';
import { ConfigurationError, ExitCode } from '../errors.js';
import { writeReport } from '../report/write-report.js';
import { openMediaStore } from '../store/open-media-store.js';
import { addSharedOptions } from './shared-options.js';
import { printSummaryLine } from './summary-line.js';

interface ReportFlags {
  out: string;
  catalog: string;
  store: string;
  organization?: string;
  bag?: boolean;
  json?: boolean;
  quiet?: boolean;
  storeGiven?: boolean;
}

export function reportCommand(): Command {
  const command = new Command('report')
    .description('Write the compliance export: faxes.csv, summary.json, a self-contained report.html and BagIt manifests')
    .requiredOption('--out <dir>', 'folder to write the report into (created; earlier report files are replaced atomically)')
    .addOption(new Option('--organization <name>', 'Source-Organization for bag-info.txt and the report header').env('FAX_SUNSET_ORGANIZATION'))
    .option('--bag', 'filesystem store only: put every archived object under <out>/data/ (hard links where possible) so <out> is a complete, valid BagIt bag')
    // addCommand does not inherit the program's exitOverride: without it a usage error would exit 1, not 2.
    .exitOverride();
  addSharedOptions(command, ['catalog', 'store', 'json', 'quiet']);
  command.action(async (flags: ReportFlags, self: Command) => {
    const source = self.getOptionValueSource('store');
    process.exitCode = await runReport({ ...flags, storeGiven: source === 'cli' || source === 'env' });
  });
  return command;
}

async function runReport(flags: ReportFlags): Promise<number> {
  const catalogPath = resolve(flags.catalog);
  if (!existsSync(catalogPath)) throw new ConfigurationError(`no catalog at ${catalogPath} (run archive first, or pass --catalog)`);
  const knownSecrets = [process.env.TWILIO_AUTH_TOKEN, process.env.TWILIO_API_SECRET].filter((s): s is string => !!s);
  // The store the catalog recorded, unless --store says otherwise (and then it must be the same one).
  const recorded = readCatalogIdentity(catalogPath);
  const useRecorded = recorded !== null && !flags.storeGiven;
  const endpoint = useRecorded && !process.env.AWS_ENDPOINT_URL_S3 ? recorded.storeEndpoint : null;
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    const store = openMediaStore(useRecorded ? recorded.store : flags.store, endpoint ? { endpoint } : {});
    decideIdentity(catalogPath, recorded, { store: store.displayUrl, accountSid: null }, { moved: false });
    try {
      const result = await writeReport({
        catalog,
        store,
        outDir: resolve(flags.out),
        bag: !!flags.bag,
        organization: flags.organization ?? null,
        knownSecrets,
        softwareAgent: 'fax-sunset 0.1.0',
      });
      const { model } = result;
      const chainOk = model.chain.intact;
      const code = chainOk && result.missingObjects.total === 0 ? ExitCode.ok : ExitCode.itemsLeft;
      if (flags.json) {
        printSummaryLine({
            command: 'report',
            exitCode: code,
            outDir: result.outDir,
            files: result.files,
            totals: model.totals,
            coverage: model.verification.coverage,
            exceptions: Object.fromEntries(Object.entries(model.exceptions).map(([k, v]) => [k, v.total])),
            chain: model.chain,
            payloadOxum: result.payload.oxum,
            bagComplete: result.payload.complete,
            missingObjects: result.missingObjects.total,
        });
      } else {
        if (!flags.quiet) {
          process.stdout.write(
            `report written to ${result.outDir}\n` +
              `  ${model.totals.faxes} faxes, ${model.totals.archived} archived, ${result.payload.count} objects (${result.payload.bytes} bytes), ` +
              `coverage ${(model.verification.coverage * 100).toFixed(1)}%\n` +
              `  at risk ${model.exceptions['at-risk'].total}, lost ${model.exceptions.lost.total}, failed ${model.exceptions.failed.total}, not yet proven ${model.exceptions.unverified.total}\n` +
              `  files: ${result.files.join(' ')}\n`,
          );
        }
        process.stdout.write(chainOk ? `event chain intact (${model.chain.events} events)\n` : '');
      }
      if (!chainOk) {
        process.stderr.write(`fax-sunset: the catalog's event chain is BROKEN at event #${model.chain.brokenAtId ?? '?'}: its history was edited; the report says so\n`);
      }
      if (result.missingObjects.total > 0) {
        process.stderr.write(`fax-sunset: ${result.missingObjects.total} archived objects are missing from the store, so the bag is incomplete (first: ${result.missingObjects.keys[0] ?? ''}); run verify\n`);
      }
      return code;
    } finally {
      await store.close();
    }
  } finally {
    catalog.close();
  }
}
