/**
 * The report of a set of shard catalogs (issue 15 §1): each shard's own report under
 * `shards/<catalog name>/` (its chain, its anchors, its runs), and at the top one bag over the whole
 * store prefix: one payload manifest (and fetch.txt) joining every shard's lines, one faxes.csv
 * holding every row, a summary.json and a one-page report.html naming each shard's provenance
 * (catalog file, shard i/n, its runs) and every problem of the set (a fax or an account twice, a
 * shard missing). Everything is streamed file to file: no shard's rows are held in memory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { AccountShard } from '../pipeline/account-shard.js';
import type { ShardProblem, ShardRun } from '../verify/shard-set.js';
import {
  BAG_INFO_TXT, BAGIT_TXT, FETCH_TXT, MANIFEST_SHA256, TAGMANIFEST_SHA256, manifestLine, payloadOxum, renderBagInfo, renderBagitTxt,
} from './bagit-manifests.js';
import { escapeXml } from './svg-charts.js';
import { hashFile, ReportFolder } from './report-folder.js';
import type { ReportResult } from './write-report.js';
import { FAXES_CSV, REPORT_HTML, SUMMARY_JSON } from './write-report.js';

export const SHARDS_DIR = 'shards';
export const SHARD_SET_SCHEMA = 'fax-sunset/shard-set-summary@1';

export interface ShardReportPart {
  catalogPath: string;
  shard: AccountShard | null;
  runs: ShardRun[];
  /** Folder name under shards/. */
  name: string;
  result: ReportResult;
  exitCode: number;
}

const ALL_OUTPUTS = [SHARDS_DIR, FETCH_TXT, FAXES_CSV, SUMMARY_JSON, REPORT_HTML, BAGIT_TXT, BAG_INFO_TXT, MANIFEST_SHA256, TAGMANIFEST_SHA256, 'data', 'accounts'];

/** Appends a file's lines to `out` (skipping the first `skip`), streamed. */
async function appendLines(out: NodeJS.WritableStream, path: string, skip = 0): Promise<void> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    if (n++ < skip || line === '') continue;
    if (!out.write(`${line}\n`)) await new Promise((resolve) => out.once('drain', resolve));
  }
}

async function joinFiles(target: string, sources: readonly string[], mode: number, headerLines = 0): Promise<void> {
  const out = createWriteStream(target, { mode });
  for (const [i, source] of sources.entries()) {
    if (!(await stat(source).catch(() => null))) continue;
    await appendLines(out, source, i === 0 ? 0 : headerLines);
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out.sort();
}

/**
 * Writes the set's report into `outDir`: `writeShard(i, staged folder, final folder)` writes each
 * shard's own report (the caller's one-catalog report), then the joined files are written beside them.
 */
export async function writeShardSetReport(options: {
  outDir: string;
  shareable: boolean;
  organization: string | null;
  softwareAgent: string;
  shardCount: number | null;
  problems: readonly ShardProblem[];
  shards: readonly { catalogPath: string; shard: AccountShard | null; runs: ShardRun[]; name: string }[];
  writeShard: (index: number, outDir: string, finalDir: string) => Promise<{ result: ReportResult; exitCode: number }>;
  now?: Date;
}): Promise<{ files: string[]; parts: ShardReportPart[]; payload: { bytes: number; count: number; oxum: string } }> {
  const folder = await ReportFolder.open(options.outDir, { shareable: options.shareable });
  const mode = folder.modes.file;
  try {
    const parts: ShardReportPart[] = [];
    for (const [i, shard] of options.shards.entries()) {
      const written = await options.writeShard(i, folder.staged(join(SHARDS_DIR, shard.name)), join(options.outDir, SHARDS_DIR, shard.name));
      parts.push({ ...shard, ...written });
    }
    // One store for the set: the one the shards' reports name (the first's; differing ones are named as a problem by the caller's check).
    const storeUrl = [...new Set(parts.map((p) => p.result.model.storeUrl).filter((u): u is string => !!u))].join(' ');
    const partDir = (p: ShardReportPart) => folder.staged(join(SHARDS_DIR, p.name));
    await joinFiles(folder.staged(MANIFEST_SHA256), parts.map((p) => join(partDir(p), MANIFEST_SHA256)), mode);
    await joinFiles(folder.staged(FETCH_TXT), parts.map((p) => join(partDir(p), FETCH_TXT)), mode);
    await joinFiles(folder.staged(FAXES_CSV), parts.map((p) => join(partDir(p), FAXES_CSV)), mode, 1);

    const bytes = parts.reduce((a, p) => a + p.result.payload.bytes, 0);
    const count = parts.reduce((a, p) => a + p.result.payload.count, 0);
    const oxum = payloadOxum(bytes, count);
    const totals = {
      faxes: parts.reduce((a, p) => a + p.result.model.totals.faxes, 0),
      archived: parts.reduce((a, p) => a + p.result.model.totals.archived, 0),
    };
    const provenance = parts.map((p) => ({
      catalog: p.catalogPath,
      shard: p.shard,
      report: `${SHARDS_DIR}/${p.name}/`,
      runs: p.runs,
      totals: p.result.model.totals,
      chain: p.result.model.chain,
      anchors: p.result.model.anchors ?? null,
      accounts: p.result.model.byAccount.map((a) => a.accountSid).sort(),
      exitCode: p.exitCode,
    }));
    const now = options.now ?? new Date();
    await writeFile(folder.staged(SUMMARY_JSON), `${JSON.stringify({
      schema: SHARD_SET_SCHEMA, generatedAt: now.toISOString(), store: storeUrl, shardCount: options.shardCount,
      complete: options.problems.length === 0, problems: options.problems, totals, bag: { payloadBytes: bytes, payloadCount: count, payloadOxum: oxum, manifestAlgorithm: 'sha256' },
      shards: provenance,
    }, null, 2)}\n`, { mode });
    await writeFile(folder.staged(BAGIT_TXT), renderBagitTxt(), { mode });
    await writeFile(folder.staged(BAG_INFO_TXT), renderBagInfo({
      sourceOrganization: options.organization,
      accountSids: [...new Set(provenance.flatMap((p) => p.accounts))].sort(),
      baggingDate: now.toISOString().slice(0, 10),
      payloadBytes: bytes, payloadCount: count, storeUrl, softwareAgent: options.softwareAgent,
      description: `Every media object and metadata sidecar of ${totals.archived} archived Twilio faxes, as recorded in ${parts.length} shard catalogs.`,
    }), { mode });
    await writeFile(folder.staged(REPORT_HTML), renderShardSetHtml({ ...options, storeUrl, now, totals, oxum, provenance }), { mode });

    const tagFiles = [BAGIT_TXT, BAG_INFO_TXT, MANIFEST_SHA256, FETCH_TXT, FAXES_CSV, SUMMARY_JSON, REPORT_HTML];
    const shardFiles = (await filesUnder(folder.staged(SHARDS_DIR))).map((path) => relative(folder.stagingDir, path).split('\\').join('/'));
    let tagManifest = '';
    for (const name of [...tagFiles, ...shardFiles]) tagManifest += manifestLine((await hashFile(folder.staged(name))).sha256Hex, name);
    await writeFile(folder.staged(TAGMANIFEST_SHA256), tagManifest, { mode });
    const order = [SHARDS_DIR, ...tagFiles, TAGMANIFEST_SHA256];
    await folder.commit(order, ALL_OUTPUTS);
    return { files: order, parts, payload: { bytes, count, oxum } };
  } catch (error) {
    await folder.abort();
    throw error;
  }
}

function renderShardSetHtml(input: {
  organization: string | null; storeUrl: string; shardCount: number | null; problems: readonly ShardProblem[]; now: Date;
  totals: { faxes: number; archived: number }; oxum: string;
  provenance: { catalog: string; shard: AccountShard | null; report: string; runs: ShardRun[]; totals: { faxes: number; archived: number }; chain: { intact: boolean; events: number; headHash: string | null }; accounts: string[]; exitCode: number }[];
}): string {
  const e = escapeXml;
  const rows = input.provenance.map((p) => `<tr><td>${p.shard ? `${p.shard.index}/${p.shard.count}` : '-'}</td><td><code>${e(p.catalog)}</code></td>` +
    `<td>${p.accounts.length}</td><td>${p.totals.faxes}</td><td>${p.totals.archived}</td>` +
    `<td>${p.chain.intact ? 'intact' : '<strong>BROKEN</strong>'} (${p.chain.events} events, head <code>${e((p.chain.headHash ?? '-').slice(0, 16))}</code>)</td>` +
    `<td>${p.runs.map((r) => `#${r.id} ${e(r.kind)} ${e(r.startedAt)} exit ${r.exitCode ?? 'unfinished'}`).join('<br>')}</td>` +
    `<td><a href="${e(p.report)}report.html">${e(p.report)}</a></td></tr>`).join('\n');
  const problems = input.problems.length === 0
    ? '<p>The set is whole: every shard present, every fax and every account in exactly one catalog, each account in the shard its sid belongs to.</p>'
    : `<p><strong>${input.problems.length} problems make this set incomplete:</strong></p><ul>${input.problems.map((p) => `<li><code>${e(p.kind)}</code> ${e(p.message)}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fax archive report (${input.provenance.length} shards)</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}</style></head>
<body>
<h1>Fax archive report${input.organization ? `: ${e(input.organization)}` : ''}</h1>
<p>${input.totals.faxes} faxes, ${input.totals.archived} archived, in ${input.provenance.length} shard catalogs${input.shardCount !== null ? ` of a ${input.shardCount}-shard layout` : ''}; store <code>${e(input.storeUrl)}</code>; payload ${e(input.oxum)} (bytes.objects); written ${e(input.now.toISOString())}.</p>
<h2>The set</h2>
${problems}
<h2>Shards</h2>
<table><tr><th>Shard</th><th>Catalog</th><th>Accounts</th><th>Faxes</th><th>Archived</th><th>Event chain</th><th>Runs</th><th>Its report</th></tr>
${rows}
</table>
<p>manifest-sha256.txt and fetch.txt list every object of every shard (one bag over the store prefix); faxes.csv holds every fax of every shard.</p>
</body></html>
`;
}
