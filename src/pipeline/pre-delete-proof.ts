/**
 * Proof at the moment of deletion (issue 11 §1). A fax verified weeks ago is not deleted on the
 * strength of that old row: immediately before its DELETE the store is asked again about every
 * object of the fax (media and sidecar) and the answer compared with the catalog's SHA-256. On S3
 * that is a HeadObject with ChecksumMode, cross-checked with a single-part MD5 ETag; under
 * `--verify full`, and on a folder store, a re-read and re-hash (size and SHA-256).
 *
 * The store's answer has four outcomes, and each has one consequence:
 *   match        every object is there with the recorded bytes: the DELETE may go out
 *   mismatch     an object holds other bytes: no DELETE, a finding, archived again from Twilio
 *   missing      an object is gone: no DELETE, a finding, archived again from Twilio
 *   unavailable  the store did not answer (HEAD kept failing): no DELETE, retried by a later run;
 *                neither a mismatch nor a reason to download again
 */
import type { FaxRow, ObjectKind, VerificationMethod } from '../catalog/catalog.js';
import type { MediaStore } from '../store/media-store.js';
import { verifyStoredObject, type StoreAnswer } from '../store/verify-object.js';

export type { StoreAnswer };

export interface ObjectAnswer {
  kind: ObjectKind;
  key: string;
  sha256: string;
  answer: StoreAnswer;
  method: VerificationMethod;
  detail?: string;
}

export interface PreDeleteProof {
  /** The fax's answer: the worst of its objects' (mismatch > missing > unavailable > match). */
  answer: StoreAnswer;
  /** When the store was asked (ISO 8601). */
  at: string;
  /** The weakest method used over the objects. */
  method: VerificationMethod;
  objects: ObjectAnswer[];
}

/** How often a store that did not answer is asked again before the fax is called `unavailable`. */
const ASKS = 2;

const SEVERITY: Record<StoreAnswer, number> = { match: 0, unavailable: 1, missing: 2, mismatch: 3 };
const STRENGTH: Record<VerificationMethod, number> = { 'etag-md5': 0, checksum: 1, full: 2 };

/** The fax's answer from its objects' (pure): any bad object decides; an empty fax proves nothing. */
export function combineAnswers(answers: readonly StoreAnswer[]): StoreAnswer {
  if (answers.length === 0) return 'missing';
  return answers.reduce((worst, a) => (SEVERITY[a] > SEVERITY[worst] ? a : worst), 'match' as StoreAnswer);
}

/** Asks the store about every object of `row` now. Throws only for run-level problems (credentials, configuration). */
export async function provePresentBeforeDelete(
  store: MediaStore,
  row: Pick<FaxRow, 'objects'>,
  options: { forceFull: boolean; now: () => Date },
): Promise<PreDeleteProof> {
  const at = options.now().toISOString();
  const objects = await Promise.all(
    row.objects.map(async (object): Promise<ObjectAnswer> => {
      for (let ask = 1; ; ask++) {
        const result = await verifyStoredObject(store, object.key, object, { forceFull: options.forceFull });
        const answer = result.outcome;
        if (answer !== 'unavailable' || ask >= ASKS) {
          return { kind: object.kind, key: object.key, sha256: object.sha256Hex, answer, method: result.method, ...(result.detail ? { detail: result.detail } : {}) };
        }
      }
    }),
  );
  const method = objects.reduce<VerificationMethod>((weakest, o) => (STRENGTH[o.method] < STRENGTH[weakest] ? o.method : weakest), 'full');
  return { answer: combineAnswers(objects.map((o) => o.answer)), at, method, objects };
}

/** One line for people naming what the store answered about the objects that did not match. */
export function describeProof(proof: PreDeleteProof): string {
  return proof.objects
    .filter((o) => o.answer !== 'match')
    .map((o) => `${o.kind} ${o.key} ${o.answer}${o.detail ? ` (${o.detail})` : ''}`)
    .join('; ');
}
