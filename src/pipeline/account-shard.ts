/**
 * `--shard i/n`: one process saturates one account's Twilio limits, so an ISV with thousands of
 * subaccounts runs n copies (a Kubernetes Indexed Job, an AWS Batch array), each with its own
 * catalog, over the same store. Each takes the subaccounts whose sid hashes to its index; the main
 * account's own faxes belong to shard 0. Pure and stable: the same sid always lands in the same shard.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface AccountShard {
  index: number;
  count: number;
}

/** Parses `i/n` (0 <= i < n), e.g. `0/4`; throws UsageError naming the flag. */
export function parseShard(value: string, flag = '--shard'): AccountShard {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || !(count >= 1) || !(index < count)) {
    throw new UsageError(`${flag} must be i/n with 0 <= i < n, e.g. 0/4, got ${JSON.stringify(value)}`);
  }
  return { index, count };
}

/** The shard an account sid belongs to: the first 8 hex digits of its SHA-256, modulo n. */
export function shardOf(accountSid: string, count: number): number {
  return parseInt(createHash('sha256').update(accountSid).digest('hex').slice(0, 8), 16) % count;
}

/** Whether this shard archives `accountSid`; the main account's own faxes go to shard 0. */
export function inShard(accountSid: string, mainAccountSid: string, shard: AccountShard): boolean {
  if (accountSid === mainAccountSid) return shard.index === 0;
  return shardOf(accountSid, shard.count) === shard.index;
}
