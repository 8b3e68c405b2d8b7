import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { l2Normalize } from '../../src/models/layers.ts';
import { lossWarning } from '../../src/losses/base-loss.ts';
import { MarginLoss } from '../../src/losses/margin-loss.ts';
import { DistanceWeightedMiner } from '../../src/losses/miners/distance-weighted.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff, useTestBackend } from '../helpers/tf.ts';
import { FixedMiner, grad2d, loadFixture, numericGradient, RecordingMiner, relativeError, scalarOf } from '../helpers/losses.ts';

await useTestBackend();
const fx = loadFixture();
const labels = Int32Array.from(fx.labels);

function fixtureLoss(marginCount: 'terms' | 'triplets'): MarginLoss {
  const loss = new MarginLoss({ numClasses: 3, miner: new FixedMiner(fx.triplets), margin: fx.margin, marginCount });
  loss.beta.assign(tf.tensor1d(fx.beta));
  return loss;
}

for (const mode of ['terms', 'triplets'] as const) {
  test(`margin loss (${mode}) matches the PyTorch fixture: value, counts, gradients w.r.t. embeddings and β`, () => {
    const loss = fixtureLoss(mode);
    const ref = fx.marginLoss[mode];
    const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
    const { value, grads } = tf.variableGrads(() => loss.compute(emb, labels).total, [loss.beta]);
    const gEmb = grad2d((e: tf.Tensor2D) => loss.compute(e, labels).total)(emb);
    assert.ok(Math.abs(value.dataSync()[0] - ref.loss) < 1e-5, `loss ${value.dataSync()[0]} vs ${ref.loss}`);
    assert.ok(maxAbsDiff(grads[loss.beta.name].dataSync(), ref.gradBeta) < 1e-5);
    assert.ok(maxAbsDiff(gEmb.dataSync(), ref.gradEmb) < 1e-5);
    const { total, parts } = loss.compute(emb, labels);
    assert.equal(parts.normalizer, ref.count);
    assert.equal(parts.activePos, ref.activePos);
    assert.equal(parts.activeNeg, ref.activeNeg);
    tf.dispose([value, grads[loss.beta.name], gEmb, emb, total, ...loss.variables]);
  });
}

test('margin loss on one hand-made triplet: d_ap = 1.2, d_an = 1.3, β = 1.2, α = 0.2', () => {
  // pos = 1.2 − 1.2 + 0.2 = 0.2, neg = 1.2 − 1.3 + 0.2 = 0.1: 'terms' divides by 2, 'triplets' by 1.
  const at = (d: number) => [Math.cos(2 * Math.asin(d / 2)), Math.sin(2 * Math.asin(d / 2))];
  const emb = tf.tensor2d([[1, 0], at(1.2), at(-1.3)]);
  const miner = new FixedMiner({ anchors: [0], positives: [1], negatives: [2] });
  const y = Int32Array.from([0, 0, 1]);
  for (const [marginCount, expected] of [
    ['terms', 0.15],
    ['triplets', 0.3],
  ] as const) {
    const loss = new MarginLoss({ numClasses: 2, miner, marginCount });
    assert.ok(Math.abs(scalarOf(() => loss.compute(emb, y).total) - expected) < 1e-5, marginCount);
    loss.beta.dispose();
  }
  // Nothing active (d_ap = 0.3 < β − α, d_an = 2 > β + α): exactly 0 with normaliser 0, gradient 0 not NaN.
  const easy = tf.tensor2d([[1, 0], at(0.3), [-1, 0]]);
  const loss = new MarginLoss({ numClasses: 2, miner });
  const out = loss.compute(easy, y);
  assert.equal(out.total.dataSync()[0], 0);
  assert.equal(out.parts.normalizer, 0);
  const g = grad2d((e: tf.Tensor2D) => loss.compute(e, y).total)(easy);
  assert.deepEqual(Array.from(g.dataSync()), new Array(6).fill(0));
  tf.dispose([emb, easy, out.total, g, loss.beta]);
});

test('margin loss gradient matches finite differences w.r.t. raw (pre-normalisation) embeddings and β', () => {
  const loss = fixtureLoss('terms');
  const raw0 = Float32Array.from(fx.embeddings, (v, i) => v * (1 + 0.1 * (i % 3)));
  const f = (raw: tf.Tensor2D) => loss.compute(l2Normalize(raw), labels).total;
  const rawT = tf.tensor2d(raw0, [6, fx.dim]);
  const gRaw = grad2d(f)(rawT);
  const fdRaw = numericGradient((x) => scalarOf(() => f(tf.tensor2d(x, [6, fx.dim]))), raw0, 3e-3);
  assert.ok(relativeError(gRaw.dataSync(), fdRaw) < 1e-3, `raw embeddings: ${relativeError(gRaw.dataSync(), fdRaw)}`);

  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const { grads } = tf.variableGrads(() => loss.compute(emb, labels).total, [loss.beta]);
  const fdBeta = numericGradient(
    (b) => {
      loss.beta.assign(tf.tensor1d(b));
      return scalarOf(() => loss.compute(emb, labels).total);
    },
    fx.beta,
    1e-3,
  );
  assert.ok(relativeError(grads[loss.beta.name].dataSync(), fdBeta) < 1e-3);
  tf.dispose([rawT, gRaw, emb, grads[loss.beta.name], loss.beta]);
});

test('margin loss with the distance-weighted miner equals a plain loop over the triplets it mined', () => {
  const rng = new Rng(7, 'miner');
  const miner = new RecordingMiner(new DistanceWeightedMiner(rng));
  const loss = new MarginLoss({ numClasses: 3, miner });
  const e = fx.embeddings;
  const emb = tf.tensor2d(e, [6, fx.dim]);
  for (let round = 0; round < 3; round++) {
    const got = scalarOf(() => loss.compute(emb, labels).total);
    const t = miner.last!;
    assert.equal(t.anchors.length, 6);
    const dist = (i: number, j: number) => {
      let s = 0;
      for (let k = 0; k < fx.dim; k++) s += (e[i * fx.dim + k] - e[j * fx.dim + k]) ** 2;
      return Math.sqrt(s + 1e-8);
    };
    let sum = 0;
    let count = 0;
    for (let k = 0; k < t.anchors.length; k++) {
      const pos = Math.max(0, dist(t.anchors[k], t.positives[k]) - 1.2 + 0.2);
      const neg = Math.max(0, 1.2 - dist(t.anchors[k], t.negatives[k]) + 0.2);
      sum += pos + neg;
      count += (pos > 0 ? 1 : 0) + (neg > 0 ? 1 : 0);
    }
    assert.ok(Math.abs(got - (count > 0 ? sum / count : 0)) < 1e-5);
  }
  tf.dispose([emb, loss.beta]);
});

test('single-class batch: finite zero loss, every anchor counted as skipped, gradients finite', () => {
  const loss = new MarginLoss({ numClasses: 3, miner: new DistanceWeightedMiner(new Rng(1, 'miner')) });
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const one = new Int32Array(6).fill(2);
  const out = loss.compute(emb, one);
  assert.equal(out.total.dataSync()[0], 0);
  assert.equal(out.parts.skippedAnchors, 6);
  assert.equal(out.parts.noNegative, 6);
  assert.equal(out.parts.triplets, 0);
  assert.equal(lossWarning(out.parts), '6 of 6 anchors skipped (no positive: 0, no negative: 6)');
  const { grads } = tf.variableGrads(() => loss.compute(emb, one).total, [loss.beta]);
  assert.ok(Array.from(grads[loss.beta.name].dataSync()).every((v) => v === 0));
  tf.dispose([emb, out.total, grads[loss.beta.name], loss.beta]);
});

test('identical embeddings: finite loss and gradient, collapse counted', () => {
  const loss = new MarginLoss({ numClasses: 3, miner: new DistanceWeightedMiner(new Rng(2, 'miner')) });
  const row = fx.embeddings.slice(0, fx.dim);
  const emb = tf.tensor2d(Array.from({ length: 6 }, () => row));
  const out = loss.compute(emb, labels);
  // d_ap = d_an = 1e-4: pos inactive, neg = 1.2 − 1e-4 + 0.2 active for all 6 → 6·1.3999 / 6.
  assert.ok(Math.abs(out.total.dataSync()[0] - 1.3999) < 1e-5);
  assert.equal(out.parts.collapsedAnchors, 6);
  assert.match(lossWarning(out.parts)!, /^6 anchors have every negative at distance ≤ 0\.01 \(collapsed embeddings\)$/);
  const g = grad2d((e: tf.Tensor2D) => loss.compute(e, labels).total)(emb);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  tf.dispose([emb, out.total, g, loss.beta]);
});

test('margin loss keeps tfjs memory flat across compute and gradient calls', () => {
  const loss = new MarginLoss({ numClasses: 3, miner: new DistanceWeightedMiner(new Rng(3, 'miner')) });
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => loss.compute(emb, labels).total, [loss.beta]);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([emb, loss.beta]);
});

test('β state dict round-trips and loads strictly', () => {
  const loss = new MarginLoss({ numClasses: 3, miner: new FixedMiner(fx.triplets), beta: 0.7 });
  assert.deepEqual([...loss.stateDict().keys()], ['beta']);
  assert.ok(maxAbsDiff(loss.stateDict().get('beta')!.dataSync(), [0.7, 0.7, 0.7]) < 1e-7);
  const b = tf.tensor1d([1, 2, 3]);
  loss.loadStateDict(new Map([['beta', b]]));
  assert.deepEqual(Array.from(loss.beta.dataSync()), [1, 2, 3]);
  const wrong = tf.tensor1d([1, 2]);
  assert.throws(
    () => loss.loadStateDict(new Map([['beta', wrong]]), 'ckpt/loss.safetensors'),
    (e: unknown) => e instanceof UserError && /ckpt\/loss\.safetensors.*beta has shape \[2\], expected \[3\]/.test(e.message),
  );
  assert.throws(
    () =>
      loss.loadStateDict(
        new Map([
          ['beta', b],
          ['gamma', b],
        ]),
      ),
    (e: unknown) => e instanceof UserError && /unexpected gamma/.test(e.message),
  );
  assert.throws(
    () => loss.loadStateDict(new Map()),
    (e: unknown) => e instanceof UserError && /missing beta/.test(e.message),
  );
  tf.dispose([b, wrong, loss.beta]);
});
