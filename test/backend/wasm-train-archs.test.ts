/**
 * End to end through the real architectures: the gradients of every trainable variable of ResNet50,
 * GoogLeNet and BN-Inception (channels ÷ 16, 64 px, batch 2) on wasm with the training kernels equal the
 * cpu backend's (relative 1e-4). Covers every kernel their backward passes dispatch to (strided/1×1/7×7
 * convolutions, ceil-mode and padded pooling, concat, frozen-BN folding, heads).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../src/models/build-model.ts';
import { ARCHS } from '../../src/models/registry.ts';
import { rngFor } from '../../src/rng.ts';
import { Rng } from '../../src/rng.ts';
import { initBothBackends, on, randomValues } from '../helpers/cross-backend.ts';

before(initBothBackends);

for (const arch of Object.keys(ARCHS)) {
  test(`${arch}: all parameter gradients on wasm equal cpu`, async () => {
    await on('cpu');
    const model = await buildModel({
      arch,
      embedSizes: [8, 8],
      notPretrained: true,
      pretrainedFormat: 'torchvision',
      rng: rngFor(3, 'init'),
      width: 16,
    });
    const vars = model.trainableVariables();
    const images = randomValues(new Rng(51, arch), [2, 64, 64, 3]);
    const target = randomValues(new Rng(52, arch), [2, 8]);
    const gradsOn = async (backend: 'cpu' | 'wasm') => {
      await on(backend);
      const x = tf.tensor4d(images, [2, 64, 64, 3]);
      const t = tf.tensor2d(target, [2, 8]);
      const { value, grads } = tf.variableGrads(() => {
        const [a, b] = model.forward(x).embeds;
        return tf.add(tf.sum(tf.mul(a, t)), tf.sum(tf.square(tf.sub(b, t)))) as tf.Scalar;
      }, vars);
      const out = new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync().slice()]));
      tf.dispose([x, t, value, ...Object.values(grads)]);
      return out;
    };
    const ref = await gradsOn('cpu');
    const got = await gradsOn('wasm');
    assert.equal(got.size, vars.length);
    for (const [name, r] of ref) {
      const g = got.get(name)!;
      const scale = Math.max(1e-3, ...Array.from(r, Math.abs));
      let d = 0;
      for (let i = 0; i < r.length; i++) d = Math.max(d, Math.abs(g[i] - r[i]));
      assert.ok(d <= 1e-4 * scale, `${arch} ${name}: max diff ${d} (scale ${scale})`);
    }
    model.dispose();
  });
}
