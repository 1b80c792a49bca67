/**
 * `report` over several catalogs (issue 15 §1): the set is checked as one (shard-set.ts), each
 * shard's report is written by the one-catalog report, and the joined bag goes on top.
 */
import { basename, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { writeShardSetReport } from '../report/shard-set-report.js';
import type { ReportResult } from '../report/write-report.js';
import { checkShardSet, readShardCatalog } from '../verify/shard-set.js';
import { printSummaryLine } from './summary-line.js';

export async function runShardSetReport(
  flags: { out: string; bag?: boolean; shareable?: boolean; organization?: string; json?: boolean; quiet?: boolean },
  paths: readonly string[],
  reportCatalog: (catalogPath: string, outDir: string, finalDir: string) => Promise<{ code: number; result: ReportResult }>,
): Promise<number> {
  if (flags.bag) throw new UsageError('--bag takes one catalog: a set of shard catalogs gets fetch.txt (run report --bag per shard for copies)');
  const shards = paths.map(readShardCatalog);
  const set = checkShardSet(shards);
  const written = await writeShardSetReport({
    outDir: resolve(flags.out),
    shareable: !!flags.shareable,
    organization: flags.organization ?? null,
    softwareAgent: 'fax-sunset 0.1.0',
    shardCount: set.count,
    problems: set.problems,
    shards: shards.map((s) => ({ catalogPath: s.path, shard: s.shard, runs: s.runs, name: basename(s.path).replace(/\.sqlite$/, '') })),
    writeShard: async (i, outDir, finalDir) => {
      const done = await reportCatalog(shards[i]!.path, outDir, finalDir);
      return { result: done.result, exitCode: done.code };
    },
  });
  // A set that is not whole is a wrong set of catalogs (exit 2, fix and rerun); else the worst shard's code.
  const code = Math.max(set.problems.length > 0 ? ExitCode.usage : ExitCode.ok, ...written.parts.map((p) => p.exitCode));
  for (const problem of set.problems) process.stderr.write(`fax-sunset: shard set: ${problem.kind}: ${problem.message}\n`);
  if (flags.json) {
    printSummaryLine({
      command: 'report', exitCode: code, outDir: resolve(flags.out), files: written.files, catalogs: paths.length,
      shardCount: set.count, shardProblems: set.problems, duplicateFaxes: set.duplicateFaxes, payloadOxum: written.payload.oxum,
      shards: written.parts.map((p) => ({ catalog: p.catalogPath, shard: p.shard, runs: p.runs.map((r) => r.id), exitCode: p.exitCode, totals: p.result.model.totals, chain: p.result.model.chain })),
    });
  } else if (!flags.quiet) {
    process.stdout.write(`report of ${paths.length} shard catalogs written to ${resolve(flags.out)}\n`);
    for (const p of written.parts) {
      process.stdout.write(`  ${p.shard ? `shard ${p.shard.index}/${p.shard.count}` : 'no shard'} ${p.catalogPath}: ${p.result.model.totals.faxes} faxes, chain ${p.result.model.chain.intact ? 'intact' : 'BROKEN'}, exit ${p.exitCode}\n`);
    }
  }
  return code;
}
