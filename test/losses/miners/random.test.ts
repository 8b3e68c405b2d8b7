import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomMiner } from '../../../src/losses/miners/random.ts';
import { Rng } from '../../../src/rng.ts';

test('random miner draws batch-many distinct valid triplets, each candidate equally often', () => {
  // labels 0,0,1,1: 8 valid triplets; 4 are drawn without replacement, so each appears with probability 1/2.
  const labels = Int32Array.from([0, 0, 1, 1]);
  const emb = Float32Array.from([1, 0, 0.8, 0.6, -1, 0, 0, 1]);
  const miner = new RandomMiner(new Rng(3, 'miner'));
  const counts = new Map<string, number>();
  const draws = 4000;
  for (let r = 0; r < draws; r++) {
    const t = miner.mine(emb, 2, labels);
    const keys = Array.from(t.anchors, (a, k) => `${a}${t.positives[k]}${t.negatives[k]}`);
    assert.equal(new Set(keys).size, 4, 'without replacement');
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), ['012', '013', '102', '103', '230', '231', '320', '321']);
  // Binomial(4000, 1/2): sd ≈ 32; 5 sd.
  for (const [key, c] of counts) assert.ok(Math.abs(c - draws / 2) < 160, `${key}: ${c}`);
});

test('random miner returns every valid triplet when there are fewer than the batch size', () => {
  const miner = new RandomMiner(new Rng(4, 'miner'));
  const t = miner.mine(Float32Array.from([1, 0, 0, 1, -1, 0]), 2, Int32Array.from([0, 0, 1]));
  assert.deepEqual(Array.from(t.anchors).sort(), [0, 1]);
  assert.equal(t.stats!.noPositive, 1);
});

test('random miner on 28 classes × 4 (36,288 candidates) returns 112 distinct valid triplets', () => {
  const rng = new Rng(5, 'test');
  const labels = Int32Array.from({ length: 112 }, (_, i) => Math.floor(i / 4));
  const emb = Float32Array.from({ length: 112 * 16 }, () => rng.normal());
  const t = new RandomMiner(new Rng(6, 'miner')).mine(emb, 16, labels);
  assert.equal(t.anchors.length, 112);
  assert.equal(new Set(Array.from(t.anchors, (a, k) => a * 1e6 + t.positives[k] * 1e3 + t.negatives[k])).size, 112);
});
