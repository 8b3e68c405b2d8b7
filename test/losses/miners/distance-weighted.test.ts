import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distanceLogWeight, DistanceWeightedMiner, negativeProbabilities } from '../../../src/losses/miners/distance-weighted.ts';
import { Rng } from '../../../src/rng.ts';

/** A unit vector in `dim` dimensions at Euclidean distance d from e1 (rotated in the e1–e2 plane). */
function atDistance(d: number, dim: number): number[] {
  const theta = 2 * Math.asin(d / 2);
  const v = new Array(dim).fill(0);
  v[0] = Math.cos(theta);
  v[1] = Math.sin(theta);
  return v;
}

/** Pearson's χ² of observed counts against expected probabilities. */
function chiSquare(counts: number[], probs: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((s, c, k) => s + (c - total * probs[k]) ** 2 / (total * probs[k]), 0);
}

/** Upper 0.1 % points of χ² for 1–4 degrees of freedom. */
const CHI2_999 = [0, 10.83, 13.82, 16.27, 18.47];

test('log-weight by hand: n = 128 gives −126·log d − 62.5·log(1 − d²/4), cut at 0.5 below, finite at d ≥ 2', () => {
  assert.ok(Math.abs(distanceLogWeight(1, 128) - -62.5 * Math.log(0.75)) < 1e-12);
  assert.ok(Math.abs(distanceLogWeight(1.4, 128) - (-126 * Math.log(1.4) - 62.5 * Math.log(1 - 0.49))) < 1e-12);
  assert.equal(distanceLogWeight(0.1, 128), distanceLogWeight(0.5, 128));
  assert.ok(Math.abs(distanceLogWeight(0.5, 128) - (126 * Math.log(2) - 62.5 * Math.log(0.9375))) < 1e-12);
  // Beyond d = 2 the bracket is clamped at 1e-8 instead of giving log(≤ 0).
  assert.equal(distanceLogWeight(2.1, 128), -126 * Math.log(2.1) - 62.5 * Math.log(1e-8));
  assert.ok(Number.isFinite(distanceLogWeight(2, 128)));
});

// Crafted batch in 4 dimensions, where the weight is 1 / (d² · sqrt(1 − d²/4)) (n = 4: (2 − n) = −2, (n − 3)/2 = 1/2).
const negDistances = [0.3, 1.0, Math.SQRT2, 1.9];
const labels4 = Int32Array.from([0, 0, 1, 2, 3, 4]);
const emb4 = Float32Array.from([atDistance(0, 4), atDistance(0.2, 4), ...negDistances.map((d) => atDistance(d, 4))].flat());
const hand4 = (() => {
  const w = negDistances.map((d) => Math.max(d, 0.5)).map((d) => 1 / (d * d * Math.sqrt(1 - (d * d) / 4)));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
})();

test('negative distribution of one anchor equals the hand formula; same-label rows get 0', () => {
  const dist = negDistances.map((d) => d);
  const row = [0.01, 0.2, ...dist];
  const p = negativeProbabilities(row, labels4, 0, 4);
  assert.equal(p[0], 0);
  assert.equal(p[1], 0);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(p[2 + k] - hand4[k]) < 1e-12, `row ${2 + k}`);
});

test('distance-weighted negatives follow the distribution over many seeded draws (χ², n = 4 and n = 128)', () => {
  const cases = [
    { dim: 4, emb: emb4, probs: hand4 },
    (() => {
      // n = 128 with distances where the weights stay comparable (they explode below ~1.2 and above ~1.7).
      const ds = [1.3, 1.4, 1.5, 1.6];
      const lw = ds.map((d) => -126 * Math.log(d) - 62.5 * Math.log(1 - (d * d) / 4));
      const m = Math.max(...lw);
      const w = lw.map((x) => Math.exp(x - m));
      const s = w.reduce((a, b) => a + b, 0);
      return {
        dim: 128,
        emb: Float32Array.from([atDistance(0, 128), atDistance(0.2, 128), ...ds.map((d) => atDistance(d, 128))].flat()),
        probs: w.map((x) => x / s),
      };
    })(),
  ];
  for (const { dim, emb, probs } of cases) {
    const miner = new DistanceWeightedMiner(new Rng(2024, 'miner'));
    const counts = [0, 0, 0, 0];
    const draws = 20000;
    for (let r = 0; r < draws; r++) {
      const t = miner.mine(emb, dim, labels4);
      assert.equal(t.anchors[0], 0);
      counts[t.negatives[0] - 2]++;
    }
    const chi = chiSquare(counts, probs);
    assert.ok(chi < CHI2_999[3], `n=${dim}: χ² ${chi.toFixed(2)} for counts ${counts} vs ${probs.map((p) => p.toFixed(4))}`);
    // The same counts are far from a uniform choice, so the check has power.
    assert.ok(chiSquare(counts, [0.25, 0.25, 0.25, 0.25]) > 100);
  }
});

test('distance-weighted positives are uniform among the anchor’s other same-label rows', () => {
  const labels = Int32Array.from([0, 0, 0, 0, 1]);
  const emb = Float32Array.from([0, 0.2, 0.5, 1.0, 1.4].map((d) => atDistance(d, 3)).flat());
  const miner = new DistanceWeightedMiner(new Rng(5, 'miner'));
  const counts = [0, 0, 0];
  for (let r = 0; r < 6000; r++) counts[miner.mine(emb, 3, labels).positives[0] - 1]++;
  assert.ok(chiSquare(counts, [1 / 3, 1 / 3, 1 / 3]) < CHI2_999[2], `counts ${counts}`);
});

test('an antipodal negative (d = 2) gets a finite, dominant weight instead of NaN', () => {
  // n = 8: log w = −6·log d − 2.5·log(max(1 − d²/4, 1e-8)), so d = 2 scores ≈ 41.9 against ≈ −0.35 at d = √2.
  const labels = Int32Array.from([0, 0, 1, 2]);
  const emb = Float32Array.from([atDistance(0, 8), atDistance(0.3, 8), atDistance(2, 8), atDistance(Math.SQRT2, 8)].flat());
  const p = negativeProbabilities([0.01, 0.3, 2, Math.SQRT2], labels, 0, 8);
  assert.ok(p.every(Number.isFinite) && p[2] > 1 - 1e-12);
  const miner = new DistanceWeightedMiner(new Rng(6, 'miner'));
  for (let r = 0; r < 50; r++) assert.equal(miner.mine(emb, 8, labels).negatives[0], 2);
});
