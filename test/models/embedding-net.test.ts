import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { HEAD_NAMES, isHeadName, scaledChannels } from '../../src/models/embedding-net.ts';
import { ResNet50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';

await useTestBackend();

test('head names and the test width divisor', () => {
  assert.deepEqual([...HEAD_NAMES], ['Class', 'Shared']);
  assert.ok(isHeadName('last_linear.Shared.bias'));
  assert.ok(!isHeadName('last_linear.weight'), "BN-Inception's ImageNet classifier is not a head");
  assert.deepEqual(
    [64, 192, 24, 2048].map((c) => scaledChannels(c, 8)),
    [8, 24, 3, 256],
  );
  assert.equal(scaledChannels(4, 16), 1);
});

test('embeddings are unit-norm and named last_linear.Class / last_linear.Shared', () => {
  const m = new ResNet50({ embedSizes: [8, 4], rng: new Rng(4, 'init'), randomBackbone: true, width: 16 });
  const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const out = m.forward(x);
  for (const e of out.embeds) {
    const norms = tf.norm(e, 'euclidean', 1).dataSync();
    for (const n of norms) assert.ok(Math.abs(n - 1) < 1e-5);
  }
  const names = m
    .parameters()
    .map((p) => p.name)
    .filter((n) => n.startsWith('last_linear.'));
  assert.deepEqual(names, ['last_linear.Class.weight', 'last_linear.Class.bias', 'last_linear.Shared.weight', 'last_linear.Shared.bias']);
  assert.throws(() => new ResNet50({ embedSizes: [8, 8, 8], rng: new Rng(0, 'x'), randomBackbone: false, width: 16 }), /--embed_sizes/);
  tf.dispose([x, out.pooled, ...out.embeds]);
  m.dispose();
});

test('loadPretrained keeps the random heads even when the file has head tensors, and drops the classifier', () => {
  const m = new ResNet50({ embedSizes: [8, 4], rng: new Rng(6, 'init'), randomBackbone: true, width: 16 });
  const sd = m.stateDict();
  const headBefore = sd.get('last_linear.Class.weight')!.dataSync().slice();
  const replaced = new Map([...sd].map(([n, t]) => [n, tf.add(t, 1)]));
  replaced.set('fc.weight', tf.zeros([1000, 128]));
  replaced.set('fc.bias', tf.zeros([1000]));
  m.loadPretrained(replaced, 'imagenet.safetensors');
  const after = m.stateDict();
  assert.deepEqual([...after.get('last_linear.Class.weight')!.dataSync()], [...headBefore]);
  const conv = after.get('layer1.0.conv1.weight')!.dataSync();
  const want = replaced.get('layer1.0.conv1.weight')!.dataSync();
  assert.deepEqual([...conv], [...want]);
  tf.dispose([...sd.values(), ...replaced.values(), ...after.values()]);
  m.dispose();
});
