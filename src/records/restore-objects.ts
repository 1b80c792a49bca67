/**
 * Brings a fax's archived objects back out of the store (issue 18 §3), hashing on the way: each
 * object is streamed to a temp file beside its destination (mode 0600: faxes are personal data),
 * and renamed into place only when its size and SHA-256 are the catalog's. Bytes that differ are
 * never written under the object's name; the temp file is removed. Per object one outcome, per
 * fax one result: a bad object fails its fax, never the others.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FaxRow, ObjectKind } from '../catalog/catalog.js';
import { describeError } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';
import { ownTempName } from '../temp-files.js';

export interface RestoredObject {
  kind: ObjectKind;
  key: string;
  /** Relative to the output folder ('/'-separated): the store key. */
  path: string;
  size: number;
  sha256Hex: string;
  /** Earlier media version (object_versions), not the current one. */
  previous: boolean;
}

export type ObjectOutcome =
  | { outcome: 'restored'; object: RestoredObject }
  | { outcome: 'mismatch'; key: string; detail: string }
  | { outcome: 'missing'; key: string }
  | { outcome: 'error'; key: string; detail: string };

export interface FaxRestoreResult {
  sid: string;
  ok: boolean;
  objects: ObjectOutcome[];
  /** Why the fax was not restored, one line; null when it was. */
  problem: string | null;
}

export interface CopyTarget {
  kind: ObjectKind;
  key: string;
  size: number;
  sha256Hex: string;
  previous: boolean;
}

/** The objects of a fax to bring back: its current ones, and with `previous` the earlier verified media. */
export function objectsToRestore(fax: FaxRow, options: { previous: boolean }): CopyTarget[] {
  const current = fax.objects.map((o) => ({ kind: o.kind, key: o.key, size: o.size, sha256Hex: o.sha256Hex, previous: false }));
  if (!options.previous) return current;
  return [...current, ...(fax.previousObjects ?? []).map((o) => ({ kind: o.kind, key: o.key, size: o.size, sha256Hex: o.sha256Hex, previous: true }))];
}

/**
 * Copies one object from the store to `<root>/<relativePath>` through a SHA-256 and a byte count.
 * `onBytes` sees the bytes as they pass (a second hash, a progress bar).
 */
export async function copyVerified(store: MediaStore, target: CopyTarget, root: string, relativePath: string, onBytes?: (chunk: Buffer) => void): Promise<ObjectOutcome> {
  const destination = join(root, ...relativePath.split('/'));
  const temp = join(dirname(destination), ownTempName());
  let body: NodeJS.ReadableStream | null;
  try {
    body = await store.read(target.key);
  } catch (error) {
    return { outcome: 'error', key: target.key, detail: describeError(error) };
  }
  if (!body) return { outcome: 'missing', key: target.key };
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(chunk);
      done(null, chunk);
    },
  });
  try {
    await mkdir(dirname(destination), { recursive: true, mode: 0o700 });
    await pipeline(body, tap, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await rm(temp, { force: true });
    return { outcome: 'error', key: target.key, detail: describeError(error) };
  }
  const sha256Hex = hash.digest('hex');
  if (sha256Hex !== target.sha256Hex || size !== target.size) {
    await rm(temp, { force: true });
    return {
      outcome: 'mismatch', key: target.key,
      detail: `the store's bytes (${size} bytes, sha256 ${sha256Hex}) are not the catalog's (${target.size} bytes, sha256 ${target.sha256Hex})`,
    };
  }
  await rename(temp, destination);
  return { outcome: 'restored', object: { kind: target.kind, key: target.key, path: relativePath, size, sha256Hex, previous: target.previous } };
}

/**
 * Restores every object of one fax under `root`, laid out as in the store. A fax with any object
 * missing or different is not restored: the objects already written for it are removed again, so
 * the folder never holds half a fax.
 */
export async function restoreFax(store: MediaStore, fax: FaxRow, root: string, options: { previous: boolean }): Promise<FaxRestoreResult> {
  const targets = objectsToRestore(fax, options);
  if (targets.length === 0) return { sid: fax.sid, ok: false, objects: [], problem: `nothing of it is archived (state ${fax.state})` };
  const objects: ObjectOutcome[] = [];
  for (const target of targets) objects.push(await copyVerified(store, target, root, target.key));
  const bad = objects.find((o) => o.outcome !== 'restored');
  if (!bad) return { sid: fax.sid, ok: true, objects, problem: null };
  for (const o of objects) if (o.outcome === 'restored') await rm(join(root, ...o.object.path.split('/')), { force: true });
  const problem = bad.outcome === 'missing' ? `${bad.key} is missing from the store`
    : bad.outcome === 'mismatch' ? `${bad.key}: ${bad.detail}; nothing of this fax was written`
      : `${bad.key} could not be read: ${bad.outcome === 'error' ? bad.detail : ''}`;
  return { sid: fax.sid, ok: false, objects, problem };
}
