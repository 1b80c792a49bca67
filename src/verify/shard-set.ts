/**
 * Several shard catalogs read as one whole (issue 15 §1): `verify` and `report` given `--catalog`
 * more than once, or a folder of shard catalogs. What makes a set whole is checked here: every fax
 * in exactly one catalog, every subaccount in exactly one shard and in the shard its sid hashes to,
 * one shard count for all, and no shard of 0..n-1 missing or given twice.
 *
 * A catalog's shard is what its archive/sync runs recorded (`--shard i/n` is in every run's
 * options): no extra column is needed. Catalogs are read with plain read-only queries; fax sids
 * are compared by a merge of sorted cursors, so a million faxes cost a few rows of memory.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigurationError } from '../errors.js';
import { shardOf, type AccountShard } from '../pipeline/account-shard.js';

/** How many offending fax sids / accounts are named; the totals are always exact. */
export const SHARD_PROBLEMS_NAMED = 50;

export interface ShardRun {
  id: number;
  kind: string;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
}

export interface ShardCatalog {
  path: string;
  /** The shard its archive/sync runs recorded; null for a catalog never run with --shard. */
  shard: AccountShard | null;
  /** The account whose credentials ran it (its own faxes belong to shard 0). */
  mainAccountSid: string | null;
  /** Accounts with faxes in this catalog, sorted. */
  accounts: string[];
  faxes: number;
  /** Its archive/sync runs (provenance), oldest first. */
  runs: ShardRun[];
  /** Shards its runs recorded other than the latest (a catalog re-run under another layout). */
  otherShards: AccountShard[];
}

export type ShardProblemKind =
  | 'fax-in-two-catalogs'
  | 'account-in-two-shards'
  | 'account-in-wrong-shard'
  | 'shard-missing'
  | 'shard-twice'
  | 'shard-count-differs'
  | 'not-a-shard'
  | 'catalog-changed-shard';

export interface ShardProblem {
  kind: ShardProblemKind;
  message: string;
}

export interface ShardSetCheck {
  /** The shard count all catalogs agree on, or null. */
  count: number | null;
  problems: ShardProblem[];
  duplicateFaxes: { total: number; sids: { sid: string; catalogs: string[] }[] };
}

/** `shard-1-of-3.sqlite` and alike: what a folder of shard catalogs holds. */
const CATALOG_FILE = /\.sqlite$/;

/**
 * The catalogs named by --catalog values: a file stands for itself, a folder for every `*.sqlite`
 * in it (sorted). Each path once; a folder holding none is refused.
 */
export function catalogPathsFrom(values: readonly string[]): string[] {
  const paths: string[] = [];
  for (const value of values) {
    const path = resolve(value);
    const info = statSync(path, { throwIfNoEntry: false });
    if (info?.isDirectory()) {
      const found = readdirSync(path).filter((name) => CATALOG_FILE.test(name)).sort().map((name) => join(path, name));
      if (found.length === 0) throw new ConfigurationError(`no catalogs (*.sqlite) in the folder ${path}`);
      paths.push(...found);
    } else {
      paths.push(path);
    }
  }
  return [...new Set(paths)];
}

function shardOfOptions(options: unknown): AccountShard | null {
  const shard = (options as { shard?: unknown } | null)?.shard as { index?: unknown; count?: unknown } | undefined;
  return shard && Number.isInteger(shard.index) && Number.isInteger(shard.count) ? { index: shard.index as number, count: shard.count as number } : null;
}

/** What one catalog says about itself as a shard. Read-only; ConfigurationError when it is not a catalog. */
export function readShardCatalog(path: string): ShardCatalog {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    throw new ConfigurationError(`no catalog at ${path}`);
  }
  try {
    const runs = db.prepare(`SELECT id, kind, started_at, finished_at, exit_code, options FROM runs WHERE kind IN ('archive', 'sync') ORDER BY id`).all() as
      { id: number; kind: string; started_at: string; finished_at: string | null; exit_code: number | null; options: string }[];
    const shards = runs.map((r) => shardOfOptions(JSON.parse(r.options)));
    const latest = shards.length > 0 ? shards[shards.length - 1]! : null;
    const otherShards = shards.filter((s): s is AccountShard => s !== null && (latest === null || s.index !== latest.index || s.count !== latest.count));
    const hasIdentity = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'catalog_identity'`).get() !== undefined;
    const identity = hasIdentity ? (db.prepare('SELECT account_sid FROM catalog_identity WHERE id = 1').get() as { account_sid: string | null } | undefined) : undefined;
    const accounts = (db.prepare('SELECT DISTINCT account_sid FROM faxes ORDER BY account_sid').all() as { account_sid: string }[]).map((r) => r.account_sid);
    const faxes = (db.prepare('SELECT COUNT(*) AS n FROM faxes').get() as { n: number }).n;
    return {
      path,
      shard: latest,
      mainAccountSid: identity?.account_sid ?? null,
      accounts,
      faxes,
      runs: runs.map((r) => ({ id: r.id, kind: r.kind, startedAt: r.started_at, finishedAt: r.finished_at, exitCode: r.exit_code })),
      otherShards: [...new Map(otherShards.map((s) => [`${s.index}/${s.count}`, s])).values()],
    };
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`${path} is not a fax-sunset catalog: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

export function shardLabel(shard: AccountShard | null): string {
  return shard ? `shard ${shard.index}/${shard.count}` : 'no shard';
}

/** The layout problems of a set of catalogs (pure): counts, gaps, twins, accounts in the wrong or two shards. */
export function checkShardLayout(catalogs: readonly ShardCatalog[]): { count: number | null; problems: ShardProblem[] } {
  const problems: ShardProblem[] = [];
  const name = (c: ShardCatalog) => basename(c.path);
  const counts = [...new Set(catalogs.map((c) => c.shard?.count).filter((n): n is number => n !== undefined))];
  for (const c of catalogs) {
    if (c.shard === null) problems.push({ kind: 'not-a-shard', message: `${name(c)} was never run with --shard: it cannot be part of a shard set` });
    for (const other of c.otherShards) {
      problems.push({ kind: 'catalog-changed-shard', message: `${name(c)} was run as ${shardLabel(other)} before ${shardLabel(c.shard)}: its faxes may belong to another shard` });
    }
  }
  if (counts.length > 1) {
    problems.push({ kind: 'shard-count-differs', message: `the catalogs disagree on the shard count: ${catalogs.map((c) => `${name(c)} is ${shardLabel(c.shard)}`).join(', ')}` });
  }
  const count = counts.length === 1 ? counts[0]! : null;
  if (count !== null) {
    const byIndex = new Map<number, ShardCatalog[]>();
    for (const c of catalogs) if (c.shard) byIndex.set(c.shard.index, [...(byIndex.get(c.shard.index) ?? []), c]);
    for (let i = 0; i < count; i++) {
      const holders = byIndex.get(i) ?? [];
      if (holders.length === 0) problems.push({ kind: 'shard-missing', message: `shard ${i}/${count} is missing from the set: its accounts are not accounted for` });
      if (holders.length > 1) problems.push({ kind: 'shard-twice', message: `shard ${i}/${count} is given twice: ${holders.map(name).join(' and ')}` });
    }
  }
  const holdersOf = new Map<string, ShardCatalog[]>();
  for (const c of catalogs) for (const account of c.accounts) holdersOf.set(account, [...(holdersOf.get(account) ?? []), c]);
  const mains = new Set(catalogs.map((c) => c.mainAccountSid).filter((s): s is string => s !== null));
  let named = 0;
  for (const [account, holders] of [...holdersOf].sort(([a], [b]) => a.localeCompare(b))) {
    if (holders.length > 1) {
      problems.push({ kind: 'account-in-two-shards', message: `account ${account} has faxes in ${holders.length} catalogs: ${holders.map((c) => `${name(c)} (${shardLabel(c.shard)})`).join(', ')}` });
      continue;
    }
    const holder = holders[0]!;
    if (!holder.shard || named >= SHARD_PROBLEMS_NAMED) continue;
    const expected = mains.has(account) ? 0 : shardOf(account, holder.shard.count);
    if (expected !== holder.shard.index) {
      named++;
      problems.push({ kind: 'account-in-wrong-shard', message: `account ${account} is in ${name(holder)} (${shardLabel(holder.shard)}) but belongs to shard ${expected}/${holder.shard.count}` });
    }
  }
  return { count, problems };
}

/**
 * Fax sids found in more than one catalog: one sorted cursor per catalog, merged, so memory stays
 * a row per catalog whatever the number of faxes.
 */
export function duplicateFaxSids(paths: readonly string[], limit = SHARD_PROBLEMS_NAMED): ShardSetCheck['duplicateFaxes'] {
  const dbs = paths.map((p) => new Database(p, { readonly: true, fileMustExist: true }));
  try {
    const cursors = dbs.map((db) => db.prepare('SELECT sid FROM faxes ORDER BY sid').pluck().iterate() as IterableIterator<string>);
    const heads: (string | undefined)[] = cursors.map((c) => c.next().value as string | undefined);
    const out: ShardSetCheck['duplicateFaxes'] = { total: 0, sids: [] };
    for (;;) {
      let least: string | undefined;
      for (const h of heads) if (h !== undefined && (least === undefined || h < least)) least = h;
      if (least === undefined) break;
      const holders: string[] = [];
      for (let i = 0; i < heads.length; i++) {
        if (heads[i] === least) {
          holders.push(basename(paths[i]!));
          heads[i] = cursors[i]!.next().value as string | undefined;
        }
      }
      if (holders.length > 1) {
        out.total++;
        if (out.sids.length < limit) out.sids.push({ sid: least, catalogs: holders });
      }
    }
    return out;
  } finally {
    for (const db of dbs) db.close();
  }
}

/** The whole check of a set of shard catalogs. */
export function checkShardSet(catalogs: readonly ShardCatalog[]): ShardSetCheck {
  const layout = checkShardLayout(catalogs);
  const duplicateFaxes = duplicateFaxSids(catalogs.map((c) => c.path));
  const problems = [...layout.problems];
  if (duplicateFaxes.total > 0) {
    problems.unshift({
      kind: 'fax-in-two-catalogs',
      message: `${duplicateFaxes.total} faxes are in more than one catalog (first: ${duplicateFaxes.sids.slice(0, 5).map((d) => `${d.sid} in ${d.catalogs.join(' and ')}`).join('; ')})`,
    });
  }
  return { count: layout.count, problems, duplicateFaxes };
}
