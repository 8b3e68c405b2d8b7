import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SemihardMiner } from '../../../src/losses/miners/semihard.ts';
import { Rng } from '../../../src/rng.ts';

const at = (d: number) => [Math.cos(2 * Math.asin(d / 2)), Math.sin(2 * Math.asin(d / 2))];
// Anchor 0 at distance 0.5 from its only positive; negatives at 0.3 (too hard), 0.6 and 0.65 (in the band
// 0.5 < d < 0.7 for margin 0.2) and 1.0 (too easy).
const labels = Int32Array.from([0, 0, 1, 2, 3, 4]);
const emb = Float32Array.from([at(0), at(0.5), at(-0.3), at(-0.6), at(-0.65), at(-1.0)].flat());

test('semihard picks only negatives from the band d_ap < d_an < d_ap + margin, uniformly', () => {
  const miner = new SemihardMiner(new Rng(1, 'miner'), 0.2);
  const counts = new Map<number, number>();
  const draws = 4000;
  for (let r = 0; r < draws; r++) {
    const t = miner.mine(emb, 2, labels);
    assert.equal(t.anchors[0], 0);
    counts.set(t.negatives[0], (counts.get(t.negatives[0]) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [3, 4]);
  // Binomial(4000, 1/2): sd ≈ 32; 5 sd.
  assert.ok(Math.abs(counts.get(3)! - draws / 2) < 160, `counts ${[...counts]}`);
});

test('semihard falls back to a uniform negative when the band is empty, and counts it', () => {
  const miner = new SemihardMiner(new Rng(2, 'miner'), 0.05); // band (0.5, 0.55) holds nothing
  const counts = new Map<number, number>();
  let fallbacks = 0;
  for (let r = 0; r < 4000; r++) {
    const t = miner.mine(emb, 2, labels);
    counts.set(t.negatives[0], (counts.get(t.negatives[0]) ?? 0) + 1);
    fallbacks += t.stats!.fallbacks;
  }
  assert.deepEqual([...counts.keys()].sort(), [2, 3, 4, 5]);
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 140, `counts ${[...counts]}`);
  assert.ok(fallbacks >= 4000);
});
