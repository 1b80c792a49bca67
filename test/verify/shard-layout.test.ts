/** Issue 15 §1: the layout check of a set of shard catalogs, a pure decision. */
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/pipeline/account-shard.js';
import { checkShardLayout, type ShardCatalog } from '../../src/verify/shard-set.js';

const MAIN = `AC${'0'.repeat(32)}`;
const subs = Array.from({ length: 12 }, (_, i) => `AC${i.toString(16).padStart(32, 'a')}`);

function shard(index: number, count: number, accounts: string[], extra: Partial<ShardCatalog> = {}): ShardCatalog {
  return { path: `/x/shard-${index}-of-${count}.sqlite`, shard: { index, count }, mainAccountSid: MAIN, accounts, faxes: 1, runs: [], otherShards: [], ...extra };
}

function layout(count: number): ShardCatalog[] {
  return Array.from({ length: count }, (_, i) => shard(i, count, [...(i === 0 ? [MAIN] : []), ...subs.filter((s) => shardOf(s, count) === i)]));
}

describe('checkShardLayout', () => {
  it('a whole layout has no problems', () => {
    expect(checkShardLayout(layout(3))).toEqual({ count: 3, problems: [] });
  });

  it('names a missing shard and an account in the wrong shard', () => {
    const set = layout(3);
    const moved = set[1]!.accounts[0]!;
    set[2]!.accounts.push(moved);
    set[1]!.accounts.shift();
    const { problems } = checkShardLayout([set[0]!, set[2]!]);
    expect(problems.map((p) => p.kind).sort()).toEqual(['account-in-wrong-shard', 'shard-missing']);
    expect(problems.find((p) => p.kind === 'shard-missing')!.message).toContain('shard 1/3');
    expect(problems.find((p) => p.kind === 'account-in-wrong-shard')!.message).toContain(moved);
  });

  it('names differing shard counts, a catalog never sharded, and the main account outside shard 0', () => {
    const mixed = [...layout(2), shard(0, 3, [])];
    expect(checkShardLayout(mixed).problems.map((p) => p.kind)).toContain('shard-count-differs');
    expect(checkShardLayout(mixed).count).toBeNull();
    const plain = [...layout(2), { ...shard(0, 2, []), path: '/x/catalog.sqlite', shard: null }];
    expect(checkShardLayout(plain).problems.map((p) => p.kind)).toContain('not-a-shard');
    const set = layout(2);
    set[0]!.accounts = set[0]!.accounts.filter((a) => a !== MAIN);
    set[1]!.accounts.push(MAIN);
    expect(checkShardLayout(set).problems.map((p) => p.message).join('\n')).toContain(`account ${MAIN} is in shard-1-of-2.sqlite`);
  });
});
