/**
 * The torture audit as one pure function over plain facts gathered independently of src/catalog
 * (raw SQL, the AWS SDK straight at the S3 server, the emulator's own fax table): did the archive
 * keep its promise? Every fax Twilio started with is still there or stored with the bytes Twilio
 * served; nothing left Twilio without a verified copy and a receipt; no object is stored twice; the
 * catalog agrees with the store and with Twilio. Each broken promise is one violation line.
 */
import type { SnapshotFax } from './fax-snapshot.js';
import type { ChainCheck } from './event-chain-recheck.js';
import { listingLedgerViolations, type ListingSweepFact } from './listing-ledger-audit.js';

export interface CatalogFaxFact {
  sid: string;
  accountSid: string;
  state: string;
  mediaSha256: string | null;
}

export interface CatalogObjectFact {
  faxSid: string;
  kind: string;
  key: string;
  size: number;
  sha256: string;
  verifiedAt: string | null;
}

export interface CatalogDeletionFact {
  faxSid: string;
  intentAt: string;
  receiptAt: string | null;
  httpStatus: number | null;
  cancelledAt: string | null;
  /** The run that recorded the intent, and the pre-delete proof it took (issue 11 §1). */
  runId: number | null;
  proofAt: string | null;
  proofMethod: string | null;
  proofRunId: number | null;
  /** The proof's objects as the catalog stored them (JSON parsed here), or null. */
  proofObjects: Array<{ kind: string; key: string; sha256: string }> | null;
}

export interface CatalogRunFact {
  id: number;
  startedAt: string;
  finishedAt: string | null;
}

/** A verified object a newer media version superseded: still in the store (issue 11 §6). */
export interface CatalogObjectVersionFact {
  faxSid: string;
  kind: string;
  key: string;
  size: number;
  sha256: string;
}

/** An object as the S3 server holds it: key below the archive prefix, and its bytes' real hash. */
export interface StoredObjectFact {
  key: string;
  size: number;
  sha256Hex: string;
}

export interface AuditFacts {
  /** Every fax Twilio had before the first run. */
  snapshot: readonly SnapshotFax[];
  /** Sids Twilio (the emulator) still has now. */
  remainingInTwilio: ReadonlySet<string>;
  /** The emulator's own count of faxes removed through the API. */
  twilioDeletedCount: number;
  catalog: {
    faxes: readonly CatalogFaxFact[];
    objects: readonly CatalogObjectFact[];
    deletions: readonly CatalogDeletionFact[];
    /** PRAGMA integrity_check's answer ('ok' when sound). */
    integrity: string;
    chain: ChainCheck;
    /** The event log in id order (type and fax only): the order things happened in. */
    events: readonly { id: number; type: string; faxSid: string | null }[];
    /** The listing ledger's rows (`listing_sweeps`); checked by listing-ledger-audit.ts. */
    sweeps?: readonly ListingSweepFact[];
    runs: readonly CatalogRunFact[];
    objectVersions: readonly CatalogObjectVersionFact[];
  };
  stored: readonly StoredObjectFact[];
  /** Multipart uploads begun and never completed or aborted: bytes stored nowhere useful. */
  pendingMultipartUploads: number;
  /** The last run exited 0 with --delete: everything must then be archived, deleted and settled. */
  finishedClean: boolean;
  /** The catalog's lock file still exists. */
  lockFilePresent: boolean;
}

export interface AuditFigures {
  faxes: number;
  withMedia: number;
  mediaBytes: number;
  /** Faxes whose verified copy in the store holds the bytes Twilio served. */
  archived: number;
  /** Faxes gone from Twilio. */
  deleted: number;
  remainingInTwilio: number;
  /** Faxes gone from Twilio without a copy that holds their bytes. Must be 0. */
  lost: number;
  catalogByState: Record<string, number>;
  catalogObjects: number;
  /** Fax objects (media and sidecars) in the store, read back and hashed. */
  storedObjects: number;
  /** Chain anchors in the store: one per run that finished far enough to write one. */
  anchorObjects: number;
  events: number;
}

export interface AuditResult {
  figures: AuditFigures;
  violations: string[];
}

/** `<AccountSid>/<yyyy>/<mm>/<FaxSid>[.v<N>].<pdf|tiff|json>` (DESIGN.md "Media and verification"; versions: issue 11 §6). */
const OBJECT_KEY = /^(AC[0-9a-f]{32})\/(?:\d{4}\/\d{2}|unknown-date)\/(FX[0-9a-f]{32})(?:\.v\d+)?\.(pdf|tiff|json)$/;
/** A finished run's chain anchor (`_anchors/<run number, 8 digits>-<chain id>.json`): not a fax object, and not in the objects table. */
const ANCHOR_KEY = /^_anchors\/(\d{8})-([0-9a-f]{16})\.json$/;
const PROOF_METHODS = new Set(['checksum', 'etag-md5', 'full']);
const DELETABLE_RECEIPT = (status: number | null): boolean => status === 404 || (status !== null && status >= 200 && status < 300);

export function auditArchive(facts: AuditFacts): AuditResult {
  const violations: string[] = [];
  const faxRows = groupOne(facts.catalog.faxes, (f) => f.sid, (sid) => violations.push(`catalog: fax ${sid} has more than one row`));
  const objectsBySid = groupMany(facts.catalog.objects, (o) => o.faxSid);
  const deletionsBySid = groupMany(facts.catalog.deletions, (d) => d.faxSid);
  const storedByKey = new Map(facts.stored.map((s) => [s.key, s]));
  const snapshotBySid = new Map(facts.snapshot.map((f) => [f.sid, f]));
  const intentsWithoutProof = deletionIntentsBeforeProof(facts.catalog.events);
  const runsById = new Map(facts.catalog.runs.map((r) => [r.id, r]));

  let archived = 0;
  let deleted = 0;
  let lost = 0;
  for (const fax of facts.snapshot) {
    const row = faxRows.get(fax.sid);
    const objects = objectsBySid.get(fax.sid) ?? [];
    const inTwilio = facts.remainingInTwilio.has(fax.sid);
    const copy = provenCopy(fax, objects, storedByKey);
    if (copy.ok) archived++;
    if (!inTwilio) {
      deleted++;
      if (!copy.ok) {
        lost++;
        violations.push(`LOST: ${fax.sid} is gone from Twilio without a verified copy of its bytes (${copy.why})`);
      }
    }
    for (const problem of copy.problems) violations.push(`${fax.sid}: ${problem}`);

    if (!row) {
      if (!inTwilio || facts.finishedClean) violations.push(`${fax.sid}: not in the catalog${inTwilio ? '' : ' and gone from Twilio'}`);
      continue;
    }
    if (row.accountSid !== fax.accountSid) violations.push(`${fax.sid}: catalog account ${row.accountSid}, Twilio's ${fax.accountSid}`);
    if (fax.hasMedia && row.mediaSha256 !== null && row.mediaSha256 !== fax.sha256Hex) {
      violations.push(`${fax.sid}: catalog media SHA-256 ${row.mediaSha256.slice(0, 12)}... is not the hash of the bytes Twilio served ${fax.sha256Hex?.slice(0, 12)}...`);
    }

    const deletions = deletionsBySid.get(fax.sid) ?? [];
    const receipts = deletions.filter((d) => d.receiptAt !== null && d.cancelledAt === null && DELETABLE_RECEIPT(d.httpStatus));
    if (!inTwilio) {
      if (row.state !== 'deleted') violations.push(`${fax.sid}: gone from Twilio but the catalog says ${row.state}`);
      if (receipts.length === 0) violations.push(`${fax.sid}: gone from Twilio without a deletion receipt in the catalog`);
    } else if (row.state === 'deleted') {
      violations.push(`${fax.sid}: the catalog says deleted but Twilio still has it`);
    }
    // Every deletion intent comes after every one of the fax's objects was verified.
    for (const deletion of deletions) {
      for (const object of objects) {
        if (object.verifiedAt === null || object.verifiedAt > deletion.intentAt) {
          violations.push(`${fax.sid}: deletion intent at ${deletion.intentAt} before its ${object.kind} was verified (${object.verifiedAt ?? 'never'})`);
        }
      }
      if (objects.length === 0) violations.push(`${fax.sid}: a deletion intent for a fax with no stored object`);
      for (const problem of preDeleteProofProblems(deletion, objects, runsById)) violations.push(`${fax.sid}: ${problem}`);
    }
    const early = intentsWithoutProof.get(fax.sid);
    if (early !== undefined) violations.push(`${fax.sid}: event #${early} records a deletion intent before any verified/metadata-only event`);
    if (facts.finishedClean) {
      if (inTwilio) violations.push(`${fax.sid}: the last run exited 0 with --delete but Twilio still has it`);
      if (deletions.some((d) => d.receiptAt === null && d.cancelledAt === null)) {
        violations.push(`${fax.sid}: the last run exited 0 but a deletion intent is still open`);
      }
    }
  }

  for (const row of facts.catalog.faxes) {
    if (!snapshotBySid.has(row.sid)) violations.push(`catalog: fax ${row.sid} was never in Twilio`);
  }

  // The store: only the objects the layout names, each recorded in the catalog (as the current
  // object or a superseded version), one current object per fax and kind.
  const catalogKeys = new Map(facts.catalog.objects.map((o) => [o.key, o]));
  const versionKeys = new Set(facts.catalog.objectVersions.map((o) => o.key));
  for (const version of facts.catalog.objectVersions) {
    const stored = storedByKey.get(version.key);
    if (!stored || stored.sha256Hex !== version.sha256) violations.push(`store: superseded version ${version.key} is missing or holds other bytes`);
  }
  const keysPerFax = new Map<string, string[]>();
  let anchorObjects = 0;
  for (const stored of facts.stored) {
    const anchor = ANCHOR_KEY.exec(stored.key);
    if (anchor) {
      // Written only after a run's work is done, so it must name a run this catalog recorded.
      anchorObjects++;
      if (!runsById.has(Number(anchor[1]))) violations.push(`store: anchor ${stored.key} names run ${Number(anchor[1])}, which the catalog never recorded`);
      continue;
    }
    const match = OBJECT_KEY.exec(stored.key);
    if (!match) {
      violations.push(`store: stray object ${stored.key} (not a fax object: a temporary or torn upload?)`);
      continue;
    }
    const [, accountSid, faxSid, extension] = match as unknown as [string, string, string, string];
    const kind = extension === 'json' ? 'sidecar' : 'media';
    const group = `${faxSid} ${kind}`;
    if (!versionKeys.has(stored.key)) keysPerFax.set(group, [...(keysPerFax.get(group) ?? []), stored.key]);
    const fax = snapshotBySid.get(faxSid);
    if (!fax) violations.push(`store: ${stored.key} belongs to no fax Twilio had`);
    else if (fax.accountSid !== accountSid) violations.push(`store: ${stored.key} is filed under another account than ${fax.accountSid}`);
    if (!catalogKeys.has(stored.key) && !versionKeys.has(stored.key)) violations.push(`store: ${stored.key} is not recorded in the catalog (orphan)`);
  }
  for (const [group, keys] of keysPerFax) {
    if (keys.length > 1) violations.push(`store: ${group} stored twice: ${keys.join(', ')}`);
  }
  if (facts.pendingMultipartUploads > 0) violations.push(`store: ${facts.pendingMultipartUploads} multipart uploads left unfinished`);

  // The catalog itself, and its counts against the store and Twilio.
  if (facts.catalog.integrity !== 'ok') violations.push(`catalog: integrity_check says ${facts.catalog.integrity}`);
  if (facts.catalog.chain.brokenAtId !== null) violations.push(`catalog: event chain broken at event #${facts.catalog.chain.brokenAtId}`);
  const catalogByState: Record<string, number> = {};
  for (const row of facts.catalog.faxes) catalogByState[row.state] = (catalogByState[row.state] ?? 0) + 1;
  const deletedInCatalog = catalogByState.deleted ?? 0;
  if (deletedInCatalog !== deleted) violations.push(`counts: catalog has ${deletedInCatalog} faxes deleted, Twilio lost ${deleted}`);
  if (facts.twilioDeletedCount !== deleted) violations.push(`counts: the emulator removed ${facts.twilioDeletedCount} faxes, ${deleted} of the starting faxes are gone`);
  const verifiedObjects = facts.catalog.objects.filter((o) => o.verifiedAt !== null).length;
  if (facts.finishedClean && facts.stored.length - anchorObjects !== facts.catalog.objects.length + facts.catalog.objectVersions.length) {
    violations.push(`counts: ${facts.stored.length - anchorObjects} fax objects in the store, ${facts.catalog.objects.length + facts.catalog.objectVersions.length} in the catalog`);
  }
  if (facts.finishedClean && verifiedObjects !== facts.catalog.objects.length) {
    violations.push(`counts: ${facts.catalog.objects.length - verifiedObjects} catalog objects are not verified after a clean finish`);
  }
  if (facts.finishedClean && facts.lockFilePresent) violations.push('catalog: the lock file is left behind after a clean exit');
  if (facts.catalog.sweeps) violations.push(...listingLedgerViolations({ sweeps: facts.catalog.sweeps, faxes: facts.snapshot, finishedClean: facts.finishedClean }));

  const withMedia = facts.snapshot.filter((f) => f.hasMedia);
  return {
    figures: {
      faxes: facts.snapshot.length,
      withMedia: withMedia.length,
      mediaBytes: withMedia.reduce((sum, f) => sum + (f.size ?? 0), 0),
      archived,
      deleted,
      remainingInTwilio: facts.snapshot.length - deleted,
      lost,
      catalogByState,
      catalogObjects: facts.catalog.objects.length,
      storedObjects: facts.stored.length - anchorObjects,
      anchorObjects,
      events: facts.catalog.chain.events,
    },
    violations,
  };
}

/**
 * Whether the store holds a proven copy of this fax: a verified sidecar, and for a fax with media a
 * verified media object whose bytes in the store hash to what Twilio served. `problems` are
 * contradictions worth a violation whatever Twilio still holds (a verified object with other bytes).
 */
function provenCopy(
  fax: SnapshotFax,
  objects: readonly CatalogObjectFact[],
  storedByKey: ReadonlyMap<string, StoredObjectFact>,
): { ok: boolean; why: string; problems: string[] } {
  const problems: string[] = [];
  for (const object of objects) {
    if (object.verifiedAt === null) continue;
    const stored = storedByKey.get(object.key);
    if (!stored) problems.push(`catalog says ${object.key} is verified but the store has no such object`);
    else if (stored.sha256Hex !== object.sha256 || stored.size !== object.size) {
      problems.push(`catalog says ${object.key} is verified but the store holds other bytes`);
    }
  }
  const media = objects.filter((o) => o.kind === 'media');
  const sidecar = objects.find((o) => o.kind === 'sidecar');
  if (!sidecar || sidecar.verifiedAt === null) return { ok: false, why: 'no verified metadata sidecar', problems };
  const sidecarStored = storedByKey.get(sidecar.key);
  if (!sidecarStored || sidecarStored.sha256Hex !== sidecar.sha256) return { ok: false, why: 'sidecar bytes missing or different', problems };
  if (!fax.hasMedia) return { ok: true, why: '', problems };
  if (media.length !== 1) return { ok: false, why: `${media.length} media objects in the catalog`, problems };
  const object = media[0] as CatalogObjectFact;
  if (object.verifiedAt === null) return { ok: false, why: 'media never verified', problems };
  const stored = storedByKey.get(object.key);
  if (!stored) return { ok: false, why: 'media object missing from the store', problems };
  if (stored.sha256Hex !== fax.sha256Hex) {
    problems.push(`the stored media ${object.key} hashes to ${stored.sha256Hex.slice(0, 12)}..., Twilio served ${fax.sha256Hex?.slice(0, 12)}...`);
    return { ok: false, why: 'stored media bytes are not the bytes Twilio served', problems };
  }
  return { ok: true, why: '', problems };
}

/**
 * The pre-delete proof of one deletion row (issue 11 §1): taken by the run that recorded the intent,
 * after that run started and before the intent, by a known method, and (unless the intent was
 * withdrawn, after which the fax may be archived again) covering every object the catalog holds
 * for the fax with the SHA-256 it recorded.
 */
function preDeleteProofProblems(
  deletion: CatalogDeletionFact,
  objects: readonly CatalogObjectFact[],
  runsById: ReadonlyMap<number, CatalogRunFact>,
): string[] {
  const at = `deletion intent at ${deletion.intentAt}`;
  if (deletion.proofAt === null || deletion.proofObjects === null) return [`${at} carries no pre-delete proof`];
  const problems: string[] = [];
  if (!PROOF_METHODS.has(deletion.proofMethod ?? '')) problems.push(`${at}: unknown proof method ${deletion.proofMethod}`);
  if (deletion.runId === null || deletion.proofRunId !== deletion.runId) problems.push(`${at}: proof taken by run ${deletion.proofRunId}, intent by run ${deletion.runId}`);
  if (deletion.proofAt > deletion.intentAt) problems.push(`${at}: proof taken after the intent (${deletion.proofAt})`);
  const run = deletion.runId === null ? undefined : runsById.get(deletion.runId);
  if (!run) problems.push(`${at}: its run ${deletion.runId} is not in the catalog`);
  else if (deletion.proofAt < run.startedAt || (run.finishedAt !== null && deletion.proofAt > run.finishedAt)) {
    problems.push(`${at}: proof at ${deletion.proofAt} is outside its run (${run.startedAt} .. ${run.finishedAt ?? 'unfinished'})`);
  }
  if (deletion.cancelledAt === null) {
    const proven = new Map(deletion.proofObjects.map((o) => [o.key, o.sha256]));
    for (const object of objects) {
      if (proven.get(object.key) !== object.sha256) problems.push(`${at}: the proof does not cover ${object.kind} ${object.key} as recorded`);
    }
    if (proven.size !== objects.length) problems.push(`${at}: the proof names ${proven.size} objects, the catalog holds ${objects.length}`);
  }
  return problems;
}

/** Fax sid -> id of a `deletion-intent` event with no `verified`/`metadata-only` event for that fax before it. */
function deletionIntentsBeforeProof(events: readonly { id: number; type: string; faxSid: string | null }[]): Map<string, number> {
  const proven = new Set<string>();
  const early = new Map<string, number>();
  for (const event of events) {
    if (event.faxSid === null) continue;
    if (event.type === 'verified' || event.type === 'metadata-only') proven.add(event.faxSid);
    else if (event.type === 'deletion-intent' && !proven.has(event.faxSid) && !early.has(event.faxSid)) early.set(event.faxSid, event.id);
  }
  return early;
}

function groupOne<T>(items: readonly T[], keyOf: (item: T) => string, onDuplicate: (key: string) => void): Map<string, T> {
  const out = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    if (out.has(key)) onDuplicate(key);
    else out.set(key, item);
  }
  return out;
}

function groupMany<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}
