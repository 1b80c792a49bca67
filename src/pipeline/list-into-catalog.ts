/**
 * The listing half of an archive run: every account's faxes, page by page, into the catalog. New
 * faxes become `listed` (the queue of work), changed ones keep their old version in the history.
 * Shared by `archive`/`sync` and by `serve --sync-every`, whose worker archives what it records.
 */
import type { Catalog } from '../catalog/catalog.js';
import { AuthError, describeError, InvariantError } from '../errors.js';
import type { TwilioFax, TwilioGateway } from '../twilio/twilio-gateway.js';
import type { ArchiveObserver } from './archive-observer.js';
import { sanitizeFaxJson } from './fax-metadata.js';

/**
 * Bounds the memory of remembered media URLs (~400 bytes each). The listing comes newest first and
 * the archive goes oldest first, so the window keeps the LAST ones listed: the first to be used.
 * A fax beyond it is fetched again for a fresh URL (as one whose URL expired meanwhile is).
 */
const MAX_REMEMBERED_URLS = 50_000;

export interface ListingContext {
  catalog: Catalog;
  observer: ArchiveObserver;
  runId: number | null;
  /** Filled with each fax's pre-signed media URL (bounded), saving the archive a fetch per fax. */
  freshMediaUrls?: Map<string, string>;
  /**
   * When given, one account's trouble stays its own (issue 11 §4): an account that fails to list
   * is added here and the others are listed; only the main account's refused credentials throw.
   */
  accountsFailed?: Array<{ sid: string; reason: string }>;
  mainAccountSid?: string;
  knownSecrets?: readonly string[];
  /** Filled with the accounts whose credentials Twilio refused (suspended since, revoked): not archived this run. */
  refusedAccounts?: Set<string>;
}

export interface ListingCounts {
  listed: number;
  newFaxes: number;
  updatedFaxes: number;
  /** Records kept out of the catalog: malformed, or of another account than the one listed. */
  quarantined: number;
}

/**
 * Lists every account's faxes (bounded by --since/--until, or for a sync by the watermark minus
 * the lookback) and records each page in the catalog as it arrives: new faxes become `listed`, the
 * queue of work; changed ones keep their old version in the history. A dry run records nothing.
 * Also used by `serve --sync-every`, whose worker then archives what was recorded.
 */
export async function listIntoCatalog(
  ctx: ListingContext,
  gateways: ReadonlyMap<string, TwilioGateway>,
  options: ListingBounds,
): Promise<ListingCounts> {
  const { catalog, observer } = ctx;
  const counts: ListingCounts = { listed: 0, newFaxes: 0, updatedFaxes: 0, quarantined: 0 };
  for (const [accountSid, gateway] of gateways) {
    observer.phase('list', { account: accountSid });
    let quarantinedHere = 0;
    const quarantine = (problem: string, record: { sid?: unknown; account_sid?: unknown }): void => {
      quarantinedHere++;
      counts.quarantined++;
      observer.warning(`quarantined a record listed for account ${accountSid}: ${problem}`);
      if (options.dryRun) return;
      ctx.catalog.appendEvent('record-quarantined', {
        listedFor: accountSid,
        problem,
        faxSid: typeof record.sid === 'string' ? record.sid.slice(0, 40) : null,
        accountSid: typeof record.account_sid === 'string' ? record.account_sid.slice(0, 40) : null,
      });
    };
    try {
      const since = listingStart(catalog, accountSid, options);
      const query = {
        pageSize: 1000,
        ...(since ? { createdAfter: since } : {}),
        ...(options.until ? { createdOnOrBefore: options.until } : {}),
        onMalformedRecord: (problem: string, record: unknown) => quarantine(problem, (record ?? {}) as Record<string, unknown>),
      };
      for await (const listedPage of gateway.listFaxPages(query)) {
        // A record of another account is never stored under this one's prefix, nor deleted with its credentials.
        const page: TwilioFax[] = [];
        for (const fax of listedPage) {
          if (fax.account_sid === accountSid) page.push(fax);
          else quarantine(`fax ${fax.sid} belongs to account ${fax.account_sid}`, fax);
        }
        counts.listed += page.length;
        observer.listed(page.length);
        if (options.dryRun) {
          for (const fax of page) if (!catalog.getFax(fax.sid)) counts.newFaxes++;
          continue;
        }
        if (ctx.freshMediaUrls) {
          const urls = ctx.freshMediaUrls;
          for (const fax of page) {
            if (typeof fax.media_url !== 'string') continue;
            urls.set(fax.sid, fax.media_url);
            if (urls.size > MAX_REMEMBERED_URLS) urls.delete(urls.keys().next().value as string);
          }
        }
        const changes = catalog.recordListed(page.map((fax) => sanitizeFaxJson(fax)), ctx.runId);
        for (const change of changes) {
          if (change === 'new') counts.newFaxes++;
          else if (change === 'updated') counts.updatedFaxes++;
        }
      }
      if (quarantinedHere > 0) ctx.accountsFailed?.push({ sid: accountSid, reason: `${quarantinedHere} record(s) quarantined from its listing` });
    } catch (error) {
      // A refused invariant (credentials about to leave for a foreign host) is never one account's trouble.
      if (!ctx.accountsFailed || error instanceof InvariantError || (accountSid === ctx.mainAccountSid && error instanceof AuthError)) throw error;
      if (error instanceof AuthError) ctx.refusedAccounts?.add(accountSid);
      const reason = `listing failed: ${describeError(error, ctx.knownSecrets)}`;
      ctx.accountsFailed.push({ sid: accountSid, reason });
      observer.warning(`account ${accountSid}: ${reason}; the other accounts go on`);
    }
  }
  return counts;
}

/** Where the listing starts: --since, or for a sync the watermark minus the lookback. */
export function listingStart(catalog: Catalog, accountSid: string, options: Pick<ListingBounds, 'since' | 'incrementalLookbackMs'>): Date | undefined {
  if (options.incrementalLookbackMs === undefined) return options.since;
  const watermark = catalog.watermark(accountSid);
  if (!watermark) return options.since;
  const fromWatermark = new Date(Date.parse(watermark) - options.incrementalLookbackMs);
  if (options.since && options.since > fromWatermark) return options.since;
  return fromWatermark;
}

/** What bounds a listing: --since/--until, or for a sync the watermark minus the lookback. */
export interface ListingBounds {
  since?: Date;
  until?: Date;
  incrementalLookbackMs?: number;
  /** Count what is new without recording anything. */
  dryRun?: boolean;
}
