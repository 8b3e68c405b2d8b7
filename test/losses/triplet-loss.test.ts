import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../../src/models/layers.ts';
import { RandomMiner } from '../../src/losses/miners/random.ts';
import { TripletLoss } from '../../src/losses/triplet-loss.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff, useTestBackend } from '../helpers/tf.ts';
import { FixedMiner, grad2d, loadFixture, numericGradient, RecordingMiner, relativeError, scalarOf } from '../helpers/losses.ts';

await useTestBackend();
const fx = loadFixture();
const labels = Int32Array.from(fx.labels);

test('triplet loss matches the PyTorch fixture (value, active count, gradient w.r.t. embeddings)', () => {
  const loss = new TripletLoss({ numClasses: 3, miner: new FixedMiner(fx.triplets), margin: fx.margin });
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const out = loss.compute(emb, labels);
  assert.ok(Math.abs(out.total.dataSync()[0] - fx.tripletLoss.loss) < 1e-5);
  assert.equal(out.parts.activeTriplets, fx.tripletLoss.active);
  assert.ok(out.parts.activeTriplets > 0 && out.parts.activeTriplets < 6, 'fixture mixes active and inactive triplets');
  const g = grad2d((e: tf.Tensor2D) => loss.compute(e, labels).total)(emb);
  assert.ok(maxAbsDiff(g.dataSync(), fx.tripletLoss.gradEmb) < 1e-5);
  assert.deepEqual(loss.variables, []);
  assert.equal(loss.lrKind, null);
  assert.equal(loss.stateDict().size, 0);
  tf.dispose([emb, out.total, g]);
});

test('triplet loss by hand: a = (1,0), p at squared distance 0.5, n at squared distance 0.6, margin 0.2 → 0.1', () => {
  // Unit vectors at squared distance s have cos θ = 1 − s/2.
  const at = (s: number) => [1 - s / 2, Math.sqrt(1 - (1 - s / 2) ** 2)];
  const emb = tf.tensor2d([[1, 0], at(0.5), at(0.6)]);
  const loss = new TripletLoss({ numClasses: 2, miner: new FixedMiner({ anchors: [0], positives: [1], negatives: [2] }) });
  assert.ok(Math.abs(scalarOf(() => loss.compute(emb, Int32Array.from([0, 0, 1])).total) - 0.1) < 1e-5);
  emb.dispose();
});

test('triplet loss gradient matches finite differences w.r.t. raw (pre-normalisation) embeddings', () => {
  const loss = new TripletLoss({ numClasses: 3, miner: new FixedMiner(fx.triplets) });
  const raw0 = Float32Array.from(fx.embeddings, (v, i) => v * (1 + 0.1 * (i % 3)));
  const f = (raw: tf.Tensor2D) => loss.compute(l2Normalize(raw), labels).total;
  const rawT = tf.tensor2d(raw0, [6, fx.dim]);
  const g = grad2d(f)(rawT);
  const fd = numericGradient((x) => scalarOf(() => f(tf.tensor2d(x, [6, fx.dim]))), raw0, 3e-3);
  assert.ok(relativeError(g.dataSync(), fd) < 1e-3, `relative error ${relativeError(g.dataSync(), fd)}`);
  tf.dispose([rawT, g]);
});

test('triplet loss with the random miner equals the mean hinge over the mined triplets', () => {
  const miner = new RecordingMiner(new RandomMiner(new Rng(11, 'miner')));
  const loss = new TripletLoss({ numClasses: 3, miner });
  const e = fx.embeddings;
  const emb = tf.tensor2d(e, [6, fx.dim]);
  const sq = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < fx.dim; k++) s += (e[i * fx.dim + k] - e[j * fx.dim + k]) ** 2;
    return s;
  };
  const got = scalarOf(() => loss.compute(emb, labels).total);
  const t = miner.last!;
  assert.equal(t.anchors.length, 6);
  let sum = 0;
  for (let k = 0; k < 6; k++) sum += Math.max(0, sq(t.anchors[k], t.positives[k]) - sq(t.anchors[k], t.negatives[k]) + 0.2);
  assert.ok(Math.abs(got - sum / 6) < 1e-5);
  emb.dispose();
});

test('triplet loss: single-class batch and identical embeddings give finite values, never NaN', () => {
  const loss = new TripletLoss({ numClasses: 3, miner: new RandomMiner(new Rng(4, 'miner')) });
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const single = loss.compute(emb, new Int32Array(6));
  assert.equal(single.total.dataSync()[0], 0);
  assert.equal(single.parts.skippedAnchors, 6);
  const g = grad2d((x: tf.Tensor2D) => loss.compute(x, new Int32Array(6)).total)(emb);
  assert.ok(Array.from(g.dataSync()).every((v) => v === 0));
  const same = tf.tensor2d(Array.from({ length: 6 }, () => fx.embeddings.slice(0, fx.dim)));
  const collapsed = loss.compute(same, labels);
  assert.ok(Math.abs(collapsed.total.dataSync()[0] - 0.2) < 1e-6); // every hinge = 0 − 0 + margin
  assert.equal(collapsed.parts.collapsedAnchors, 6);
  tf.dispose([emb, single.total, g, same, collapsed.total]);
});

test('triplet loss keeps tfjs memory flat', () => {
  const loss = new TripletLoss({ numClasses: 3, miner: new RandomMiner(new Rng(5, 'miner')) });
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const step = () => grad2d((x: tf.Tensor2D) => loss.compute(x, labels).total)(emb).dispose();
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  emb.dispose();
});
