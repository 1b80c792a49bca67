/**
 * `export`'s bag (issue 18 §4): the selected faxes as a BagIt bag (RFC 8493) with SHA-256 and
 * SHA-512 payload and tag manifests, ready to hand over:
 *
 *   bagit.txt, bag-info.txt (Payload-Oxum, Bagging-Date, ...), provenance.json (tag file),
 *   manifest-sha256.txt, manifest-sha512.txt, tagmanifest-sha256.txt, tagmanifest-sha512.txt,
 *   data/faxes.csv (every selected fax, archived or not), data/<store key> (media and sidecars).
 *
 * Every object streams from the store through both hashes and is kept only when its size and
 * SHA-256 are the catalog's (restore-objects.ts): a fax with an object missing or different is
 * left out of the payload whole, named in provenance.json and on stderr, and the export exits 1.
 * The folder is built under a temp name beside --out and renamed when complete, so a reader never
 * takes a half-written bag for a whole one. Files 0600, folders 0700: the bag is personal data.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { FaxRow, RunRecord } from '../catalog/catalog.js';
import { CSV_COLUMNS, csvRecordFor } from '../catalog/csv-export.js';
import type { FaxFilter, RecordsQuery } from '../catalog/records-query.js';
import { UsageError } from '../errors.js';
import { payloadOxum, renderBagInfo, renderBagitTxt } from '../report/bagit-manifests.js';
import type { MediaStore } from '../store/media-store.js';
import { ownTempName } from '../temp-files.js';
import { disclosedBy } from './disclosure-log.js';
import { copyVerified, objectsToRestore, type ObjectOutcome } from './restore-objects.js';

export const PROVENANCE_JSON = 'provenance.json';
export const FAXES_CSV = 'data/faxes.csv';
const ALGORITHMS = ['sha256', 'sha512'] as const;

export interface ExportOptions {
  query: RecordsQuery;
  store: MediaStore;
  filter: FaxFilter;
  /** The filter as the operator gave it, for provenance.json. */
  filterDescription: Record<string, string>;
  outDir: string;
  organization: string | null;
  softwareAgent: string;
  previous: boolean;
  now?: Date;
  /** Called once with the number of objects to copy, then per object copied (a progress bar). */
  onStart?: (objects: number) => void;
  onObject?: () => void;
}

export interface ExcludedFax {
  sid: string;
  problem: string;
}

export interface ExportResult {
  outDir: string;
  sids: string[];
  /** Selected faxes with nothing archived (listed, failed, lost): in faxes.csv only. */
  metadataOnlySids: string[];
  excluded: ExcludedFax[];
  payload: { files: number; bytes: number; oxum: string };
  /** SHA-256 of manifest-sha256.txt's bytes: what the disclosure event records. */
  manifestSha256: string;
  chain: { intact: boolean; events: number; headHash: string | null; brokenAtId: number | null };
}

interface PayloadFile {
  path: string;
  size: number;
  digests: Record<(typeof ALGORITHMS)[number], string>;
}

function digestsOf(bytes: Uint8Array): PayloadFile['digests'] {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), sha512: createHash('sha512').update(bytes).digest('hex') };
}

function manifestText(files: readonly PayloadFile[], alg: (typeof ALGORITHMS)[number]): string {
  // Two spaces, as `sha256sum -c` reads; paths are store keys (sids, dates), nothing to percent-encode.
  return [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => `${f.digests[alg]}  ${f.path}\n`).join('');
}

/** --out must not hold anything yet: a bag is handed over whole, never merged into an old one. */
export function assertFreshOut(outDir: string): void {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new UsageError(`--out ${outDir} already exists and is not empty: give a new folder for the bag`);
}

export async function writeExportBag(options: ExportOptions): Promise<ExportResult> {
  const now = options.now ?? new Date();
  const { query, store } = options;
  assertFreshOut(options.outDir);
  await mkdir(dirname(options.outDir), { recursive: true });
  const work = join(dirname(options.outDir), ownTempName().replace(/\.tmp$/, '.bag.tmp'));
  await mkdir(join(work, 'data'), { recursive: true, mode: 0o700 });
  try {
    const chain = query.catalog.checkEventChain();
    const faxes: FaxRow[] = [...query.find(options.filter)];
    options.onStart?.(faxes.reduce((n, f) => n + objectsToRestore(f, { previous: options.previous }).length, 0));

    const payload: PayloadFile[] = [];
    const excluded: ExcludedFax[] = [];
    const exported: string[] = [];
    const metadataOnly: string[] = [];
    for (const fax of faxes) {
      const targets = objectsToRestore(fax, { previous: options.previous });
      if (targets.length === 0) {
        metadataOnly.push(fax.sid);
        continue;
      }
      const files: PayloadFile[] = [];
      let problem: string | null = null;
      for (const target of targets) {
        const sha512 = createHash('sha512');
        const path = `data/${target.key}`;
        const outcome: ObjectOutcome = await copyVerified(store, target, work, path, (chunk) => sha512.update(chunk));
        options.onObject?.();
        if (outcome.outcome === 'restored') {
          files.push({ path, size: outcome.object.size, digests: { sha256: outcome.object.sha256Hex, sha512: sha512.digest('hex') } });
        } else {
          problem = outcome.outcome === 'missing' ? `${target.key} is missing from the store`
            : `${target.key}: ${outcome.detail}`;
          break;
        }
      }
      if (problem) {
        for (const f of files) await rm(join(work, ...f.path.split('/')), { force: true });
        excluded.push({ sid: fax.sid, problem });
      } else {
        payload.push(...files);
        exported.push(fax.sid);
      }
    }

    // faxes.csv: every selected fax (the project's CSV columns and cell rule), and whether its bytes are in the bag.
    const excludedSids = new Set(excluded.map((e) => e.sid));
    const exportedSids = new Set(exported);
    const csv = stringify(faxes.map((fax) => ({
      ...csvRecordFor(fax),
      in_bag: exportedSids.has(fax.sid) ? 'yes' : excludedSids.has(fax.sid) ? 'no: failed the check against the catalog' : 'no: nothing archived',
    })), { header: true, columns: [...CSV_COLUMNS, 'in_bag'] });
    const csvBytes = Buffer.from(csv, 'utf8');
    await writeFile(join(work, ...FAXES_CSV.split('/')), csvBytes, { mode: 0o600 });
    payload.push({ path: FAXES_CSV, size: csvBytes.length, digests: digestsOf(csvBytes) });

    const bytes = payload.reduce((n, f) => n + f.size, 0);
    const manifests = Object.fromEntries(ALGORITHMS.map((alg) => [alg, manifestText(payload, alg)])) as Record<(typeof ALGORITHMS)[number], string>;
    const manifestSha256 = createHash('sha256').update(manifests.sha256).digest('hex');
    const runs: RunRecord[] = query.catalog.listRuns(1_000_000).reverse();
    const provenance = {
      format: 'fax-sunset export provenance, version 1',
      exportedAt: now.toISOString(),
      exportedBy: disclosedBy(),
      software: options.softwareAgent,
      filter: options.filterDescription,
      catalog: { path: query.path, identity: query.catalog.identity() },
      store: store.displayUrl,
      eventChain: { intact: chain.intact, events: chain.events, headHash: chain.headHash ?? null, brokenAtId: chain.brokenAtId },
      runs: runs.map((r) => ({ id: r.id, kind: r.kind, startedAt: r.startedAt, finishedAt: r.finishedAt, exitCode: r.exitCode, ranBy: r.options.ranBy ?? null })),
      faxes: { selected: faxes.length, inBag: exported, nothingArchived: metadataOnly, excluded },
      payload: { files: payload.length, bytes, oxum: payloadOxum(bytes, payload.length), manifestSha256 },
    };
    const tags: Array<[string, string]> = [
      ['bagit.txt', renderBagitTxt()],
      ['bag-info.txt', renderBagInfo({
        sourceOrganization: options.organization, accountSids: [...new Set(faxes.map((f) => f.accountSid))].sort(),
        baggingDate: now.toISOString().slice(0, 10), payloadBytes: bytes, payloadCount: payload.length, storeUrl: store.displayUrl,
        softwareAgent: options.softwareAgent,
        description: `Records export of ${exported.length} faxes by ${provenance.exportedBy} at ${provenance.exportedAt}; see ${PROVENANCE_JSON}`,
      })],
      [PROVENANCE_JSON, `${JSON.stringify(provenance, null, 2)}\n`],
      ['manifest-sha256.txt', manifests.sha256],
      ['manifest-sha512.txt', manifests.sha512],
    ];
    const tagFiles: PayloadFile[] = [];
    for (const [name, text] of tags) {
      const data = Buffer.from(text, 'utf8');
      await writeFile(join(work, name), data, { mode: 0o600 });
      tagFiles.push({ path: name, size: data.length, digests: digestsOf(data) });
    }
    for (const alg of ALGORITHMS) await writeFile(join(work, `tagmanifest-${alg}.txt`), manifestText(tagFiles, alg), { mode: 0o600 });
    assertFreshOut(options.outDir);
    await rm(options.outDir, { recursive: true, force: true }); // an empty folder the operator made
    await rename(work, options.outDir);
    return {
      outDir: options.outDir, sids: exported, metadataOnlySids: metadataOnly, excluded,
      payload: { files: payload.length, bytes, oxum: payloadOxum(bytes, payload.length) }, manifestSha256,
      chain: provenance.eventChain,
    };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/** Every file of the bag as ZIP entries under one top folder named after the zip (RFC 8493 §4.1's serialization). */
export function bagZipEntries(bagDir: string, topName: string): Array<{ name: string; path: string }> {
  const entries: Array<{ name: string; path: string }> = [];
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(full, name);
      else entries.push({ name: `${topName}/${name}`, path: full });
    }
  };
  walk(bagDir, '');
  return entries;
}

export function zipTopName(zipPath: string): string {
  return basename(zipPath).replace(/\.zip$/i, '') || 'bag';
}
