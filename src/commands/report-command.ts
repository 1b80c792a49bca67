/**
 * `fax-sunset report --out DIR`: the compliance export (faxes.csv, summary.json, report.html and
 * BagIt manifests). Opens the catalog read-only and the store without touching it (unless --bag
 * copies from a filesystem store), calls `writeReport`, prints. Exit 0 when the report is written
 * and the catalog's event chain is intact; 1 when the chain is broken or --bag could not place
 * every object (the report is still written and says so); 2 for bad usage.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { decideIdentity } from '../catalog/catalog-identity.js';
import { openCatalog } from '../catalog/sqlite-catalog.js';
import { RecordsQuery } from '../catalog/records-query.js';
import { disclosureEntryOf } from '../records/disclosure-log.js';
import { anchorProblems, checkAnchors, type AnchorCheck, type AnchorSummary } from '../records/chain-anchors.js';
import { ConfigurationError, describeError, ExitCode } from '../errors.js';
import type { ReportModel } from '../report/report-model.js';
import { writeReport, type ReportResult } from '../report/write-report.js';
import { catalogSetOption, catalogValues } from './catalog-set-option.js';
import { catalogPathsFrom } from '../verify/shard-set.js';
import { runShardSetReport } from './shard-set-report.js';
import { openRecordedStore, storeGiven } from './archive-resources.js';
import { addSharedOptions } from './shared-options.js';
import { ProgressLine } from './progress-line.js';
import { printSummaryLine } from './summary-line.js';
import { withRun } from './run-lifecycle.js';

interface ReportFlags {
  out: string;
  catalog: string | string[];
  store: string;
  organization?: string;
  bag?: boolean;
  shareable?: boolean;
  json?: boolean;
  quiet?: boolean;
  storeGiven?: boolean;
}

export function reportCommand(): Command {
  const command = new Command('report')
    .description('Write the compliance export: faxes.csv, summary.json, a self-contained report.html and BagIt manifests')
    // addCommand does not inherit the program's exitOverride: without it a usage error would exit 1, not 2.
    .exitOverride();
  addSharedOptions(command, ['reportOut', 'organization', 'bag', 'shareable', 'store', 'json', 'quiet']);
  command.addOption(catalogSetOption());
  command.action(async (flags: ReportFlags, self: Command) => {
    process.exitCode = await runReport({ ...flags, storeGiven: storeGiven(self) });
  });
  return command;
}

async function runReport(flags: ReportFlags): Promise<number> {
  const paths = catalogPathsFrom(catalogValues(flags.catalog));
  if (paths.length > 1) return runShardSetReport(flags, paths, (path, outDir, finalDir) => reportCatalog(path, flags, outDir, false, finalDir));
  const done = await reportCatalog(paths[0]!, flags, resolve(flags.out), !flags.json && !flags.quiet && process.stderr.isTTY);
  printReport(flags, done);
  return done.code;
}

interface CatalogReport {
  code: number;
  result: ReportResult;
  anchors: AnchorCheck & { error?: string };
  anchorSummary: AnchorSummary;
}

/** One catalog's report written into `outDir` (and its report run recorded in the catalog, naming `recordedOutDir`: where it ends up). */
async function reportCatalog(catalogPath: string, flags: ReportFlags, outDir: string, withBar: boolean, recordedOutDir = outDir): Promise<CatalogReport> {
  if (!existsSync(catalogPath)) throw new ConfigurationError(`no catalog at ${catalogPath} (run archive first, or pass --catalog)`);
  const knownSecrets = [process.env.TWILIO_AUTH_TOKEN, process.env.TWILIO_API_SECRET].filter((s): s is string => !!s);
  // The store the catalog recorded, unless --store says otherwise (and then it must be the same one).
  const catalog = openCatalog(catalogPath, { readonly: true });
  try {
    const { store, recorded } = openRecordedStore(catalogPath, { store: flags.store, storeGiven: Boolean(flags.storeGiven) });
    decideIdentity(catalogPath, recorded, { store: store.displayUrl, accountSid: null }, { moved: false });
    // A bar over the catalog pass where a person watches (a million faxes take a while).
    const bar = withBar ? new ProgressLine(process.stderr) : null;
    try {
      // The catalog against every anchor its runs left in the store (issue 18 §6).
      // A store the report cannot reach (an auditor's copy of the catalog, offline) leaves them unchecked, and the report says so.
      let anchors: AnchorCheck & { error?: string };
      try {
        anchors = await checkAnchors(catalogPath, store, recorded?.accountSid ?? null);
      } catch (error) {
        anchors = { anchors: 0, matched: 0, mismatched: [], foreign: 0, latest: null, unreadable: [], error: describeError(error, knownSecrets) };
      }
      const anchorSummary = { checked: anchors.anchors, matched: anchors.matched, mismatched: anchors.mismatched, latest: anchors.latest, ...(anchors.error ? { error: anchors.error } : {}) };
      bar?.start('report', Object.values(catalog.countByState()).reduce((a, n) => a + n, 0));
      const result = await writeReport({
        onFax: bar ? () => bar.advance() : undefined,
        catalog,
        store,
        outDir,
        bag: !!flags.bag,
        shareable: !!flags.shareable,
        organization: flags.organization ?? null,
        knownSecrets,
        softwareAgent: 'fax-sunset 0.1.0',
        disclosures: readDisclosures(catalogPath),
        anchors: anchorSummary,
      });
      bar?.stop();
      const { model } = result;
      const chainOk = model.chain.intact;
      const code = chainOk && result.missingObjects.total === 0 && anchors.mismatched.length === 0 ? ExitCode.ok : ExitCode.itemsLeft;
      await recordReportRun(catalogPath, recordedOutDir, code, model);
      return { code, result, anchors, anchorSummary };
    } finally {
      bar?.stop();
      await store.close();
    }
  } finally {
    catalog.close();
  }
}

function printReport(flags: ReportFlags, { code, result, anchors, anchorSummary }: CatalogReport): void {
  const { model } = result;
  const chainOk = model.chain.intact;
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
        anchors: anchorSummary,
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
    process.stdout.write(chainOk ? `event chain intact (${model.chain.events} events, head ${model.chain.headHash ?? '-'})\n` : '');
  }
  if (!chainOk) {
    process.stderr.write(`fax-sunset: the catalog's event chain is BROKEN at event #${model.chain.brokenAtId ?? '?'}: its history was edited; the report says so\n`);
  }
  for (const line of anchorProblems(anchors)) process.stderr.write(`fax-sunset: ${line}\n`);
  if (anchors.error) process.stderr.write(`fax-sunset: warning: the chain anchors in the store could not be checked: ${anchors.error}\n`);
  if (result.missingObjects.total > 0) {
    process.stderr.write(`fax-sunset: ${result.missingObjects.total} archived objects are missing from the store, so the bag is incomplete (first: ${result.missingObjects.keys[0] ?? ''}); run verify\n`);
  }
}

/** The catalog's restores and exports (issue 18 §5), for the report's list. */
function readDisclosures(catalogPath: string) {
  const query = new RecordsQuery(catalogPath);
  try {
    return query.disclosures().map(disclosureEntryOf);
  } finally {
    query.close();
  }
}

/**
 * The report is itself a run of the history an auditor reads (who produced which report, when,
 * over which chain head), recorded after the catalog was read, in a short write of its own. A
 * catalog that cannot be written (a read-only copy handed to an auditor) still gets its report:
 * the record is skipped with one line on stderr.
 */
async function recordReportRun(catalogPath: string, outDir: string, code: number, model: ReportModel): Promise<void> {
  // Unlocked on purpose, as before: a short write of its own beside a serve that holds the lock.
  const open = async () => {
    const catalog = openCatalog(catalogPath);
    return { catalog, close: async () => catalog.close() };
  };
  try {
    await withRun(open, async (_opened, run) => {
      run.start('report', { outDir });
      run.finish(code, {
        faxes: model.totals.faxes, archived: model.totals.archived, coverage: model.verification.coverage,
        chainIntact: model.chain.intact, chainEvents: model.chain.events, chainHead: model.chain.headHash,
      });
      return code;
    });
  } catch (error) {
    process.stderr.write(`fax-sunset: warning: the report was written but its run could not be recorded in the catalog: ${describeError(error)}\n`);
  }
}
