import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { l2Normalize } from '../../src/models/layers.ts';
import { AdversarialLoss, adversarialTotal, buildAdversarialLosses, gradientReversal } from '../../src/mic/adversarial.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff, useTestBackend } from '../helpers/tf.ts';
import { loadFixture, numericGradient, relativeError, scalarOf } from '../helpers/losses.ts';

await useTestBackend();
const fx = loadFixture();
const adv = fx.adversarial;
const B = fx.labels.length;
const NAMES = ['0.weight', '0.bias', '2.weight', '2.bias'];

/** The fixture's projection net (source 5 → 7 → target 8), direction Class-Shared. */
function fixtureLoss(reverseGradient = true): AdversarialLoss {
  const loss = new AdversarialLoss({
    direction: 'Class-Shared',
    sourceDim: adv.sourceDim,
    targetDim: adv.targetDim,
    advDim: adv.advDim,
    rng: new Rng(0, 'init'),
    reverseGradient,
  });
  const shapes = [[adv.advDim, adv.sourceDim], [adv.advDim], [adv.targetDim, adv.advDim], [adv.targetDim]];
  loss.loadStateDict(new Map(NAMES.map((n, i) => [`adversarial.Class-Shared.${n}`, tf.tensor(adv.weights[n], shapes[i])])));
  return loss;
}

/** Value and gradients w.r.t. target, source and R's variables. */
function gradients(loss: AdversarialLoss, target: tf.Tensor2D, source: tf.Tensor2D) {
  const [gT, gS] = tf.grads((t: tf.Tensor, s: tf.Tensor) => loss.compute(t as tf.Tensor2D, s as tf.Tensor2D))([target, source]);
  const { value, grads } = tf.variableGrads(() => loss.compute(target, source), loss.variables);
  const out = {
    value: value.dataSync()[0],
    target: gT.dataSync(),
    source: gS.dataSync(),
    weights: loss.variables.map((v) => grads[v.name].dataSync()),
  };
  tf.dispose([gT, gS, value, ...Object.values(grads)]);
  return out;
}

test('adversarial loss matches the PyTorch fixture: value, reversed embedding gradients, projection gradients', () => {
  const loss = fixtureLoss();
  const target = tf.tensor2d(fx.embeddings, [B, adv.targetDim]);
  const source = tf.tensor2d(adv.source, [B, adv.sourceDim]);
  const g = gradients(loss, target, source);
  assert.ok(Math.abs(g.value - adv.loss) < 1e-5, `${g.value} vs ${adv.loss}`);
  assert.ok(maxAbsDiff(g.target, adv.gradTarget) < 1e-5);
  assert.ok(maxAbsDiff(g.source, adv.gradSource) < 1e-5);
  NAMES.forEach((n, i) => assert.ok(maxAbsDiff(g.weights[i], adv.gradWeights[n]) < 1e-5, n));
  tf.dispose([target, source]);
  loss.dispose();
});

test('gradient reversal: embedding gradients are exactly negated, projection gradients exactly unchanged', () => {
  const withGrl = fixtureLoss(true);
  const without = fixtureLoss(false);
  const target = tf.tensor2d(fx.embeddings, [B, adv.targetDim]);
  const source = tf.tensor2d(adv.source, [B, adv.sourceDim]);
  const a = gradients(withGrl, target, source);
  const b = gradients(without, target, source);
  assert.equal(a.value, b.value);
  assert.deepEqual(
    Array.from(a.target),
    Array.from(b.target, (v) => -v),
  );
  assert.deepEqual(
    Array.from(a.source),
    Array.from(b.source, (v) => -v),
  );
  assert.ok(a.target.some((v) => v !== 0) && a.source.some((v) => v !== 0));
  a.weights.forEach((w, i) => assert.deepEqual(w, b.weights[i]));
  // The layer alone: identity forward, gradient of sum(x ⊙ c) is −c.
  const x = tf.tensor1d([1, -2, 3]);
  const c = tf.tensor1d([0.5, 2, -1]);
  const y = gradientReversal(x);
  assert.deepEqual(Array.from(y.dataSync()), [1, -2, 3]);
  const gx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gradientReversal(v), c)))(x);
  assert.deepEqual(Array.from(gx.dataSync()), [-0.5, -2, 1]);
  tf.dispose([target, source, x, c, y, gx]);
  withGrl.dispose();
  without.dispose();
});

test('finite differences: projection weights match +FD, raw embeddings match −FD (reversed)', () => {
  const loss = fixtureLoss();
  const raw = (v: number[]) => Float32Array.from(v, (x, i) => x * (1 + 0.1 * (i % 3)));
  const rawT0 = raw(fx.embeddings);
  const rawS0 = raw(adv.source);
  const f = (t: tf.Tensor2D, s: tf.Tensor2D) => loss.compute(l2Normalize(t), l2Normalize(s));
  const tT = tf.tensor2d(rawT0, [B, adv.targetDim]);
  const tS = tf.tensor2d(rawS0, [B, adv.sourceDim]);
  const [gT, gS] = tf.grads((t: tf.Tensor, s: tf.Tensor) => f(t as tf.Tensor2D, s as tf.Tensor2D))([tT, tS]);
  const h = 3e-3;
  const fdT = numericGradient((x) => scalarOf(() => f(tf.tensor2d(x, [B, adv.targetDim]), tS)), rawT0, h);
  const fdS = numericGradient((x) => scalarOf(() => f(tT, tf.tensor2d(x, [B, adv.sourceDim]))), rawS0, h);
  assert.ok(
    relativeError(
      gT.dataSync(),
      fdT.map((v) => -v),
    ) < 1e-3,
    `target ${relativeError(
      gT.dataSync(),
      fdT.map((v) => -v),
    )}`,
  );
  assert.ok(
    relativeError(
      gS.dataSync(),
      fdS.map((v) => -v),
    ) < 1e-3,
    `source ${relativeError(
      gS.dataSync(),
      fdS.map((v) => -v),
    )}`,
  );

  const { grads } = tf.variableGrads(() => f(tT, tS), loss.variables);
  for (const v of loss.variables) {
    const fd = numericGradient(
      (x) => {
        v.assign(tf.tensor(x, v.shape));
        return scalarOf(() => f(tT, tS));
      },
      v.dataSync().slice(),
      h,
    );
    assert.ok(relativeError(grads[v.name].dataSync(), fd) < 1e-3, `${v.name}: ${relativeError(grads[v.name].dataSync(), fd)}`);
  }
  tf.dispose([tT, tS, gT, gS, ...Object.values(grads)]);
  loss.dispose();
});

test('projection init: PyTorch-default uniform ±1/√fan_in, drawn from the Rng in state-dict order', () => {
  const before = tf.memory().numTensors;
  const loss = new AdversarialLoss({ direction: 'Class-Shared', sourceDim: 64, targetDim: 32, advDim: 48, rng: new Rng(3, 'init') });
  const r = new Rng(3, 'init');
  const sd = loss.stateDict();
  assert.deepEqual(
    [...sd.keys()],
    NAMES.map((n) => `adversarial.Class-Shared.${n}`),
  );
  assert.deepEqual(sd.get('adversarial.Class-Shared.0.weight')!.shape, [48, 64]);
  assert.deepEqual(sd.get('adversarial.Class-Shared.2.weight')!.shape, [32, 48]);
  for (const [name, fanIn] of [
    ['0.weight', 64],
    ['0.bias', 64],
    ['2.weight', 48],
    ['2.bias', 48],
  ] as const) {
    const values = sd.get(`adversarial.Class-Shared.${name}`)!.dataSync();
    const expected = Float32Array.from(values, () => r.uniform(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
    assert.deepEqual(values, expected, name);
    const max = Math.max(...Array.from(values, Math.abs));
    assert.ok(max <= 1 / Math.sqrt(fanIn) && max > 0.9 / Math.sqrt(fanIn), `${name} spans ±1/√${fanIn}`);
  }
  loss.dispose();
  assert.equal(tf.memory().numTensors, before, 'building and disposing leaves no tensor behind');
});

test('magnitude: random unit vectors in 128-d give L_adv ≈ −1/128², never below the floor −1/D', () => {
  const rng = new Rng(8, 'test');
  const rand = (rows: number, dim: number) =>
    l2Normalize(
      tf.tensor2d(
        Float32Array.from({ length: rows * dim }, () => rng.normal()),
        [rows, dim],
      ),
    );
  const loss = new AdversarialLoss({ direction: 'Class-Shared', sourceDim: 128, targetDim: 128, rng: new Rng(8, 'init') });
  const c = rand(64, 128);
  const s = rand(64, 128);
  const value = scalarOf(() => loss.compute(c, s));
  assert.ok(value < 0 && Math.abs(value / -(1 / 128 ** 2) - 1) < 0.3, `L_adv ${value}`);
  // Identical embeddings (and identical target/source) stay finite and above −1/D.
  const same = tf.tensor2d(Array.from({ length: 4 }, () => new Array(128).fill(0.1)));
  const v2 = scalarOf(() => loss.compute(same, same));
  assert.ok(Number.isFinite(v2) && v2 >= -1 / 128);
  tf.dispose([c, s, same]);
  loss.dispose();
});

test('factory: one loss per direction with its weight; Shared-Class swaps the dims; adversarialTotal = Σ w·L', () => {
  const losses = buildAdversarialLosses({
    directions: ['Class-Shared', 'Shared-Class'],
    weights: [2500, 10],
    embedDims: { Class: 8, Shared: 5 },
    advDim: 7,
    rng: new Rng(1, 'init'),
  });
  assert.deepEqual(
    losses.map((l) => [l.direction, l.targetTask, l.sourceTask, l.weight]),
    [
      ['Class-Shared', 'Class', 'Shared', 2500],
      ['Shared-Class', 'Shared', 'Class', 10],
    ],
  );
  assert.deepEqual(losses[1].stateDict().get('adversarial.Shared-Class.0.weight')!.shape, [7, 8]);
  assert.deepEqual(losses[1].stateDict().get('adversarial.Shared-Class.2.weight')!.shape, [5, 7]);
  const embeds = { Class: tf.tensor2d(fx.embeddings, [B, 8]), Shared: tf.tensor2d(adv.source, [B, 5]) };
  const l0 = scalarOf(() => losses[0].compute(embeds.Class, embeds.Shared));
  const l1 = scalarOf(() => losses[1].compute(embeds.Shared, embeds.Class));
  const total = scalarOf(() => adversarialTotal(losses, embeds));
  assert.ok(Math.abs(total - (2500 * l0 + 10 * l1)) < 1e-4 * Math.abs(total));
  assert.equal(
    scalarOf(() => adversarialTotal([], embeds)),
    0,
  );
  tf.dispose([embeds.Class, embeds.Shared]);
  losses.forEach((l) => l.dispose());
});

test('factory and loading reject bad input with UserErrors naming the flag or file', () => {
  const base = { embedDims: { Class: 8, Shared: 5 }, advDim: 7, rng: new Rng(1, 'init') };
  assert.throws(
    () => buildAdversarialLosses({ ...base, directions: ['Class-Shared'], weights: [1, 2] }),
    (e: unknown) => e instanceof UserError && /--adv_weights: expected one weight per --adversarial direction \(1\), got 2/.test(e.message),
  );
  assert.throws(
    () => buildAdversarialLosses({ ...base, directions: ['Class-Class'], weights: [1] }),
    (e: unknown) =>
      e instanceof UserError && /--adversarial: unknown direction 'Class-Class', expected one of: Class-Shared, Shared-Class/.test(e.message),
  );
  assert.throws(() => buildAdversarialLosses({ ...base, directions: ['Class-Shared', 'Class-Shared'], weights: [1, 1] }), UserError);
  const loss = fixtureLoss();
  const sd = loss.stateDict();
  const partial = new Map([...sd].filter(([k]) => !k.endsWith('2.bias')));
  assert.throws(
    () => loss.loadStateDict(partial, 'run/checkpoint_Class/adversarial.safetensors'),
    (e: unknown) =>
      e instanceof UserError && /run\/checkpoint_Class\/adversarial\.safetensors.*missing adversarial\.Class-Shared\.2\.bias/.test(e.message),
  );
  loss.dispose();
});

test('adversarial loss keeps tfjs memory flat across value-and-gradient steps', () => {
  const loss = fixtureLoss();
  const target = tf.tensor2d(fx.embeddings, [B, adv.targetDim]);
  const source = tf.tensor2d(adv.source, [B, adv.sourceDim]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => adversarialTotal([loss], { Class: target, Shared: source }), loss.variables);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([target, source]);
  loss.dispose();
});
