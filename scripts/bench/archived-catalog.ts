/**
 * Builds an archived catalog directly through the Catalog API, the way the pipeline writes it, but
 * with synthetic objects instead of stored bytes: `recordListed` in pages of 1000 (the listing's page
 * size, timed: the catalog's insert rate), then each fax through fetched -> stored -> verified (or
 * metadata-only). The faxes are the emulator's own, so a later `sync` against it finds them unchanged.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../../src/catalog/catalog.js';
import { openCatalog } from '../../src/catalog/sqlite-catalog.js';
import { DEFAULT_EMULATOR_NOW } from '../../src/emulator/index.js';
import { hasMedia, sanitizeFaxJson, sidecarFor } from '../../src/pipeline/fax-metadata.js';
import { mediaObjectKey, sidecarObjectKey } from '../../src/store/object-layout.js';

export const LISTING_PAGE_SIZE = 1000;

export interface ArchivedCatalogTimings {
  rows: number;
  /** Time spent in recordListed (pages of LISTING_PAGE_SIZE). */
  listedMs: number;
  /** Time spent moving every row to verified / metadata-only. */
  archivedMs: number;
}

function hex(seed: string, algorithm: 'sha256' | 'md5'): string {
  return createHash(algorithm).update(seed).digest('hex');
}

function markArchived(catalog: Catalog, fax: Record<string, unknown>, at: string): void {
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
    catalog.markStored(sid, [sidecarObject]);
    catalog.markVerified(sid, [{ kind: 'sidecar', method: 'checksum', at }]);
    return;
  }
  const pages = typeof fax.num_pages === 'number' ? fax.num_pages : 1;
  const media = { size: 40_000 * pages, sha256Hex: hex(`${sid}:media`, 'sha256'), md5Hex: hex(`${sid}:media`, 'md5'), contentType: 'application/pdf', pages };
  catalog.markFetched(sid, media);
  catalog.markStored(sid, [
    { kind: 'media', key: mediaObjectKey({ accountSid, faxSid: sid, dateCreated, kind: 'pdf' }), size: media.size, sha256Hex: media.sha256Hex, md5Hex: media.md5Hex, contentType: media.contentType, etag: `"${media.md5Hex}"`, versionId: null, storedAt: at },
    sidecarObject,
  ]);
  catalog.markVerified(sid, [
    { kind: 'media', method: 'checksum', at },
    { kind: 'sidecar', method: 'checksum', at },
  ]);
}

/** Writes `faxes` (Fax API JSON) into a new catalog at `path`, all archived. */
export function buildArchivedCatalog(path: string, faxes: readonly Record<string, unknown>[]): ArchivedCatalogTimings {
  const catalog = openCatalog(path);
  try {
    const runId = catalog.startRun('archive', { note: 'bench: synthetic archived catalog' });
    const sanitized = faxes.map((fax) => sanitizeFaxJson(fax));
    const listedStarted = performance.now();
    for (let i = 0; i < sanitized.length; i += LISTING_PAGE_SIZE) {
      catalog.recordListed(sanitized.slice(i, i + LISTING_PAGE_SIZE), runId);
    }
    const listedMs = performance.now() - listedStarted;
    // As the archive that listed them would have: one completed full sweep per account, started at
    // the emulator's clock, so the sync's watermark comes from the ledger (issue 11 §3).
    for (const accountSid of new Set(sanitized.map((fax) => String(fax.account_sid)))) {
      const sweep = catalog.startListingSweep(accountSid, { startedAt: DEFAULT_EMULATOR_NOW.toISOString(), rangeAfter: null, rangeOnOrBefore: null }, runId);
      catalog.completeListingSweep(sweep.id);
    }
    const at = new Date().toISOString();
    const archivedStarted = performance.now();
    for (const fax of sanitized) markArchived(catalog, fax, at);
    const archivedMs = performance.now() - archivedStarted;
    catalog.finishRun(runId, 0, { archived: sanitized.length });
    return { rows: sanitized.length, listedMs, archivedMs };
  } finally {
    catalog.close();
  }
}
