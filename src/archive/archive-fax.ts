/**
 * One fax through the state machine: listed -> fetched -> stored -> verified (or metadata-only).
 * Each step commits its state before the next begins, and every step is idempotent, so a crash at
 * any instant leaves a row the next run finishes: object keys are deterministic, an object already
 * stored with the same checksum is not sent again, and a spool file is never trusted across runs.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Catalog, FaxRow, ObjectKind, ObjectRecord, VerificationMethod } from '../catalog/catalog.js';
import { ChecksumMismatchError, describeError, MediaValidationError, StoreUnavailableError } from '../errors.js';
import type { MediaStore, PutObjectInput, PutObjectResult } from '../store/media-store.js';
import { mediaVersionKey, sidecarObjectKey, type MediaKind } from '../store/object-layout.js';
import { verifyStoredObject, type VerificationOutcome } from '../store/verify-object.js';
import type { TwilioFax, TwilioFaxMedia, TwilioGateway } from '../twilio/twilio-gateway.js';
import { archiveNeedsMedia, mediaEvidence } from '../catalog/media-evidence.js';
import { sidecarFor } from './fax-metadata.js';
import { countPages, fileExtensionFor, mediaKindForContentType, mediaKindFromMagic, mediaStructureOk } from './media-inspection.js';
import { contentTypeNote, etagVerdict, judgeEtagMismatch, mediaProblems } from './media-check.js';
import { spoolToFile, type SpooledFile } from './spool-download.js';

export interface ArchiveFaxContext {
  catalog: Catalog;
  store: MediaStore;
  gateway: TwilioGateway;
  spoolDir: string;
  forceFullVerify: boolean;
  /** Caps concurrent uploads to the store. */
  uploadCap: <T>(task: () => Promise<T>) => Promise<T>;
  now: () => Date;
  /** Secrets to scrub from any error text before it is recorded. */
  knownSecrets: readonly string[];
}

export type FaxOutcome = 'archived' | 'metadata-only' | 'failed' | 'lost' | 'needs-review';

export interface FaxResult {
  sid: string;
  accountSid: string;
  outcome: FaxOutcome;
  /** Media bytes stored (0 when already present or metadata only). */
  bytes: number;
  /** Whether the failure was a checksum mismatch at the store (makes the run refuse deletions). */
  checksumMismatch?: boolean;
  error?: string;
}

/** Whether this fax's archive must hold media: any field says so, unless a person accepted it without. */
function needsMedia(row: FaxRow): boolean {
  return archiveNeedsMedia(row.raw, Boolean(row.missingMediaAcceptedAt));
}

export async function archiveFax(row: FaxRow, ctx: ArchiveFaxContext): Promise<FaxResult> {
  const base = { sid: row.sid, accountSid: row.accountSid };
  try {
    if (row.state === 'failed' || row.state === 'fetched') {
      // A spool file never outlives its run, so a fetched row is fetched again.
      ctx.catalog.resetToListed(row.sid, row.state === 'failed' ? 'retry after failure' : 'resume after interruption');
    }
    if (row.state === 'stored') {
      const verified = await verifyRecordedObjects(row, ctx);
      if (verified) return { ...base, outcome: needsMedia(row) ? 'archived' : 'metadata-only', bytes: 0 };
      ctx.catalog.resetToListed(row.sid, 'stored object did not verify; archiving again');
    }
    if (!needsMedia(row)) return await archiveMetadataOnly(row, ctx);
    if (row.state === 'listed') {
      const kept = await keptMediaObject(row, ctx);
      if (kept) return await rewriteSidecar(row, kept, ctx);
    }
    return await archiveWithMedia(row, ctx);
  } catch (error) {
    const message = describeError(error, ctx.knownSecrets);
    const current = ctx.catalog.getFax(row.sid);
    // A store that gave no verdict leaves the fax as it is (stored, or listed with its media kept):
    // the next run asks the store again instead of fetching the fax from Twilio.
    if (error instanceof StoreUnavailableError) {
      ctx.catalog.appendEvent('store-unavailable', { note: message }, row.sid);
    } else if (current && current.state !== 'lost' && current.state !== 'deleted') {
      ctx.catalog.markFailed(row.sid, message);
    }
    return { ...base, outcome: 'failed', bytes: 0, error: message, checksumMismatch: error instanceof ChecksumMismatchError };
  }
}

/**
 * A fax never attempted before has no object any earlier run could have written (objects are
 * written only after `listed`, and a failure counts an attempt), so the store need not look for
 * one first. A crash after a write but before the catalog heard of it is the one exception, and
 * writing the same bytes again is harmless.
 */
function firstAttempt(row: FaxRow): boolean {
  return row.state === 'listed' && row.attempts === 0 && row.objects.length === 0;
}

async function archiveMetadataOnly(row: FaxRow, ctx: ArchiveFaxContext): Promise<FaxResult> {
  const sidecar = await putSidecar(row, ctx, firstAttempt(row));
  ctx.catalog.markStored(row.sid, [sidecar]);
  await verifyOrThrow(row.sid, [sidecar], ctx);
  return { sid: row.sid, accountSid: row.accountSid, outcome: 'metadata-only', bytes: 0 };
}

async function archiveWithMedia(row: FaxRow, ctx: ArchiveFaxContext): Promise<FaxResult> {
  const spoolPath = join(ctx.spoolDir, `${row.sid}.part`);
  const first = firstAttempt(row);
  try {
    const fetched = await downloadMedia(row, spoolPath, ctx);
    if (fetched === 'lost') {
      ctx.catalog.markLost(row.sid, 'Twilio no longer has this fax (404) and it was never archived');
      return { sid: row.sid, accountSid: row.accountSid, outcome: 'lost', bytes: 0 };
    }
    if ('review' in fetched) {
      ctx.catalog.markNeedsReview(row.sid, fetched.review);
      return { sid: row.sid, accountSid: row.accountSid, outcome: 'needs-review', bytes: 0, error: fetched.review };
    }
    ctx.catalog.markFetched(row.sid, fetched.media);
    if (fetched.note) ctx.catalog.appendEvent('media-content-type-inexact', { note: fetched.note }, row.sid);

    const key = mediaKeyFor(row, fetched.media.sha256Hex, fileExtensionFor(fetched.kind));
    // Media and sidecar go up side by side: each is its own object, verified on its own below.
    const [put, sidecar] = await bothSettled([
      putChecked(
        {
          key,
          body: { filePath: spoolPath, stamp: fetched.stamp },
          size: fetched.media.size,
          sha256Hex: fetched.media.sha256Hex,
          md5Hex: fetched.media.md5Hex,
          contentType: fetched.media.contentType,
          metadata: { 'fax-sid': row.sid, 'account-sid': row.accountSid },
          mayExist: !first,
        },
        ctx,
      ),
      putSidecar(row, ctx, first),
    ]);
    const mediaObject: Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'> = {
      kind: 'media',
      key,
      size: fetched.media.size,
      sha256Hex: fetched.media.sha256Hex,
      md5Hex: fetched.media.md5Hex,
      contentType: fetched.media.contentType,
      etag: put.etag,
      versionId: put.versionId,
      storedAt: ctx.now().toISOString(),
    };
    ctx.catalog.markStored(row.sid, [mediaObject, sidecar]);
    await verifyOrThrow(row.sid, [mediaObject, sidecar], ctx);
    return { sid: row.sid, accountSid: row.accountSid, outcome: 'archived', bytes: put.alreadyPresent ? 0 : fetched.media.size };
  } finally {
    await rm(spoolPath, { force: true });
  }
}

/**
 * Where these media bytes go (issue 11 §6). Bytes already recorded for the fax (its current or a
 * superseded version) keep their key; new bytes for a fax that already has a verified media copy
 * get the next version's key, so that copy is never overwritten. An unverified object proves
 * nothing and its key may be written again (a crash before verification, a copy found bad).
 */
export function mediaKeyFor(row: Pick<FaxRow, 'sid' | 'accountSid' | 'dateCreated' | 'objects' | 'previousObjects'>, sha256Hex: string, kind: MediaKind): string {
  const ref = { accountSid: row.accountSid, faxSid: row.sid, dateCreated: row.dateCreated, kind };
  const current = row.objects.find((o) => o.kind === 'media');
  const versions = [...(row.previousObjects ?? []).filter((o) => o.kind === 'media'), ...(current?.verifiedAt ? [current] : [])];
  const same = versions.find((o) => o.sha256Hex === sha256Hex);
  if (same) return same.key;
  return mediaVersionKey({ ...ref, version: versions.length + 1 });
}

type KeptMedia = { media: NonNullable<FaxRow['media']>; object: ObjectRecord };

/**
 * A fax sent back to `listed` because its metadata changed (not its media) still has its media
 * facts and its stored media object. When that object still verifies, the media is not fetched
 * again: only the sidecar is rewritten. Anything else (no facts, another object, a failed check)
 * returns null and the fax is archived from scratch.
 */
async function keptMediaObject(row: FaxRow, ctx: ArchiveFaxContext): Promise<KeptMedia | null> {
  const media = row.media;
  const object = row.objects.find((o) => o.kind === 'media');
  if (!media || !object || object.sha256Hex !== media.sha256Hex || object.size !== media.size) return null;
  const check = await verifyStoredObject(ctx.store, object.key, object, { forceFull: ctx.forceFullVerify });
  if (check.outcome === 'unavailable') throw unavailable(object, check);
  return check.outcome === 'match' ? { media, object } : null;
}

async function rewriteSidecar(row: FaxRow, kept: KeptMedia, ctx: ArchiveFaxContext): Promise<FaxResult> {
  ctx.catalog.markFetched(row.sid, kept.media);
  const sidecar = await putSidecar(row, ctx, false);
  const { verifiedAt: _verifiedAt, verificationMethod: _method, ...mediaObject } = kept.object;
  ctx.catalog.markStored(row.sid, [mediaObject, sidecar]);
  await verifyOrThrow(row.sid, [mediaObject, sidecar], ctx);
  return { sid: row.sid, accountSid: row.accountSid, outcome: 'archived', bytes: 0 };
}

interface FetchedMedia {
  kind: MediaKind;
  stamp: SpooledFile['stamp'];
  media: NonNullable<FaxRow['media']>;
  /** Set when the served Content-Type did not name the kind the bytes are. */
  note: string | null;
}

/** The fax's record says media, but none can be had: a person must decide (needs-review). */
interface NoMediaToBeHad {
  review: string;
}

/**
 * The fax's record says media but Twilio gives no media_url even on a fresh fetch (seen on canceled
 * faxes with a media_sid): the Fax API offers no other way to the bytes, so the fax goes to
 * needs-review with what was found (issue 11 §2), never to metadata-only.
 */
function noMediaToBeHad(row: FaxRow, fax: TwilioFax, faxMedia: readonly TwilioFaxMedia[]): NoMediaToBeHad {
  const listed = mediaEvidence(row.raw).signals;
  const now = mediaEvidence(fax).signals;
  const found = faxMedia.length > 0 ? `FaxMedia lists ${faxMedia.map((m) => m.sid).join(', ')} but gives no download URL` : 'FaxMedia lists none';
  return {
    review:
      `the record says media (${listed.join(', ') || 'none'}; status ${String(row.raw.status)}) but Twilio gives no media_url ` +
      `(a fresh fetch says ${now.join(', ') || 'no media'}; ${found}): archive nothing, delete nothing, until a person decides`,
  };
}

/**
 * Downloads to the spool and checks the bytes. The gateway finds the URL (and refreshes an expired
 * one); a download whose bytes contradict the media host's ETag is made once more.
 */
async function downloadMedia(row: FaxRow, spoolPath: string, ctx: ArchiveFaxContext): Promise<FetchedMedia | 'lost' | NoMediaToBeHad> {
  let mismatched: { sha256Hex: string; etag: string } | null = null;
  for (;;) {
    const opening = await ctx.gateway.openFaxMedia(row.sid);
    if (opening.kind === 'gone') return 'lost';
    if (opening.kind === 'no-media-url') return noMediaToBeHad(row, opening.fax, opening.faxMedia);
    const download = opening.download;
    const spooled = await spoolToFile(download.body, spoolPath);
    // The bytes decide the kind (magic and structure); the served Content-Type is only recorded.
    const magicKind = mediaKindFromMagic(spooled.head);
    const declaredKind = mediaKindForContentType(download.contentType);
    const kind = magicKind;
    const pages = kind ? await countPages(spoolPath, kind) : null;
    const structureOk = kind ? await mediaStructureOk(spoolPath, kind, pages) : false;
    const facts = {
      contentType: download.contentType,
      contentLength: download.contentLength,
      size: spooled.size,
      magicKind,
      declaredKind,
      structureOk,
      pages,
      // num_pages counts pages sent or received: an outbound fax that ended failed/busy/no-answer
      // carries its whole document (issue 12 §3), so only a finished fax's pages must match.
      numPages: row.status === 'received' || row.status === 'delivered' ? row.numPages : null,
    };
    const problems = mediaProblems(facts);
    if (problems.length > 0 || !kind) throw new MediaValidationError(`media rejected: ${problems.join('; ')}`);

    if (etagVerdict(download.etag, spooled.md5Hex) === 'mismatch') {
      const now = { sha256Hex: spooled.sha256Hex, etag: download.etag! };
      if (mismatched && judgeEtagMismatch(mismatched, now) === 'etag-is-not-md5') {
        ctx.catalog.appendEvent('media-etag-not-md5', { etag: now.etag, sha256: now.sha256Hex, note: 'two downloads gave the same bytes; the ETag is not their MD5' }, row.sid);
      } else if (!mismatched) {
        mismatched = now;
        continue; // once more (the gateway keeps the same URL): transit damage does not repeat itself
      } else {
        throw new MediaValidationError("media rejected: the bytes received do not match the media host's ETag (MD5), twice, differently: changed in transit");
      }
    }
    return {
      kind,
      stamp: spooled.stamp,
      media: {
        size: spooled.size,
        sha256Hex: spooled.sha256Hex,
        md5Hex: spooled.md5Hex,
        contentType: kind === 'pdf' ? 'application/pdf' : 'image/tiff',
        pages,
        servedContentType: download.contentType,
      },
      note: contentTypeNote(facts),
    };
  }
}

async function putSidecar(row: FaxRow, ctx: ArchiveFaxContext, first: boolean): Promise<Omit<ObjectRecord, 'verifiedAt' | 'verificationMethod'>> {
  const sidecar = sidecarFor(row.raw);
  const key = sidecarObjectKey({ accountSid: row.accountSid, faxSid: row.sid, dateCreated: row.dateCreated });
  const put = await putChecked(
    {
      key,
      body: { bytes: sidecar.bytes },
      size: sidecar.bytes.length,
      sha256Hex: sidecar.sha256Hex,
      md5Hex: sidecar.md5Hex,
      contentType: 'application/json',
      metadata: { 'fax-sid': row.sid, 'account-sid': row.accountSid },
      mayExist: !first,
    },
    ctx,
  );
  return {
    kind: 'sidecar',
    key,
    size: sidecar.bytes.length,
    sha256Hex: sidecar.sha256Hex,
    md5Hex: sidecar.md5Hex,
    contentType: 'application/json',
    etag: put.etag,
    versionId: put.versionId,
    storedAt: ctx.now().toISOString(),
  };
}

/**
 * Some S3-compatible servers (moto 5) check neither the ChecksumSHA256 nor the Content-MD5 they are
 * sent, and HeadObject echoes the claimed SHA-256: bytes corrupted on the way then pass `checksum`
 * verification, and the store's own "already present" test re-uses the corrupt copy forever. Their
 * single-part ETag is still the MD5 of what they really hold, so an ETag that contradicts our MD5 is
 * proof of other bytes (found by test/archive/corrupted-upload.test.ts: such faxes were deleted).
 * The copy is removed so a retry sends the bytes again; a stale copy from an earlier run is replaced
 * at once, a corruption in this very upload fails the fax (and so blocks this run's deletions).
 */
async function putChecked(input: PutObjectInput, ctx: ArchiveFaxContext): Promise<PutObjectResult> {
  for (let attempt = 0; ; attempt++) {
    const put = await ctx.uploadCap(() => ctx.store.put(input));
    if (put.md5Hex == null || put.md5Hex === input.md5Hex.toLowerCase()) return put;
    await ctx.store.remove(input.key);
    if (!put.alreadyPresent || attempt > 0) {
      throw new ChecksumMismatchError(`the store holds other bytes at ${input.key} than were sent (its ETag is not their MD5); removed them`);
    }
  }
}

type ObjectToVerify = Pick<ObjectRecord, 'kind' | 'key' | 'size' | 'sha256Hex' | 'md5Hex'>;

/**
 * Verifies each object independently of the upload; only `match` counts. Other bytes or none throw
 * ChecksumMismatchError; a store that gave no verdict throws StoreUnavailableError.
 */
async function verifyOrThrow(sid: string, objects: readonly ObjectToVerify[], ctx: ArchiveFaxContext): Promise<void> {
  const verifications: { kind: ObjectKind; method: VerificationMethod; at: string }[] = [];
  // Independent objects, checked side by side; judged in order so the first problem is the one named.
  const results = await Promise.all(objects.map((object) => verifyStoredObject(ctx.store, object.key, object, { forceFull: ctx.forceFullVerify, afterWrite: true })));
  for (const [index, object] of objects.entries()) {
    const result = results[index]!;
    if (result.outcome === 'mismatch') {
      throw new ChecksumMismatchError(`stored ${object.kind} ${object.key} does not match what was sent (${result.method}${result.detail ? `: ${result.detail}` : ''})`);
    }
    if (result.outcome === 'unavailable') throw unavailable(object, result);
    if (result.outcome !== 'match') {
      throw new ChecksumMismatchError(`stored ${object.kind} ${object.key} is ${result.outcome} (${result.method}${result.detail ? `: ${result.detail}` : ''})`);
    }
    verifications.push({ kind: object.kind, method: result.method, at: ctx.now().toISOString() });
  }
  ctx.catalog.markVerified(sid, verifications);
}

function unavailable(object: ObjectToVerify, result: VerificationOutcome): StoreUnavailableError {
  return new StoreUnavailableError(
    `the store gave no verdict on ${object.kind} ${object.key} (${result.method}${result.detail ? `: ${result.detail}` : ''}); a later run asks again`,
  );
}

/**
 * Like Promise.all for two uploads, but waits for both before throwing the first failure: an upload
 * still reading the spool file must not outlive the fax's attempt (the file is removed after it).
 */
async function bothSettled<A, B>(promises: [Promise<A>, Promise<B>]): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled(promises);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

/** For a row left `stored` by an interrupted run: verify what the catalog says was stored. */
async function verifyRecordedObjects(row: FaxRow, ctx: ArchiveFaxContext): Promise<boolean> {
  if (row.objects.length === 0) return false;
  try {
    await verifyOrThrow(row.sid, row.objects, ctx);
    return true;
  } catch (error) {
    if (error instanceof ChecksumMismatchError) return false;
    throw error;
  }
}
