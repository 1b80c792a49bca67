/**
 * Anchors (issue 18 §6): the record kept where the catalog cannot reach. After every archive/sync
 * run, the event chain's length and head hash and the run's counts go to a small object in the
 * store, `<prefix>/_anchors/<run-id>.json` (under the bucket's Object Lock retention when it has
 * one: the store applies its retention to every object it writes). `verify` and `report` read
 * every anchor back and check the catalog against it: the event at the anchored length must still
 * have the anchored hash. A catalog edited afterwards, even by someone who rewrote the whole SQLite
 * file and recomputed its chain, no longer matches an anchor it did not write.
 *
 * The run id is `<run number, 8 digits>-<chain id>`, the chain id being the first 16 hex digits of
 * the chain's first event hash, so catalogs sharing a store prefix (shards) never collide. A
 * catalog whose first event was rewritten has a new chain id; then none of the store's anchors of
 * its account are its own, which is reported as a mismatch too.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../catalog/catalog.js';
import { openChainHead } from '../catalog/records-query.js';
import { describeError } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';

export const ANCHOR_FOLDER = '_anchors';
export const ANCHOR_FORMAT = 'fax-sunset chain anchor, version 1';

export interface ChainAnchor {
  format: string;
  chainId: string;
  accountSid: string | null;
  run: { id: number; kind: string; exitCode: number };
  chain: { events: number; headHash: string };
  counts: Record<string, number>;
  writtenAt: string;
}

export function chainIdOf(firstHash: string): string {
  return firstHash.slice(0, 16);
}

export function anchorKey(runId: number, chainId: string): string {
  return `${ANCHOR_FOLDER}/${String(runId).padStart(8, '0')}-${chainId}.json`;
}

/** The numeric counts of a run summary (listed, archived, deleted, ...): nothing else goes into an anchor. */
function countsOf(summary: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(summary).filter(([, v]) => typeof v === 'number' && Number.isFinite(v))) as Record<string, number>;
}

/**
 * Writes the anchor of a finished run. Returns the key, or throws (the caller warns: a run's work
 * is not undone because its anchor could not be written).
 */
export async function writeRunAnchor(catalog: Catalog, store: MediaStore, run: { id: number; kind: string; exitCode: number; summary: Record<string, unknown> }, now = new Date()): Promise<string> {
  const head = openChainHead(catalog.path);
  let anchor: ChainAnchor;
  try {
    if (!head.headHash || !head.firstHash) throw new Error('the catalog has no events to anchor');
    anchor = {
      format: ANCHOR_FORMAT,
      chainId: chainIdOf(head.firstHash),
      accountSid: catalog.identity()?.accountSid ?? null,
      run: { id: run.id, kind: run.kind, exitCode: run.exitCode },
      chain: { events: head.events, headHash: head.headHash },
      counts: countsOf(run.summary),
      writtenAt: now.toISOString(),
    };
  } finally {
    head.close();
  }
  const bytes = Buffer.from(`${JSON.stringify(anchor, null, 2)}\n`, 'utf8');
  const key = anchorKey(run.id, anchor.chainId);
  await store.put({
    key, body: { bytes }, size: bytes.length, contentType: 'application/json', mayExist: true,
    sha256Hex: createHash('sha256').update(bytes).digest('hex'), md5Hex: createHash('md5').update(bytes).digest('hex'),
    metadata: { 'fax-sunset-anchor': '1' },
  });
  return key;
}

export interface AnchorCheck {
  /** Anchors of this catalog's chain found in the store. */
  anchors: number;
  matched: number;
  mismatched: Array<{ key: string; problem: string }>;
  /** Anchors of other catalogs (other chains) under the same prefix: not checked. */
  foreign: number;
  /** The newest anchor of this chain and whether it matched; null when there is none. */
  latest: { key: string; runId: number; events: number; headHash: string; writtenAt: string; matched: boolean } | null;
  /** Anchors that could not be read or parsed. */
  unreadable: Array<{ key: string; problem: string }>;
}

/** What the report keeps of a check. */
export type AnchorSummary = Pick<AnchorCheck, 'matched' | 'mismatched' | 'latest'> & { checked: number; error?: string };

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Reads every anchor under the store's `_anchors/` and checks the catalog at `catalogPath` against each. */
export async function checkAnchors(catalogPath: string, store: MediaStore, accountSid: string | null): Promise<AnchorCheck> {
  const result: AnchorCheck = { anchors: 0, matched: 0, mismatched: [], foreign: 0, latest: null, unreadable: [] };
  const head = openChainHead(catalogPath);
  try {
    const chainId = head.firstHash ? chainIdOf(head.firstHash) : null;
    let foreignSameAccount = 0;
    for await (const item of store.list(`${ANCHOR_FOLDER}/`)) {
      if (!item.key.endsWith('.json')) continue;
      let anchor: ChainAnchor;
      try {
        const body = await store.read(item.key);
        if (!body) continue;
        anchor = JSON.parse((await readAll(body)).toString('utf8')) as ChainAnchor;
        if (anchor.format !== ANCHOR_FORMAT || typeof anchor.chain?.events !== 'number' || typeof anchor.chain.headHash !== 'string') throw new Error('not an anchor of this format');
      } catch (error) {
        result.unreadable.push({ key: item.key, problem: describeError(error) });
        continue;
      }
      if (anchor.chainId !== chainId) {
        result.foreign++;
        if (accountSid !== null && anchor.accountSid === accountSid) foreignSameAccount++;
        continue;
      }
      result.anchors++;
      const actual = anchor.chain.events > head.events ? null : head.hashAt(anchor.chain.events);
      const problem = actual === null
        ? `the catalog has ${head.events} events, the anchor of run ${anchor.run.id} recorded ${anchor.chain.events}: events were removed`
        : actual !== anchor.chain.headHash
          ? `event #${anchor.chain.events} has hash ${actual}, the anchor of run ${anchor.run.id} recorded ${anchor.chain.headHash}: the catalog was changed after that run`
          : null;
      if (problem) result.mismatched.push({ key: item.key, problem });
      else result.matched++;
      if (!result.latest || anchor.run.id > result.latest.runId) {
        result.latest = { key: item.key, runId: anchor.run.id, events: anchor.chain.events, headHash: anchor.chain.headHash, writtenAt: anchor.writtenAt, matched: problem === null };
      }
    }
    if (result.anchors === 0 && foreignSameAccount > 0) {
      result.mismatched.push({
        key: `${ANCHOR_FOLDER}/`,
        problem: `the store holds ${foreignSameAccount} anchors of account ${accountSid}, none of this catalog's chain: the catalog was replaced or its chain rewritten from the start`,
      });
    }
  } finally {
    head.close();
  }
  return result;
}

/** Writes a finished run's anchor, or says in one warning line why it could not (the run's work stands). */
export async function anchorRun(catalog: Catalog, store: MediaStore, run: { id: number; kind: string; exitCode: number; summary: Record<string, unknown> }, warn: (line: string) => void): Promise<string | null> {
  try {
    return await writeRunAnchor(catalog, store, run);
  } catch (error) {
    warn(`the chain anchor of run ${run.id} could not be written to the store: ${describeError(error)}`);
    return null;
  }
}

/** One line per anchor the catalog does not match (verify and report print them). */
export function anchorProblems(check: AnchorCheck): string[] {
  return check.mismatched.map((m) => `the catalog does NOT match the anchor ${m.key}: ${m.problem}`);
}
