import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InternalError } from '../../../src/errors.ts';
import { checkTriplets, miningWarning } from '../../../src/losses/miners/base-miner.ts';
import { DistanceWeightedMiner } from '../../../src/losses/miners/distance-weighted.ts';
import { RandomMiner } from '../../../src/losses/miners/random.ts';
import { SemihardMiner } from '../../../src/losses/miners/semihard.ts';
import type { Triplets } from '../../../src/losses/types.ts';
import { Rng } from '../../../src/rng.ts';

const t = (a: number[], p: number[], n: number[]): Triplets => ({
  anchors: Int32Array.from(a),
  positives: Int32Array.from(p),
  negatives: Int32Array.from(n),
});

test('the shared triplet check rejects each kind of invalid triplet', () => {
  const labels = Int32Array.from([0, 0, 1, 1]);
  checkTriplets(t([0, 2], [1, 3], [2, 0]), labels);
  const bad: [string, Triplets][] = [
    ['lengths differ', t([0], [1], [])],
    ['outside a batch', t([0], [1], [4])],
    ['its own positive', t([0], [0], [2])],
    ['positive 2 has label 1', t([0], [2], [3])],
    ['shares label 0', t([0], [1], [1])],
  ];
  for (const [why, trip] of bad) {
    assert.throws(
      () => checkTriplets(trip, labels),
      (e: unknown) => e instanceof InternalError && e.message.includes(why),
      why,
    );
  }
});

test('every miner: valid triplets, the right anchors skipped and counted, on random batches', () => {
  const rng = new Rng(99, 'test');
  const miners = [new DistanceWeightedMiner(new Rng(1, 'miner')), new SemihardMiner(new Rng(2, 'miner'), 0.2), new RandomMiner(new Rng(3, 'miner'))];
  for (let round = 0; round < 40; round++) {
    const batch = 2 + rng.int(14);
    const dim = 2 + rng.int(6);
    const labels = Int32Array.from({ length: batch }, () => rng.int(1 + rng.int(5)));
    const emb = Float32Array.from({ length: batch * dim }, () => rng.normal());
    let noPositive = 0;
    let noNegative = 0;
    let validTriplets = 0;
    for (let i = 0; i < batch; i++) {
      const same = labels.filter((y) => y === labels[i]).length - 1;
      const other = batch - same - 1;
      if (same === 0) noPositive++;
      else if (other === 0) noNegative++;
      validTriplets += same * other;
    }
    for (const miner of miners) {
      const out = miner.mine(emb, dim, labels);
      for (let k = 0; k < out.anchors.length; k++) {
        const [a, p, n] = [out.anchors[k], out.positives[k], out.negatives[k]];
        assert.ok(a !== p && labels[a] === labels[p] && labels[a] !== labels[n], `${miner.key}: bad triplet`);
      }
      const expectedCount = miner.key === 'random' ? Math.min(batch, validTriplets) : batch - noPositive - noNegative;
      assert.equal(out.anchors.length, expectedCount, `${miner.key} triplet count`);
      assert.deepEqual([out.stats!.noPositive, out.stats!.noNegative, out.stats!.triplets], [noPositive, noNegative, expectedCount]);
    }
  }
});

test('mining warning names skipped and collapsed anchors, and is null for a clean batch', () => {
  const base = { anchors: 8, triplets: 8, noPositive: 0, noNegative: 0, collapsed: 0, fallbacks: 0 };
  assert.equal(miningWarning(base), null);
  assert.equal(miningWarning({ ...base, noPositive: 1, noNegative: 2, triplets: 5 }), '3 of 8 anchors skipped (no positive: 1, no negative: 2)');
  assert.match(miningWarning({ ...base, collapsed: 8 })!, /^8 anchors have every negative at distance ≤ 0\.01/);
});

test('identical embeddings: every miner still returns valid triplets and counts the collapse', () => {
  const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);
  const emb = new Float32Array(6 * 3).fill(0.5);
  for (const miner of [new DistanceWeightedMiner(new Rng(1)), new SemihardMiner(new Rng(2)), new RandomMiner(new Rng(3))]) {
    const out = miner.mine(emb, 3, labels);
    assert.equal(out.anchors.length, 6);
    assert.equal(out.stats!.collapsed, 6);
  }
});
