/**
 * conv + bias (+ ReLU) as one fused kernel under a gradient tape (src/models/fused-conv.ts): its gradients with
 * respect to x, the filter and the bias equal those tfjs computes for the same function built from separate ops
 * (conv2d, add, relu) on the cpu backend, at strides 1 and 2 and paddings 0, 1 and 3; only the gradients asked
 * for are computed (no input gradient for a constant x, no filter gradient when only the bias is asked for), and a
 * whole ResNet50 step runs one input-gradient kernel fewer than it has convolutions (none for the images).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fusedConvBias } from '../../src/models/fused-conv.ts';
import { ResNet50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend, maxAbsDiff } from '../helpers/tf.ts';
import { randomValues } from '../helpers/cross-backend.ts';

before(async () => {
  await useTestBackend('cpu');
});

test('gradients of the fused conv + bias (+ ReLU) equal those of separate ops (strides 1, 2; paddings 0, 1, 3)', () => {
  const rng = new Rng(5, 'fused-conv');
  for (const [stride, padding, k] of [
    [1, 1, 3],
    [2, 1, 3],
    [2, 3, 7],
    [1, 0, 1],
    [2, 0, 1],
  ]) {
    for (const relu of [true, false]) {
      const x = tf.tensor4d(randomValues(rng, [2, 9, 8, 5]), [2, 9, 8, 5]);
      const w = tf.tensor4d(randomValues(rng, [k, k, 5, 6]), [k, k, 5, 6]);
      const b = tf.tensor1d(randomValues(rng, [6]));
      const weights = tf.tensor4d(randomValues(rng, [2 * 9 * 8 * 6]).slice(0, 1), [1, 1, 1, 1]); // a scalar weight for the loss
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(tf.square(y), weights));
      const fused = tf.grads((a: tf.Tensor, f: tf.Tensor, c: tf.Tensor) =>
        loss(fusedConvBias(a as tf.Tensor4D, f as tf.Tensor4D, c as tf.Tensor1D, { stride, padding, relu })),
      )([x, w, b]);
      const plain = tf.grads((a: tf.Tensor, f: tf.Tensor, c: tf.Tensor) => {
        const y = tf.add(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, stride, padding), c);
        return loss(relu ? tf.relu(y) : y);
      })([x, w, b]);
      const onlyWeights = tf.grads((f: tf.Tensor, c: tf.Tensor) =>
        loss(fusedConvBias(x, f as tf.Tensor4D, c as tf.Tensor1D, { stride, padding, relu })),
      )([w, b]);
      const onlyWeightsAgain = () =>
        tf.grads((f: tf.Tensor, c: tf.Tensor) => loss(fusedConvBias(x, f as tf.Tensor4D, c as tf.Tensor1D, { stride, padding, relu })))([w, b]);
      const name = `stride ${stride} pad ${padding} k ${k} relu ${relu}`;
      ['x', 'filter', 'bias'].forEach((what, i) => {
        const ref = plain[i].dataSync();
        assert.ok(maxAbsDiff(fused[i].dataSync(), ref) <= 1e-4 * Math.max(1, ...Array.from(ref, Math.abs)), `${name}: d${what}`);
        assert.ok(
          ref.some((v) => v !== 0),
          `${name}: d${what} is not all zero`,
        );
      });
      assert.deepEqual(onlyWeights[0].dataSync(), fused[1].dataSync(), `${name}: filter gradient without the input's`);
      assert.deepEqual(onlyWeights[1].dataSync(), fused[2].dataSync(), `${name}: bias gradient without the input's`);
      const asked = (f: () => void) => {
        const names: string[] = [];
        const original = tf.engine().runKernel.bind(tf.engine());
        tf.engine().runKernel = ((kernelName: string, ...rest: unknown[]) => {
          names.push(kernelName);
          return (original as (...a: unknown[]) => unknown)(kernelName, ...rest);
        }) as typeof original;
        try {
          f();
        } finally {
          tf.engine().runKernel = original;
        }
        return names;
      };
      const kernels = asked(() => tf.dispose(onlyWeightsAgain()));
      assert.equal(kernels.filter((k) => k === 'Conv2DBackpropInput').length, 0, `${name}: no input gradient for a constant x`);
      assert.equal(kernels.filter((k) => k === 'Conv2DBackpropFilter').length, 1, name);
      const biasOnly = asked(() => tf.dispose(tf.grad((c: tf.Tensor) => loss(fusedConvBias(x, w, c as tf.Tensor1D, { stride, padding, relu })))(b)));
      assert.equal(biasOnly.filter((k) => k.startsWith('Conv2DBackprop')).length, 0, `${name}: no convolution gradient for the bias alone`);
      tf.dispose([x, w, b, weights, ...fused, ...plain, ...onlyWeights]);
    }
  }
});

test('a ResNet50 step computes no gradient with respect to the images: one input-gradient kernel per convolution but the first', async () => {
  const m = new ResNet50({ embedSizes: [8, 4], rng: new Rng(4, 'init'), randomBackbone: true, width: 16 });
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const vars = m.trainableVariables();
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.addN(m.forward(x).embeds.map((e) => tf.sum(tf.square(e)))) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const count = (name: string) => info.kernels.filter((k) => k.name === name).length;
  assert.equal(count('FusedConv2D'), 53, 'every convolution of the step is one fused kernel');
  assert.equal(count('Conv2DBackpropFilter'), 53);
  assert.equal(count('Conv2DBackpropInput'), 52);
  x.dispose();
  m.dispose();
});
