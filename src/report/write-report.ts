/**
 * The `report` use case: one streaming pass over the catalog computes the model AND writes the
 * BagIt payload manifest (plus fetch.txt, or the payload itself under data/ with --bag), then the
 * summary, the HTML page, the CSV and the tag files are written, all into a staging folder that is
 * committed into --out at the end (report-folder.ts). The catalog is only read.
 *
 * Memory stays flat in the number of faxes: aggregates are bounded (report-model.ts) and manifest
 * lines are streamed to disk in chunks.
 */
import { closeSync, linkSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Catalog, FaxRow } from '../catalog/catalog.js';
import { ARCHIVED_STATES } from '../catalog/fax-states.js';
import { writeCatalogCsv } from '../catalog/csv-export.js';
import type { DisclosureEntry } from '../records/disclosure-log.js';
import type { AnchorSummary } from '../records/chain-anchors.js';
import type { MediaStore } from '../store/media-store.js';
import {
  BAG_INFO_TXT,
  BAGIT_TXT,
  FETCH_TXT,
  MANIFEST_SHA256,
  PAYLOAD_DIR,
  TAGMANIFEST_SHA256,
  fetchLine,
  manifestLine,
  objectUrl,
  payloadOxum,
  payloadPath,
  renderBagInfo,
  renderBagitTxt,
} from './bagit-manifests.js';
import { renderReportHtml } from './render-report-html.js';
import { renderSummaryJson } from './render-summary-json.js';
import { reportNow } from './report-clock.js';
import { accountCoverage, type AccountCoverage } from '../pipeline/listing-sweeps.js';
import { hashFile, ReportFolder } from './report-folder.js';
import { ReportAccumulator, type ReportModel } from './report-model.js';
import { ConfigurationError } from '../errors.js';
import { ACCOUNTS_DIR, AccountCsvFiles } from './account-csv-files.js';

export const REPORT_HTML = 'report.html';
export const SUMMARY_JSON = 'summary.json';
export const FAXES_CSV = 'faxes.csv';

/** Every name a report may put in --out: what a later report replaces or removes. */
const ALL_OUTPUTS = [PAYLOAD_DIR, ACCOUNTS_DIR, FETCH_TXT, FAXES_CSV, SUMMARY_JSON, REPORT_HTML, BAGIT_TXT, BAG_INFO_TXT, MANIFEST_SHA256, TAGMANIFEST_SHA256];

export interface WriteReportOptions {
  catalog: Catalog;
  /** The store the catalog's objects live in: its URL names them; with `bag` its bytes are copied. */
  store: Pick<MediaStore, 'displayUrl' | 'read'>;
  outDir: string;
  /** Copy (hard-link where possible) every archived object into data/: a complete bag. Filesystem stores only. */
  bag?: boolean;
  /** `--shareable`: --out 0755 and its files 0644 instead of 0700/0600 (see report-folder.ts). */
  shareable?: boolean;
  organization?: string | null;
  now?: Date;
  /** Values to scrub from any text that reaches the outputs (the auth token, API secret). */
  knownSecrets?: readonly string[];
  exceptionLimit?: number;
  /** How many runs the history shows. */
  runLimit?: number;
  softwareAgent?: string;
  /** Told after each fax of the catalog pass (a progress bar's tick). */
  onFax?: () => void;
  /** The catalog's restores and exports (issue 18 §5), listed in the report. */
  disclosures?: readonly DisclosureEntry[];
  /** The catalog checked against the store's chain anchors (issue 18 §6). */
  anchors?: AnchorSummary;
}

export interface ReportResult {
  outDir: string;
  /** Names written into --out, tag manifest last. */
  files: string[];
  model: ReportModel;
  payload: { bytes: number; count: number; oxum: string; complete: boolean };
  /** Objects the catalog lists as archived but the store could not provide (with --bag only). */
  missingObjects: { total: number; keys: string[] };
}

/** Buffers text and writes it to a file descriptor in large chunks (200k manifest lines stay cheap). */
class LineFile {
  private readonly fd: number;
  private buffer: string[] = [];
  private length = 0;
  constructor(path: string, mode: number) {
    this.fd = openSync(path, 'w', mode);
  }
  write(text: string): void {
    this.buffer.push(text);
    this.length += text.length;
    if (this.length >= 1 << 16) this.flush();
  }
  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.length = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export async function writeReport(options: WriteReportOptions): Promise<ReportResult> {
  // Twilio's clock as the latest archive/sync saw it, so rehearsals and real runs agree (issue 17 §5).
  const now = options.now ?? reportNow(options.catalog.listRuns(50)).now;
  const softwareAgent = options.softwareAgent ?? 'fax-sunset';
  const storeUrl = options.store.displayUrl;
  const storeRoot = storeUrl.startsWith('file://') ? fileURLToPath(storeUrl) : null;
  if (options.bag && storeRoot === null) {
    throw new ConfigurationError(`--bag needs a filesystem store; ${storeUrl} is not one (the report writes fetch.txt for it instead)`);
  }

  const folder = await ReportFolder.open(options.outDir, { shareable: !!options.shareable });
  const { file: fileMode, dir: dirMode } = folder.modes;
  try {
    const accumulator = new ReportAccumulator({
      now,
      organization: options.organization ?? null,
      catalogPath: options.catalog.path,
      storeUrl,
      exceptionLimit: options.exceptionLimit,
      knownSecrets: options.knownSecrets,
    });
    const manifest = new LineFile(folder.staged(MANIFEST_SHA256), fileMode);
    const fetch = options.bag ? null : new LineFile(folder.staged(FETCH_TXT), fileMode);
    const payloadRoot = folder.staged(PAYLOAD_DIR);
    if (options.bag) mkdirSync(payloadRoot, { recursive: true, mode: dirMode });
    const accountCsv = new AccountCsvFiles(folder.stagingDir, { file: fileMode, dir: dirMode });
    const madeDirs = new Set<string>();
    const missing: string[] = [];
    let missingTotal = 0;
    let bytes = 0;
    let count = 0;
    let sample: { key: string; sha256Hex: string } | null = null;

    try {
      for (const fax of options.catalog.iterateFaxes()) {
        accumulator.add(fax);
        accountCsv.add(fax);
        options.onFax?.();
        if (!ARCHIVED_STATES.includes(fax.state)) continue;
        for (const object of archivedObjects(fax)) {
          const path = payloadPath(object.key);
          manifest.write(manifestLine(object.sha256Hex, path));
          fetch?.write(fetchLine(objectUrl(storeUrl, object.key), object.size, path));
          bytes += object.size;
          count += 1;
          if (sample === null || (sample.key.endsWith('.json') && object.kind === 'media')) sample = { key: object.key, sha256Hex: object.sha256Hex };
          if (options.bag && storeRoot !== null) {
            const ok = await placePayload(options.store, storeRoot, object.key, join(folder.stagingDir, path), madeDirs, folder.modes);
            if (!ok) {
              missingTotal += 1;
              if (missing.length < 1000) missing.push(object.key);
            }
          }
        }
      }
    } finally {
      manifest.close();
      fetch?.close();
    }

    const accountFiles = accountCsv.finish();
    const model = accumulator.finish({
      runs: options.catalog.listRuns(options.runLimit ?? 50),
      disclosures: options.disclosures ?? [],
      ...(options.anchors ? { anchors: options.anchors } : {}),
      chain: options.catalog.checkEventChain(),
      listing: listingCoverageOf(options.catalog, accumulator.accounts()),
    });
    const oxum = payloadOxum(bytes, count);

    const asReportFile = { mode: fileMode };
    await writeCatalogCsv(options.catalog, folder.staged(FAXES_CSV));
    await writeFile(folder.staged(SUMMARY_JSON), renderSummaryJson(model, { complete: !!options.bag, payloadBytes: bytes, payloadCount: count, payloadOxum: oxum, manifestAlgorithm: 'sha256' }), asReportFile);
    await writeFile(folder.staged(BAGIT_TXT), renderBagitTxt(), asReportFile);
    await writeFile(
      folder.staged(BAG_INFO_TXT),
      renderBagInfo({
        sourceOrganization: options.organization ?? null,
        accountSids: model.byAccount.map((a) => a.accountSid).sort(),
        baggingDate: now.toISOString().slice(0, 10),
        payloadBytes: bytes,
        payloadCount: count,
        storeUrl,
        softwareAgent,
        description: `Every media object and metadata sidecar of ${model.totals.archived} archived Twilio faxes, as recorded in the fax-sunset catalog.`,
      }),
      asReportFile,
    );

    const accountCsvs = [...accountFiles.values()].sort();
    const tagFiles = [BAGIT_TXT, BAG_INFO_TXT, MANIFEST_SHA256, ...(options.bag ? [] : [FETCH_TXT]), FAXES_CSV, ...accountCsvs, SUMMARY_JSON, REPORT_HTML];
    const files = [...tagFiles.filter((name) => !name.startsWith(`${ACCOUNTS_DIR}/`)), ...(accountCsvs.length > 0 ? [ACCOUNTS_DIR] : []), TAGMANIFEST_SHA256];
    await writeFile(
      folder.staged(REPORT_HTML),
      renderReportHtml(model, {
        bag: !!options.bag, sample, softwareAgent, accountFiles,
        files: [...(options.bag ? [PAYLOAD_DIR + '/'] : []), ...files.map((name) => (name === ACCOUNTS_DIR ? `${ACCOUNTS_DIR}/` : name))],
      }),
      asReportFile,
    );

    let tagManifest = '';
    for (const name of tagFiles) tagManifest += manifestLine((await hashFile(folder.staged(name))).sha256Hex, name);
    await writeFile(folder.staged(TAGMANIFEST_SHA256), tagManifest, asReportFile);

    const order = [...(options.bag ? [PAYLOAD_DIR] : []), ...files];
    await folder.commit(order, ALL_OUTPUTS);
    return {
      outDir: options.outDir,
      files: order,
      model,
      payload: { bytes, count, oxum, complete: !!options.bag },
      missingObjects: { total: missingTotal, keys: missing },
    };
  } catch (error) {
    await folder.abort();
    throw error;
  }
}

/** The objects the manifests list for an archived fax: media then sidecar, each once, every media version included. */
function archivedObjects(fax: FaxRow): FaxRow['objects'] {
  const seen = new Set<string>();
  // Superseded media versions are archived bytes too (issue 11 §6): listed after the current ones.
  return [...fax.objects, ...(fax.previousObjects ?? [])]
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'media' ? -1 : 1))
    .filter((o) => (seen.has(o.key) ? false : (seen.add(o.key), true)));
}

/**
 * Puts one stored object into the bag's payload: a hard link when the store is on the same
 * filesystem (instant, no extra space; the store's files are never rewritten in place, so the link
 * cannot change under the bag), otherwise a streamed copy through the store. False when missing.
 * A link keeps the store's own mode (0600: changing it would change the store's file); a copy gets
 * the report's file mode.
 */
async function placePayload(
  store: Pick<MediaStore, 'read'>,
  storeRoot: string,
  key: string,
  target: string,
  madeDirs: Set<string>,
  modes: { dir: number; file: number },
): Promise<boolean> {
  const folder = dirname(target);
  if (!madeDirs.has(folder)) {
    mkdirSync(folder, { recursive: true, mode: modes.dir });
    madeDirs.add(folder);
  }
  try {
    linkSync(join(storeRoot, ...key.split('/')), target);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOENT' && code !== 'ENOTSUP') throw error;
  }
  const body = await store.read(key);
  if (body === null) return false;
  await pipeline(body, createWriteStream(target, { mode: modes.file }));
  return true;
}

/** Per account (every account with faxes or listings): "listed completely up to T", from the ledger. */
function listingCoverageOf(catalog: Catalog, faxAccounts: readonly string[]): AccountCoverage[] {
  const sweeps = catalog.listListingSweeps();
  const accounts = new Set([...faxAccounts, ...sweeps.map((s) => s.accountSid)]);
  return [...accounts].sort().map((account) => accountCoverage(account, sweeps.filter((s) => s.accountSid === account), null));
}
