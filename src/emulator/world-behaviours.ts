/**
 * The fax world as it was (issue 12 §3), laid over the generated world with its own seeded stream
 * (so the base world's sids, dates and media stay what they were). Sources for each behaviour are
 * in src/emulator/README.md.
 *
 * On by default (what real Twilio always did, in seeded proportions):
 * - outbound faxes that ended `no-answer`, `busy` or `failed` often kept their document as media
 *   (`failedWithMedia`; `num_pages` counts what was sent: 0..pages-1 on failed, null on busy/no-answer);
 * - `duration: null` on busy; `price_unit: null` beside `price: null` (twilio-json.ts);
 * - media served with an inexact Content-Type (`inexactContentTypes`: S3 objects stored without
 *   one answer `application/octet-stream` or `binary/octet-stream`).
 * Behind a flag (conditions, default 0):
 * - `contradictoryMedia`: a share of faxes with media whose record contradicts itself, half with
 *   `media_sid` set and `media_url` null (made canceled when outbound, as seen), half with
 *   `media_url` set and `media_sid` null (a received fax with pages and a working URL);
 * - `inProgress`: a share of faxes still `queued`/`processing`/`sending`/`receiving`, created in
 *   the last minutes, that become final as the emulator's clock moves (clock-effects.ts).
 */
import type { FaxRecord, FaxStatus } from './emulator-records.js';
import { SeededRandom } from './seeded-random.js';
import { priceFor, randomPageCount } from './world-generator.js';

export interface WorldBehaviourOptions {
  /** Outbound failed/no-answer/busy faxes keep their document as media (share 0.6). Default true. */
  failedWithMedia: boolean;
  /** Share of media served as application/octet-stream or binary/octet-stream. Default 0.05. */
  inexactContentTypes: number;
  /** Share of faxes with media whose record contradicts itself. Default 0. */
  contradictoryMedia: number;
  /** Share of faxes still in progress at start-up, final within 30 minutes of emulator time. Default 0. */
  inProgress: number;
  /**
   * Share of media in real-world writers' shapes: PDFs with object streams or incremental updates,
   * multi-strip TIFFs with a thumbnail IFD (media/real-world-files.ts). Default 0.
   */
  realWorldFiles: number;
  /** Share of faxes whose media URL in a listing is signed with an already expired session token. Default 0. */
  expiredTokenInListings: number;
}

export const DEFAULT_WORLD_BEHAVIOURS: WorldBehaviourOptions = {
  failedWithMedia: true,
  inexactContentTypes: 0.05,
  contradictoryMedia: 0,
  inProgress: 0,
  realWorldFiles: 0,
  expiredTokenInListings: 0,
};

const FAILED_WITH_MEDIA_SHARE = 0.6;
const UNFINISHED_OUTBOUND: readonly FaxStatus[] = ['queued', 'processing', 'sending'];

/** Changes `faxes` in place, before they are loaded. Deterministic from the seed. */
export function applyWorldBehaviours(faxes: FaxRecord[], options: WorldBehaviourOptions, seed: number, nowMs: number): void {
  const rng = new SeededRandom(seed, 'world-behaviours');
  for (const fax of faxes) {
    // Draw the same numbers whatever the options, so one flag does not reshuffle the others.
    const draws = { media: rng.next(), pages: randomPageCount(rng), sent: rng.next(), type: rng.next(), typePick: rng.next(),
      contradict: rng.next(), half: rng.next(), progress: rng.next(), age: rng.int(0, 600), settle: rng.int(60, 1800), stage: rng.next() };
    const endedUnsent = fax.direction === 'outbound' && (fax.status === 'failed' || fax.status === 'no-answer' || fax.status === 'busy');
    if (endedUnsent && options.failedWithMedia && draws.media < FAILED_WITH_MEDIA_SHARE) {
      fax.mediaSid = rng.sid('ME');
      fax.mediaPages = draws.pages;
      fax.numPages = fax.status === 'failed' ? Math.floor(draws.sent * draws.pages) : null;
    }
    if (fax.status === 'busy') fax.duration = null;
    if (fax.mediaSid && draws.type < options.inexactContentTypes) {
      fax.servedContentType = draws.typePick < 0.5 ? 'application/octet-stream' : 'binary/octet-stream';
    }
    if (fax.mediaSid && draws.progress < options.realWorldFiles) {
      fax.realWorldFile = fax.contentType === 'image/tiff' ? 'multi-strip' : draws.stage < 0.5 ? 'object-streams' : 'incremental-update';
      continue;
    }
    if (fax.mediaSid && draws.contradict < options.contradictoryMedia) {
      if (draws.half < 0.5) {
        fax.hiddenMediaField = 'media_url';
        if (fax.direction === 'outbound') {
          fax.status = 'canceled';
          fax.mediaPages = fax.mediaPages ?? fax.numPages;
          fax.numPages = null;
          fax.price = null;
        }
      } else {
        fax.hiddenMediaField = 'media_sid';
      }
      continue;
    }
    if (draws.progress < options.inProgress) {
      const final = { status: fax.status, numPages: fax.numPages, duration: fax.duration, price: fax.price, mediaSid: fax.mediaSid };
      fax.createdMs = Math.floor((nowMs - draws.age * 1000) / 1000) * 1000;
      fax.updatedMs = fax.createdMs;
      fax.status = fax.direction === 'inbound' ? 'receiving' : (UNFINISHED_OUTBOUND[Math.floor(draws.stage * 3)] as FaxStatus);
      fax.numPages = null;
      fax.duration = null;
      fax.price = null;
      fax.mediaSid = null;
      fax.settles = { atMs: fax.createdMs + draws.settle * 1000, ...final };
    }
  }
}

/** Price of a finished fax (re-exported for hooks that finish one). */
export { priceFor };
