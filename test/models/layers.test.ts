import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Conv2d, FrozenBatchNorm2d, avgPool2dIncludePad, convBn, l2Normalize, maxPool2d, torchPoolLength } from '../../src/models/layers.ts';
import { Module } from '../../src/models/module.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff, useTestBackend } from '../helpers/tf.ts';
import { noFilterGradient } from '../helpers/model-fixtures.ts';

await useTestBackend();

test('torchPoolLength matches PyTorch output sizes (values printed by torch 1.13 F.max_pool2d)', () => {
  const cases: Array<[number, number, number, number, boolean, number]> = [
    [112, 3, 2, 0, true, 56],
    [112, 3, 2, 0, false, 55],
    [56, 3, 2, 1, false, 28],
    [8, 3, 1, 1, true, 8],
    [14, 2, 2, 0, true, 7],
    [15, 2, 2, 0, true, 8],
    [5, 2, 2, 1, true, 3], // the last window would start in the right padding: dropped
  ];
  for (const [size, kernel, stride, padding, ceilMode, want] of cases) {
    assert.equal(torchPoolLength(size, { kernel, stride, padding, ceilMode }), want, `${size} k${kernel} s${stride} p${padding} ceil=${ceilMode}`);
  }
});

test('maxPool2d in ceil mode keeps the partial last window (hand-computed)', () => {
  // v[r][c] = 6r + c; windows start at 0, 2, 4 and the last one only covers rows/cols 4..5.
  const x = tf.tensor4d(
    Array.from({ length: 36 }, (_, i) => i),
    [1, 6, 6, 1],
  );
  const y = maxPool2d(x, { kernel: 3, stride: 2, ceilMode: true });
  assert.deepEqual(y.reshape([3, 3]).arraySync(), [
    [14, 16, 17],
    [26, 28, 29],
    [32, 34, 35],
  ]);
  const floor = maxPool2d(x, { kernel: 3, stride: 2 });
  assert.deepEqual(floor.shape, [1, 2, 2, 1]);
  tf.dispose([x, y, floor]);
});

test('maxPool2d padding never wins over negative values (PyTorch pads with −∞)', () => {
  const x = tf.fill([1, 4, 4, 1], -5);
  const y = maxPool2d(x as tf.Tensor4D, { kernel: 3, stride: 2, padding: 1 });
  assert.deepEqual([...y.dataSync()], [-5, -5, -5, -5]);
  tf.dispose([x, y]);
});

test('avgPool2dIncludePad counts zero padding in the divisor (count_include_pad=True)', () => {
  const x = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
  const y = avgPool2dIncludePad(x, { kernel: 3, stride: 1, padding: 1, ceilMode: true });
  const want = [4, 6, 4, 6, 9, 6, 4, 6, 4].map((n) => n / 9);
  assert.ok(maxAbsDiff(y.dataSync(), want) < 1e-6);
  tf.dispose([x, y]);
});

test('l2Normalize: unit rows, and a zero row stays zero with a finite gradient', () => {
  const x = tf.tensor2d([
    [3, 4],
    [0, 0],
  ]);
  const y = l2Normalize(x);
  // 0.6 and 0.8 rounded to float32 (the norm 5 is exact).
  assert.deepEqual([...y.dataSync()], [0.6000000238418579, 0.800000011920929, 0, 0]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(l2Normalize(v as tf.Tensor2D)))(x);
  assert.ok([...g.dataSync()].every(Number.isFinite));
  tf.dispose([x, y, g]);
});

/** conv + BN with random values, everything registered in one module. */
class ConvBnToy extends Module {
  readonly conv: Conv2d;
  readonly bn: FrozenBatchNorm2d;
  constructor(rng: Rng, bias: boolean) {
    super();
    const root = this.rootScope(rng);
    this.conv = new Conv2d(root.child('conv'), { inChannels: 3, outChannels: 4, kernel: 3, stride: 2, padding: 1, bias, init: 'torch-default' });
    this.bn = new FrozenBatchNorm2d(root.child('bn'), 4, 1e-3);
    this.bn.weight.assign(tf.tensor1d([0.5, 1.5, -1, 2]));
    this.bn.bias.assign(tf.tensor1d([0.1, -0.2, 0.3, 0]));
    this.bn.runningMean.assign(tf.tensor1d([0.2, -0.1, 0, 0.4]));
    this.bn.runningVar.assign(tf.tensor1d([0.5, 2, 1, 0.01]));
  }
}

/** The textbook composition conv → (x − μ)/√(σ² + ε)·γ + β → ReLU, with unfused ops. */
function reference(x: tf.Tensor4D, m: ConvBnToy): tf.Tensor {
  return tf.tidy(() => {
    let y: tf.Tensor = tf.conv2d(x, m.conv.weight as tf.Tensor4D, 2, 1);
    if (m.conv.bias) y = tf.add(y, m.conv.bias);
    y = tf.div(tf.sub(y, m.bn.runningMean), tf.sqrt(tf.add(m.bn.runningVar, 1e-3)));
    return tf.relu(tf.add(tf.mul(y, m.bn.weight), m.bn.bias));
  });
}

test('convBn (BN folded into the filter) equals conv → frozen BN → ReLU, with and without conv bias', () => {
  for (const bias of [false, true]) {
    const m = new ConvBnToy(new Rng(3, 'convbn'), bias);
    const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const got = convBn(x, m.conv, m.bn, 'relu');
    const want = reference(x, m);
    assert.deepEqual(got.shape, [2, 4, 3, 4]);
    assert.ok(maxAbsDiff(got.dataSync(), want.dataSync()) < 1e-5, `bias=${bias}`);
    tf.dispose([x, got, want]);
    m.dispose();
  }
});

test('gradients through the fold match the unfused composition for W, γ, β and the conv bias', { skip: noFilterGradient() }, () => {
  const m = new ConvBnToy(new Rng(4, 'convbn'), true);
  const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
  const r = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 13);
  const vars = m.trainableVariables();
  const folded = tf.variableGrads(() => tf.sum(tf.mul(convBn(x, m.conv, m.bn, 'linear'), r)) as tf.Scalar, vars);
  const plain = tf.variableGrads(() => {
    let y: tf.Tensor = tf.add(tf.conv2d(x, m.conv.weight as tf.Tensor4D, 2, 1), m.conv.bias!);
    y = tf.add(tf.mul(tf.div(tf.sub(y, m.bn.runningMean), tf.sqrt(tf.add(m.bn.runningVar, 1e-3))), m.bn.weight), m.bn.bias);
    return tf.sum(tf.mul(y, r)) as tf.Scalar;
  }, vars);
  assert.equal(Object.keys(folded.grads).length, 4);
  for (const name of Object.keys(plain.grads)) {
    const a = folded.grads[name].dataSync();
    const b = plain.grads[name].dataSync();
    const scale = Math.max(...[...b].map(Math.abs));
    assert.ok(maxAbsDiff(a, b) <= 1e-5 * Math.max(1, scale), name);
  }
  tf.dispose([x, r, folded.value, plain.value, ...Object.values(folded.grads), ...Object.values(plain.grads)]);
  m.dispose();
});
