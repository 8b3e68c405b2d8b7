import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rowMarginDistance, samplerDistances, selectEntries, selectRows } from '../../src/losses/distances.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { grad2d } from '../helpers/losses.ts';

await useTestBackend();

test('sampler distances by hand: 3-4-5 triangle, identical rows floored at sqrt(1e-4) = 0.01', () => {
  const d = samplerDistances(Float32Array.from([0, 0, 3, 4, 3, 4]), 2);
  assert.deepEqual(Array.from(d), [0.01, 5, 5, 5, 0.01, 0.01, 5, 0.01, 0.01]);
});

test('margin distance keeps 1e-8 inside the root: identical rows give 1e-4 and a zero (not NaN) gradient', () => {
  const a = tf.tensor2d([
    [0.6, 0.8],
    [1, 0],
  ]);
  const b = tf.tensor2d([
    [0.6, 0.8],
    [0, 1],
  ]);
  const d = rowMarginDistance(a, b).dataSync();
  assert.ok(Math.abs(d[0] - 1e-4) < 1e-9 && Math.abs(d[1] - Math.SQRT2) < 1e-6);
  const g = grad2d((x) => tf.sum(rowMarginDistance(x, b)))(a).dataSync();
  assert.deepEqual(Array.from(g.slice(0, 2)), [0, 0]);
  tf.dispose([a, b]);
});

test('selectRows / selectEntries equal gather exactly and route gradients back to the picked rows', () => {
  const x = tf.tensor2d([
    [1.5, -2],
    [3.25, 4],
    [5, 6.125],
  ]);
  const idx = Int32Array.from([2, 0, 2]);
  assert.deepEqual(selectRows(x, idx).arraySync(), [
    [5, 6.125],
    [1.5, -2],
    [5, 6.125],
  ]);
  assert.deepEqual(Array.from(selectEntries(tf.tensor1d([7, 8, 9]), idx).dataSync()), [9, 7, 9]);
  const g = grad2d((v) => tf.sum(selectRows(v, idx)))(x);
  assert.deepEqual(g.arraySync(), [
    [1, 1],
    [0, 0],
    [2, 2],
  ]);
  x.dispose();
});

test('selectRows / selectEntries train on wasm, which has no gather gradient (UnsortedSegmentSum)', async () => {
  const before = tf.getBackend();
  await useTestBackend('wasm');
  try {
    assert.equal(
      tf.getKernel('UnsortedSegmentSum', 'wasm'),
      undefined,
      'wasm gained a gather gradient: tf.gather may now replace the one-hot product',
    );
    const x = tf.tensor2d([
      [1.5, -2],
      [3.25, 4],
      [5, 6.125],
    ]);
    const idx = Int32Array.from([2, 0, 2]);
    assert.deepEqual(grad2d((v) => tf.sum(selectRows(v, idx)))(x).arraySync(), [
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
    const v = tf.tensor1d([7, 8, 9]);
    assert.deepEqual(
      Array.from(
        tf
          .grad((t: tf.Tensor) => tf.sum(tf.mul(selectEntries(t as tf.Tensor1D, idx), tf.tensor1d([1, 10, 100]))))(v)
          .dataSync(),
      ),
      [10, 0, 101],
    );
    tf.dispose([x, v]);
  } finally {
    await tf.setBackend(before);
  }
});
