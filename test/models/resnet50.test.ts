import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { ResNet50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { noFilterGradient } from '../helpers/model-fixtures.ts';
import { parityErrors } from '../helpers/model-parity.ts';

await useTestBackend();
const TOL = 1e-4;

test(`resnet50 (width ÷8) matches torchvision's forward within ${TOL}: pooled, layer1, both heads`, () => {
  const e = parityErrors('resnet50-w8', (width, embedSizes) => new ResNet50({ embedSizes, width, rng: new Rng(0, 'init'), randomBackbone: false }));
  assert.ok(e.pooled <= TOL, `pooled ${e.pooled}`);
  assert.ok(e.cluster <= TOL, `layer1 ${e.cluster}`);
  e.embeds.forEach((err, i) => assert.ok(err <= TOL, `head ${i}: ${err}`));
  assert.ok(e.pooledScale > 1, 'fixture activations are O(1), not vanishing');
});

test("full-width ResNet50 has torchvision's 23,508,032 backbone parameters (25,557,032 with its fc)", () => {
  const m = new ResNet50({ embedSizes: [128, 128], rng: new Rng(0, 'init'), randomBackbone: false });
  const TORCHVISION_FC = 2048 * 1000 + 1000;
  assert.equal(m.backboneParameterCount(), 23_508_032);
  assert.equal(m.backboneParameterCount() + TORCHVISION_FC, 25_557_032);
  assert.equal(m.parameterCount(), 23_508_032 + 2 * (2048 * 128 + 128));
  // torchvision: 53 convs, 53 BNs × (weight, bias, running_mean, running_var); plus our 2 heads × 2.
  assert.equal(m.parameters().length, 53 + 53 * 4 + 4);
  assert.equal(m.featureDim, 2048);
  m.dispose();
});

test('full-width ResNet50: forward + backward at 64 px, batch 2, without leaking tensors', () => {
  const m = new ResNet50({ embedSizes: [128, 128], rng: new Rng(1, 'init'), randomBackbone: true });
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  // The cpu backend's filter-gradient kernel is a plain loop (≈ 7 min for this step on 2 cores), so on cpu the
  // backward pass runs through every layer to all BN shifts β and the heads, skipping filter gradients.
  const fullGrad = tf.getBackend() !== 'cpu' && !noFilterGradient();
  const vars = fullGrad
    ? m.trainableVariables()
    : m
        .parameters()
        .filter((p) => p.trainable && p.name.endsWith('.bias'))
        .map((p) => p.variable);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const out = m.forward(x);
      return tf.tidy(() => tf.add(tf.sum(tf.square(out.embeds[0])), tf.sum(tf.mul(out.embeds[1], tf.range(0, 128)))) as tf.Scalar);
    }, vars);
    const norms = Object.values(grads).map((g) => tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]));
    tf.dispose([value, ...Object.values(grads)]);
    return norms;
  };
  const first = step();
  const before = tf.memory().numTensors;
  const second = step();
  assert.equal(tf.memory().numTensors, before, 'tensor count flat across steps');
  assert.equal(first.length, vars.length);
  assert.ok(second.every(Number.isFinite));
  // bn1.bias is the deepest β: a non-zero gradient there means the whole backward chain ran.
  const bn1Bias = m.parameters().find((p) => p.name === 'bn1.bias')!.variable;
  assert.ok(second[vars.indexOf(bn1Bias)] > 0);
  tf.dispose(x);
  m.dispose();
});

test('frozen BN: an optimizer step leaves running statistics untouched and moves γ and β', { skip: noFilterGradient() }, () => {
  const m = new ResNet50({ embedSizes: [8, 4], rng: new Rng(2, 'init'), randomBackbone: true, width: 16 });
  const x = tf.randomNormal([2, 32, 40, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const snapshot = () => new Map(m.parameters().map((p) => [p.name, Float32Array.from(p.variable.dataSync())]));
  const before = snapshot();
  const opt = tf.train.sgd(0.5);
  opt.minimize(
    () => {
      const out = m.forward(x);
      return tf.tidy(() => tf.add(tf.sum(tf.mul(out.embeds[0], tf.range(0, 8))), tf.sum(out.embeds[1])) as tf.Scalar);
    },
    false,
    m.trainableVariables(),
  );
  const after = snapshot();
  const changed = (n: string) => before.get(n)!.some((v, i) => v !== after.get(n)![i]);
  const stats = [...before.keys()].filter((n) => /running_(mean|var)$/.test(n));
  const affine = [...before.keys()].filter((n) => /(^|\.)(bn\d|downsample\.1)\.(weight|bias)$/.test(n));
  assert.equal(stats.length, 53 * 2);
  assert.equal(affine.length, 53 * 2);
  for (const n of stats) assert.ok(!changed(n), `${n} must stay frozen`);
  for (const n of affine) assert.ok(changed(n), `${n} must be trained`);
  assert.ok(changed('layer4.2.conv3.weight') && changed('last_linear.Class.weight'));
  opt.dispose();
  tf.dispose(x);
  m.dispose();
});

test('any input side ≥ 32 works (odd, non-square); smaller or non-RGB input is a UserError', () => {
  const m = new ResNet50({ embedSizes: [8, 4], rng: new Rng(3, 'init'), randomBackbone: true, width: 16 });
  for (const [h, w] of [
    [32, 32],
    [33, 57],
  ]) {
    const x = tf.zeros([1, h, w, 3]) as tf.Tensor4D;
    const out = m.forward(x);
    const c = m.clusterFeatures(x);
    assert.deepEqual(out.pooled.shape, [1, 128]);
    assert.deepEqual(
      out.embeds.map((e) => e.shape),
      [
        [1, 8],
        [1, 4],
      ],
    );
    // layer1 sits at stride 4: conv1 (pad 3, stride 2) then max pool (pad 1, stride 2), each ⌊(n−1)/2⌋+1.
    const quarter = (n: number) => Math.floor((Math.floor((n - 1) / 2) + 1 - 1) / 2) + 1;
    assert.deepEqual(c.shape, [1, quarter(h), quarter(w), 16]);
    tf.dispose([x, out.pooled, ...out.embeds, c]);
  }
  const small = tf.zeros([1, 31, 64, 3]) as tf.Tensor4D;
  assert.throws(
    () => m.forward(small),
    (e: unknown) => e instanceof UserError && /31×64.*--input-size/.test(e.message),
  );
  const gray = tf.zeros([1, 64, 64, 1]) as tf.Tensor4D;
  assert.throws(() => m.clusterFeatures(gray), UserError);
  tf.dispose([small, gray]);
  m.dispose();
});

test('keras-v1 variant: same names plus a bias on every conv, BGR caffe input', () => {
  const tv = new ResNet50({ embedSizes: [4], rng: new Rng(5, 'init'), randomBackbone: false, width: 16 });
  const v1 = new ResNet50({ embedSizes: [4], rng: new Rng(5, 'init'), randomBackbone: false, width: 16, variant: 'keras-v1', bnEps: 1e-3 });
  const tvNames = new Set(tv.parameters().map((p) => p.name));
  const extra = v1
    .parameters()
    .map((p) => p.name)
    .filter((n) => !tvNames.has(n));
  assert.equal(extra.length, 53);
  assert.ok(extra.every((n) => /(conv\d|downsample\.0)\.bias$/.test(n)));
  assert.equal(v1.input.order, 'BGR');
  assert.equal(v1.input.scale, 255);
  assert.equal(tv.input.order, 'RGB');
  tv.dispose();
  v1.dispose();
});
