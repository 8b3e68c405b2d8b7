import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '../helpers/tf.ts';
import { embedAll } from '../../src/eval/embed.ts';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import type { EmbeddingModel, ForwardOutput } from '../../src/models/types.ts';

await useTestBackend();

/**
 * Test double: head 0 = per-image channel means [n, 3]; head 1 = [mean of channel 0, 2·mean of channel 0] [n, 2];
 * pooled = channel sums [n, 3]. Every image i below is filled with the constant i + channel/10.
 */
const fakeModel: EmbeddingModel = {
  arch: 'fake',
  input: IMAGENET_RGB,
  featureDim: 3,
  embedSizes: [3, 2],
  forward(images: tf.Tensor4D): ForwardOutput {
    const means = tf.mean(images, [1, 2]) as tf.Tensor2D;
    const c0 = tf.slice(means, [0, 0], [-1, 1]);
    return { embeds: [means, tf.concat([c0, tf.mul(c0, 2)], 1) as tf.Tensor2D], pooled: tf.sum(images, [1, 2]) as tf.Tensor2D };
  },
  clusterFeatures: (images) => images,
  trainableVariables: () => [],
  stateDict: () => new Map(),
  loadStateDict: () => {},
  dispose: () => {},
};

async function* batches(sizes: number[], side: number): AsyncGenerator<{ images: Float32Array; n: number }> {
  let next = 0;
  for (const n of sizes) {
    const images = new Float32Array(n * side * side * 3);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < side * side; p++) for (let c = 0; c < 3; c++) images[(i * side * side + p) * 3 + c] = next + i + c / 10;
    next += n;
    yield { images, n };
  }
}

test('Class head of all images, in order, into one array; no tensors left behind', async () => {
  const before = tf.memory().numTensors;
  const out = await embedAll(fakeModel, batches([3, 3, 1], 4), 7);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(out.length, 7 * 3);
  for (let i = 0; i < 7; i++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(out[i * 3 + c] - (i + c / 10)) < 1e-5);
});

test('another head (Shared) or the pooled feature through the same function', async () => {
  const shared = await embedAll(fakeModel, batches([2, 2], 2), 4, 1);
  assert.deepEqual(
    [...shared].map((v) => Math.round(v * 1e4) / 1e4),
    [0, 0, 1, 2, 2, 4, 3, 6],
  );
  const pooled = await embedAll(fakeModel, batches([2], 2), 2, 0, { features: 'pooled' });
  assert.ok(Math.abs(pooled[3 + 2] - 4 * 1.2) < 1e-5); // image 1, channel 2: 4 pixels × 1.2
  const custom = await embedAll(fakeModel, batches([2], 2), 2, 0, { features: (_m, x) => tf.reshape(x, [2, 12]) as tf.Tensor2D });
  assert.equal(custom.length, 24);
});

test('a batch count that does not match the expected size is an internal error', async () => {
  await assert.rejects(() => embedAll(fakeModel, batches([2, 2], 2), 3), /more than the expected 3/);
  await assert.rejects(() => embedAll(fakeModel, batches([2], 2), 3), /got 2 images, expected 3/);
});
