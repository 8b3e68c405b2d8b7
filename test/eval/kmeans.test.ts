import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend, maxAbsDiff } from '../helpers/tf.ts';
import { assignToNearest, kmeans, splitEmptyClusters, SPLIT_EPS } from '../../src/eval/kmeans.ts';
import { UserError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';
import { nmi } from '../../src/eval/metrics/nmi.ts';
import { naiveNearest, unitVectors, balancedLabels } from '../helpers/vectors.ts';

await useTestBackend();

/** Four well-separated 2-d blobs of 10 points: blob b around (10·b, (b % 2)·10), jitter < 0.5. */
function blobs(rng: Rng): { x: Float32Array; labels: Int32Array } {
  const x = new Float32Array(40 * 2);
  const labels = new Int32Array(40);
  for (let i = 0; i < 40; i++) {
    const b = i % 4;
    labels[i] = b;
    x[2 * i] = 10 * b + rng.uniform(-0.5, 0.5);
    x[2 * i + 1] = (b % 2) * 10 + rng.uniform(-0.5, 0.5);
  }
  return { x, labels };
}

test('deterministic under a seed; another seed starts from other points', () => {
  const rng = new Rng(1, 'data');
  const labels = balancedLabels(rng, 150, 12);
  const x = unitVectors(rng, 150, 8, labels, 0.7);
  const a = kmeans(x, 150, 8, 12, { iters: 20, rng: new Rng(1234, 'kmeans') });
  const b = kmeans(x, 150, 8, 12, { iters: 20, rng: new Rng(1234, 'kmeans') });
  assert.deepEqual([...a.assignments], [...b.assignments]);
  assert.deepEqual([...a.centroids], [...b.centroids]);
  assert.equal(a.inertia, b.inertia);
  const c = kmeans(x, 150, 8, 12, { iters: 20, rng: new Rng(99, 'kmeans') });
  assert.notDeepEqual([...c.centroids], [...a.centroids]);
});

test('recovers separable blobs (NMI 1, centroids = blob means, inertia = within-blob sum)', () => {
  const { x, labels } = blobs(new Rng(2, 'data'));
  // 10 seeds: a random init may put two centres in one blob; Lloyd + splitting must still end right most of the
  // time, and the best-inertia run must be exact.
  let best = kmeans(x, 40, 2, 4, { iters: 20, rng: new Rng(0, 'kmeans') });
  for (let s = 1; s < 10; s++) {
    const r = kmeans(x, 40, 2, 4, { iters: 20, rng: new Rng(s, 'kmeans') });
    if (r.inertia < best.inertia) best = r;
  }
  assert.equal(nmi(labels, best.assignments), 1);
  let within = 0;
  for (let b = 0; b < 4; b++) {
    const members = [...labels.keys()].filter((i) => labels[i] === b);
    const c = best.assignments[members[0]];
    for (let d = 0; d < 2; d++) {
      const mean = members.reduce((s, i) => s + x[2 * i + d], 0) / members.length;
      assert.ok(Math.abs(best.centroids[2 * c + d] - mean) < 1e-5);
      within += members.reduce((s, i) => s + (x[2 * i + d] - mean) ** 2, 0);
    }
  }
  assert.ok(Math.abs(best.inertia - within) < 1e-4, `${best.inertia} vs ${within}`);
});

test('Lloyd from a fixed init matches scikit-learn KMeans (fixture)', () => {
  const f = JSON.parse(readFileSync(new URL('../fixtures/eval/kmeans_lloyd.json', import.meta.url), 'utf8'));
  const r = kmeans(Float32Array.from(f.data), f.n, f.dim, f.k, {
    iters: 20,
    rng: new Rng(0),
    initialCentroids: Float32Array.from(f.init),
  });
  assert.deepEqual([...r.assignments], f.labels);
  assert.ok(maxAbsDiff(r.centroids, f.centroids) < 1e-5);
  assert.ok(Math.abs(r.inertia - f.inertia) / f.inertia < 1e-6);
  assert.ok(r.converged);
  // sklearn counts the final no-change pass as an iteration; we count centroid updates
  assert.equal(r.iterations, f.iterations - 1);
});

test('empty cluster: re-seeded by splitting the populous one, then the blobs separate', () => {
  // two tight blobs at x≈0 and x≈10; one initial centre between them, one far away (gets no points)
  const x = Float32Array.from([0, 0, 0.2, 0, -0.2, 0, 10, 0, 10.2, 0, 9.8, 0]);
  const r = kmeans(x, 6, 2, 2, { iters: 20, rng: new Rng(3), initialCentroids: Float32Array.from([4, 0, 100, 100]) });
  assert.equal(r.emptySplits, 1);
  assert.deepEqual([...r.assignments], [0, 0, 0, 1, 1, 1]);
  assert.ok(maxAbsDiff(r.centroids, [0, 0, 10, 0]) < 1e-6);
  assert.ok(Math.abs(r.inertia - 4 * 0.04) < 1e-6);
});

test('splitEmptyClusters: copies a cluster with ≥ 2 points and perturbs both by ±1/1024, halving its count', () => {
  const c = Float32Array.from([1, 2, 3, 4, 9, 9, 5, 6]);
  const counts = Int32Array.from([1, 0, 1, 5]);
  splitEmptyClusters(c, 4, 2, counts, new Rng(4));
  // only cluster 3 has more than one point; dim 0 even: copy ×(1+ε), source ×(1−ε); dim 1 the other way
  assert.ok(maxAbsDiff(c.subarray(2, 4), [5 * (1 + SPLIT_EPS), 6 * (1 - SPLIT_EPS)]) < 1e-6);
  assert.ok(maxAbsDiff(c.subarray(6, 8), [5 * (1 - SPLIT_EPS), 6 * (1 + SPLIT_EPS)]) < 1e-6);
  assert.deepEqual([...counts], [1, 2, 1, 3]);
});

test('subsampling: fits on maxPointsPerCentroid·k points, then assigns every point to its nearest centroid', () => {
  const rng = new Rng(5, 'data');
  const labels = balancedLabels(rng, 300, 6);
  const x = unitVectors(rng, 300, 10, labels, 0.5);
  const notes: string[] = [];
  const r = kmeans(x, 300, 10, 6, { iters: 25, rng: new Rng(6), maxPointsPerCentroid: 10, onWarning: (m) => notes.push(m) });
  assert.equal(r.fitPoints, 60);
  assert.ok(notes.some((m) => m.includes('subsample of 60 of 300')));
  assert.deepEqual([...r.assignments], [...naiveNearest(x, 300, r.centroids, 6, 10)]);
});

test('fewer points than clusters is a UserError', () => {
  assert.throws(() => kmeans(new Float32Array(6), 3, 2, 4, { iters: 5, rng: new Rng(0) }), UserError);
});

test('assignToNearest equals a plain loop on cpu and wasm, in several blocks, without leaking tensors', async () => {
  const rng = new Rng(10, 'data');
  const x = unitVectors(rng, 200, 12);
  const c = unitVectors(rng, 17, 12);
  const expected = [...naiveNearest(x, 200, c, 17, 12)];
  const out = new Int32Array(200);
  const before = tf.memory().numTensors;
  assignToNearest(x, 200, 12, c, 17, out, 3000);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([...out], expected);
  const backend = tf.getBackend();
  await useTestBackend('wasm');
  try {
    out.fill(-1);
    assignToNearest(x, 200, 12, c, 17, out, 3000);
    assert.deepEqual([...out], expected);
  } finally {
    await tf.setBackend(backend);
  }
});
