import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../helpers/tf.ts';
import { knn, knnAllVsAll, knnBlocks, knnQueryGallery, identityExclusion } from '../../src/eval/knn.ts';
import { Rng } from '../../src/rng.ts';
import { naiveKnn, unitVectors } from '../helpers/vectors.ts';

await useTestBackend();

test('duplicates: the query is excluded by index even when an identical row comes first', () => {
  // rows 0 and 1 are identical; row 2 is at distance 1 from both, row 3 further away
  const x = Float32Array.from([0, 0, 0, 0, 1, 0, 3, 0]);
  const ids = knnAllVsAll(x, 4, 2, 2);
  // row 1's nearest is its duplicate row 0 (distance 0), never itself
  assert.deepEqual([...ids.subarray(2, 4)], [0, 2]);
  assert.deepEqual([...ids.subarray(0, 2)], [1, 2]);
  assert.deepEqual([...ids.subarray(4, 6)], [0, 1]);
  assert.deepEqual([...ids.subarray(6, 8)], [2, 0]);
});

test('ties at equal distance go to the lower database index', () => {
  // query at the origin; references at (0,1), (1,0), (-1,0), (0,-1): all at distance 1
  const q = Float32Array.from([0, 0]);
  const db = Float32Array.from([0, 1, 1, 0, -1, 0, 0, -1, 2, 0]);
  assert.deepEqual([...knnQueryGallery(q, 1, db, 5, 2, 3)], [0, 1, 2]);
});

test('k larger than the database pads with -1', () => {
  const x = Float32Array.from([0, 1, 5]);
  const ids = knnAllVsAll(x, 3, 1, 4);
  assert.deepEqual([...ids], [1, 2, -1, -1, 0, 2, -1, -1, 1, 0, -1, -1]);
});

test('random data: blocked search equals a plain sort (several blocks, small budget)', () => {
  const rng = new Rng(7, 'knn-test');
  const n = 90;
  const dim = 16;
  const x = unitVectors(rng, n, dim);
  // budget for ~7 rows per block → 13 blocks
  const budget = 7 * (n * 8 + 12 * 8 + 17 * 4);
  const blocks = [...knnBlocks(x, n, x, n, dim, 10, { exclude: identityExclusion(n), budgetBytes: budget })];
  assert.ok(blocks.length >= 12, `expected many blocks, got ${blocks.length}`);
  const ids = knnAllVsAll(x, n, dim, 10, budget);
  assert.deepEqual([...ids], [...naiveKnn(x, n, x, n, dim, 10, true)]);
  const q = unitVectors(rng, 25, dim);
  assert.deepEqual([...knn(q, 25, x, n, dim, 5, { budgetBytes: budget })], [...naiveKnn(q, 25, x, n, dim, 5, false)]);
});

test('the wasm backend returns the same neighbours', async () => {
  const rng = new Rng(8, 'knn-test');
  const n = 70;
  const dim = 24;
  const x = unitVectors(rng, n, dim);
  const before = tf.getBackend();
  await useTestBackend('wasm');
  try {
    assert.deepEqual([...knnAllVsAll(x, n, dim, 6, 20_000)], [...naiveKnn(x, n, x, n, dim, 6, true)]);
  } finally {
    await tf.setBackend(before);
  }
});

test('no tensors leak across searches', () => {
  const rng = new Rng(9, 'knn-test');
  const x = unitVectors(rng, 40, 8);
  knnAllVsAll(x, 40, 8, 3, 5000);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) knnAllVsAll(x, 40, 8, 3, 5000);
  assert.equal(tf.memory().numTensors, before);
});
