/**
 * Builds an archived catalog directly through the Catalog API, the way the pipeline writes it, but
 * with synthetic objects instead of stored bytes: `recordListed` in pages of 1000 (the listing's page
 * size, timed: the catalog's insert rate), then each fax through fetched -> stored -> verified (or
 * metadata-only), some one transaction per step and the rest in `recordSteps` batches (both timed). The faxes are the emulator's own, so a later `sync` against it finds them unchanged.
 */
import { createHash } from 'node:crypto';
import type { ArchiveStep, Catalog } from '../../src/catalog/catalog.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { DEFAULT_EMULATOR_NOW } from '../../src/emulator/index.js';
import { hasMedia, sanitizeFaxJson, sidecarFor } from '../../src/archive/fax-metadata.js';
import { mediaObjectKey, sidecarObjectKey } from '../../src/store/object-layout.js';

export const LISTING_PAGE_SIZE = 1000;

/** Faxes per `recordSteps` batch (2 or 3 steps each): what an engine committing every ~100 faxes writes. */
export const STEP_BATCH_FAXES = 100;

export interface ArchivedCatalogTimings {
  rows: number;
  /** Wall and CPU time spent in recordListed (pages of LISTING_PAGE_SIZE). */
  listedMs: number;
  listedCpuMs: number;
  /** Faxes moved to verified / metadata-only one step per transaction, and their times. */
  singleRows: number;
  singleMs: number;
  singleCpuMs: number;
  /** Faxes moved by recordSteps batches, and their times. */
  batchedRows: number;
  batchedMs: number;
  batchedCpuMs: number;
}

function hex(seed: string, algorithm: 'sha256' | 'md5'): string {
  return createHash(algorithm).update(seed).digest('hex');
}

/** The three steps that take one fax to verified (or two to metadata-only), with synthetic objects. */
function archiveSteps(fax: Record<string, unknown>, at: string): ArchiveStep[] {
  const sid = String(fax.sid);
  const accountSid = String(fax.account_sid);
  const dateCreated = typeof fax.date_created === 'string' ? fax.date_created : null;
  const sidecar = sidecarFor(fax);
  const sidecarObject = {
    kind: 'sidecar' as const,
    key: sidecarObjectKey({ accountSid, faxSid: sid, dateCreated }),
    size: sidecar.bytes.length,
    sha256Hex: sidecar.sha256Hex,
    md5Hex: sidecar.md5Hex,
    contentType: 'application/json',
    etag: `"${sidecar.md5Hex}"`,
    versionId: null,
    storedAt: at,
  };
  if (!hasMedia(fax)) {
    return [
      { step: 'stored', sid, objects: [sidecarObject] },
      { step: 'verified', sid, verifications: [{ kind: 'sidecar', method: 'checksum', at }] },
    ];
  }
  const pages = typeof fax.num_pages === 'number' ? fax.num_pages : 1;
  const media = { size: 40_000 * pages, sha256Hex: hex(`${sid}:media`, 'sha256'), md5Hex: hex(`${sid}:media`, 'md5'), contentType: 'application/pdf', pages };
  return [
    { step: 'fetched', sid, media },
    {
      step: 'stored',
      sid,
      objects: [
        { kind: 'media', key: mediaObjectKey({ accountSid, faxSid: sid, dateCreated, kind: 'pdf' }), size: media.size, sha256Hex: media.sha256Hex, md5Hex: media.md5Hex, contentType: media.contentType, etag: `"${media.md5Hex}"`, versionId: null, storedAt: at },
        sidecarObject,
      ],
    },
    { step: 'verified', sid, verifications: [{ kind: 'media', method: 'checksum', at }, { kind: 'sidecar', method: 'checksum', at }] },
  ];
}

/** One fax's steps through the single-step methods: one transaction each (the engine's path before recordSteps). */
function applyOneByOne(catalog: Catalog, steps: readonly ArchiveStep[]): void {
  for (const s of steps) {
    if (s.step === 'fetched') catalog.markFetched(s.sid, s.media);
    else if (s.step === 'stored') catalog.markStored(s.sid, s.objects);
    else catalog.markVerified(s.sid, s.verifications);
  }
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/**
 * Writes `faxes` (Fax API JSON) into a new catalog at `path`, all archived: listed in pages, then the
 * first `oneByOne` faxes through the single-step methods and the rest through `recordSteps` in
 * batches of STEP_BATCH_FAXES faxes. Inputs are built before the clocks start.
 */
export function buildArchivedCatalog(path: string, faxes: readonly Record<string, unknown>[], options: { oneByOne?: number } = {}): ArchivedCatalogTimings {
  const catalog = openCatalog(path);
  try {
    const runId = catalog.startRun('archive', { note: 'bench: synthetic archived catalog' });
    const sanitized = faxes.map((fax) => sanitizeFaxJson(fax));
    const pages: Record<string, unknown>[][] = [];
    for (let i = 0; i < sanitized.length; i += LISTING_PAGE_SIZE) pages.push(sanitized.slice(i, i + LISTING_PAGE_SIZE));
    let cpu = process.cpuUsage();
    const listedStarted = performance.now();
    for (const page of pages) catalog.recordListed(page, runId);
    const listedMs = performance.now() - listedStarted;
    const listedCpuMs = cpuMs(cpu);
    // As the archive that listed them would have: one completed full sweep per account, started at
    // the emulator's clock, so the sync's watermark comes from the ledger (issue 11 §3).
    for (const accountSid of new Set(sanitized.map((fax) => String(fax.account_sid)))) {
      const sweep = catalog.startListingSweep(accountSid, { startedAt: DEFAULT_EMULATOR_NOW.toISOString(), rangeAfter: null, rangeOnOrBefore: null }, runId);
      catalog.completeListingSweep(sweep.id);
    }
    const at = new Date().toISOString();
    const steps = sanitized.map((fax) => archiveSteps(fax, at));
    const oneByOne = Math.min(options.oneByOne ?? 0, steps.length);

    cpu = process.cpuUsage();
    let started = performance.now();
    for (const faxSteps of steps.slice(0, oneByOne)) applyOneByOne(catalog, faxSteps);
    const singleMs = performance.now() - started;
    const singleCpuMs = cpuMs(cpu);

    cpu = process.cpuUsage();
    started = performance.now();
    for (let i = oneByOne; i < steps.length; i += STEP_BATCH_FAXES) {
      const batch = steps.slice(i, i + STEP_BATCH_FAXES).flat();
      const refused = catalog.recordSteps(batch).find((outcome) => outcome !== null);
      if (refused) throw refused;
    }
    const batchedMs = performance.now() - started;
    const batchedCpuMs = cpuMs(cpu);
    catalog.finishRun(runId, 0, { archived: sanitized.length });
    return { rows: sanitized.length, listedMs, listedCpuMs, singleRows: oneByOne, singleMs, singleCpuMs, batchedRows: steps.length - oneByOne, batchedMs, batchedCpuMs };
  } finally {
    catalog.close();
  }
}
