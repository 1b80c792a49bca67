/**
 * `fax-sunset restore FX... --out DIR`: fetch faxes' objects back out of the store (issue 18 §3),
 * laid out as in the store (`<out>/<AccountSid>/<yyyy>/<mm>/<FaxSid>.pdf` and `.json`), hashed on
 * the way: nothing whose SHA-256 differs from the catalog's is written (one line and exit 1 for
 * that fax; the others are restored). The restore is recorded as a disclosure in the catalog's
 * event chain. Exit 0 all restored, 1 some not, 2 bad usage / no catalog / store unreachable.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { RecordsQuery } from '../catalog/records-query.js';
import { ExitCode } from '../errors.js';
import { manifestHash, recordDisclosure } from '../records/disclosure-log.js';
import { restoreFax, type FaxRestoreResult, type RestoredObject } from '../records/restore-objects.js';
import { openRecordedStore, storeGiven } from './archive-resources.js';
import { parseFaxSids } from './show-command.js';
import { addSharedOptions } from './shared-options.js';
import { printSummaryLine } from './summary-line.js';

interface RestoreFlags {
  out: string;
  catalog: string;
  store: string;
  previous?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function restoreCommand(): Command {
  const command = new Command('restore')
    .description('Fetch faxes\' media and sidecars from the store into a folder, checking every byte against the catalog\'s SHA-256 (recorded as a disclosure); reads the store the catalog recorded unless --store names another (a replica)')
    .argument('<sid...>', 'fax sids (FX...)');
  addSharedOptions(command, ['restoreOut', 'restorePrevious', 'catalog', 'store', 'json', 'quiet']);
  command.action(async (sids: string[], flags: RestoreFlags, self: Command) => {
    process.exitCode = await runRestore(parseFaxSids(sids), flags, storeGiven(self));
  });
  return command;
}

async function runRestore(sids: string[], flags: RestoreFlags, given: boolean): Promise<number> {
  const catalogPath = resolve(flags.catalog);
  const outDir = resolve(flags.out);
  const query = new RecordsQuery(catalogPath);
  const results: FaxRestoreResult[] = [];
  let store;
  try {
    store = openRecordedStore(catalogPath, { store: flags.store, storeGiven: given }).store;
    try {
      for (const sid of sids) {
        const fax = query.catalog.getFax(sid);
        const result = fax ? await restoreFax(store, fax, outDir, { previous: !!flags.previous }) : { sid, ok: false, objects: [], problem: 'not in the catalog' };
        results.push(result);
        if (result.ok) {
          if (!flags.quiet && !flags.json) process.stdout.write(`restored ${sid} (${result.objects.length} objects)\n`);
        } else {
          process.stderr.write(`fax-sunset: ${sid} NOT RESTORED: ${result.problem}\n`);
        }
      }
    } finally {
      await store.close();
    }
  } finally {
    query.close();
  }
  const restored = results.filter((r) => r.ok);
  const objects = restored.flatMap((r) => r.objects.flatMap((o) => (o.outcome === 'restored' ? [o.object] : []))) as RestoredObject[];
  const manifestSha256 = manifestHash(objects.map((o) => ({ path: o.path, sha256Hex: o.sha256Hex })));
  let disclosureProblem: string | null = null;
  if (restored.length > 0) {
    disclosureProblem = recordDisclosure(catalogPath, {
      action: 'restore', sids: restored.map((r) => r.sid), store: store.displayUrl, destination: outDir,
      objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0), manifestSha256,
    });
    if (disclosureProblem) process.stderr.write(`fax-sunset: warning: the restore was not recorded in the catalog's disclosures: ${disclosureProblem}\n`);
  }
  const exitCode = restored.length === results.length ? ExitCode.ok : ExitCode.itemsLeft;
  if (flags.json) {
    printSummaryLine({
      command: 'restore', exitCode, outDir, store: store.displayUrl,
      restored: restored.map((r) => r.sid), notRestored: results.filter((r) => !r.ok).map((r) => ({ sid: r.sid, problem: r.problem })),
      objects: objects.length, manifestSha256, disclosureRecorded: restored.length > 0 && disclosureProblem === null,
    });
  }
  return exitCode;
}
