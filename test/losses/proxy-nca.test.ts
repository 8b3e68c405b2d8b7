import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { l2Normalize } from '../../src/models/layers.ts';
import { ProxyNcaLoss } from '../../src/losses/proxy-nca.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff, useTestBackend } from '../helpers/tf.ts';
import { grad2d, loadFixture, numericGradient, relativeError, scalarOf } from '../helpers/losses.ts';

await useTestBackend();
const fx = loadFixture();
const labels = Int32Array.from(fx.labels);

function fixtureLoss(): ProxyNcaLoss {
  const loss = new ProxyNcaLoss({ numClasses: 3, embedDim: fx.dim, rng: new Rng(0, 'init') });
  loss.loadStateDict(new Map([['proxies', tf.tensor2d(fx.proxyNca.proxies, [3, fx.dim])]]));
  return loss;
}

test('ProxyNCA matches the PyTorch fixture: value and gradients w.r.t. embeddings and proxies', () => {
  const loss = fixtureLoss();
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const { value, grads } = tf.variableGrads(() => loss.compute(emb, labels).total, [loss.proxies]);
  assert.ok(Math.abs(value.dataSync()[0] - fx.proxyNca.loss) < 1e-5, `${value.dataSync()[0]} vs ${fx.proxyNca.loss}`);
  assert.ok(maxAbsDiff(grads[loss.proxies.name].dataSync(), fx.proxyNca.gradProxies) < 1e-5);
  const g = grad2d((e: tf.Tensor2D) => loss.compute(e, labels).total)(emb);
  assert.ok(maxAbsDiff(g.dataSync(), fx.proxyNca.gradEmb) < 1e-5);
  assert.equal(loss.lrKind, 'proxy');
  tf.dispose([emb, value, grads[loss.proxies.name], g, loss.proxies]);
});

test('ProxyNCA by hand: 2 classes, sample on its own proxy → d_pos = 0, other proxy orthogonal → d = 18, L = −18', () => {
  // ‖3x̂ − 3p̂‖² = 9·‖x̂ − p̂‖² = 9·2 = 18 for orthogonal unit vectors; the denominator holds only that proxy.
  const loss = new ProxyNcaLoss({ numClasses: 2, embedDim: 2, rng: new Rng(0, 'init') });
  loss.loadStateDict(
    new Map([
      [
        'proxies',
        tf.tensor2d([
          [5, 0],
          [0, 0.1],
        ]),
      ],
    ]),
  );
  const emb = tf.tensor2d([[1, 0]]);
  assert.ok(Math.abs(scalarOf(() => loss.compute(emb, Int32Array.from([0])).total) - -18) < 1e-5);
  tf.dispose([emb, loss.proxies]);
});

test('ProxyNCA gradient matches finite differences w.r.t. raw embeddings and proxies', () => {
  const loss = fixtureLoss();
  const raw0 = Float32Array.from(fx.embeddings, (v, i) => v * (1 + 0.1 * (i % 3)));
  const f = (raw: tf.Tensor2D) => loss.compute(l2Normalize(raw), labels).total;
  const rawT = tf.tensor2d(raw0, [6, fx.dim]);
  const g = grad2d(f)(rawT);
  const fd = numericGradient((x) => scalarOf(() => f(tf.tensor2d(x, [6, fx.dim]))), raw0, 3e-3);
  assert.ok(relativeError(g.dataSync(), fd) < 1e-3, `embeddings: ${relativeError(g.dataSync(), fd)}`);

  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const { grads } = tf.variableGrads(() => loss.compute(emb, labels).total, [loss.proxies]);
  // Proxies are only ~0.35 long (N(0,1)/8 × √8), so the step stays small (1e-3).
  const fdP = numericGradient(
    (p) => {
      loss.proxies.assign(tf.tensor2d(p, [3, fx.dim]));
      return scalarOf(() => loss.compute(emb, labels).total);
    },
    fx.proxyNca.proxies,
    1e-3,
  );
  assert.ok(relativeError(grads[loss.proxies.name].dataSync(), fdP) < 1e-3, `proxies: ${relativeError(grads[loss.proxies.name].dataSync(), fdP)}`);
  tf.dispose([rawT, g, emb, grads[loss.proxies.name], loss.proxies]);
});

test('ProxyNCA proxies start as N(0,1)/8 drawn from the given Rng', () => {
  const loss = new ProxyNcaLoss({ numClasses: 40, embedDim: 50, rng: new Rng(9, 'init') });
  const r = new Rng(9, 'init');
  const expected = Float32Array.from({ length: 2000 }, () => r.normal() / 8);
  assert.deepEqual(loss.proxies.dataSync(), expected);
  const v = Array.from(expected);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  assert.ok(Math.abs(mean) < 0.01 && Math.abs(sd - 0.125) < 0.01, `mean ${mean}, sd ${sd}`);
  loss.proxies.dispose();
});

test('ProxyNCA: single-class batch and identical embeddings are finite; fewer than 2 classes is a UserError', () => {
  const loss = fixtureLoss();
  const emb = tf.tensor2d(Array.from({ length: 6 }, () => fx.embeddings.slice(0, fx.dim)));
  for (const y of [new Int32Array(6), labels]) {
    const g = grad2d((x: tf.Tensor2D) => loss.compute(x, y).total)(emb);
    assert.ok(Number.isFinite(scalarOf(() => loss.compute(emb, y).total)));
    assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
    g.dispose();
  }
  assert.throws(
    () => new ProxyNcaLoss({ numClasses: 1, embedDim: 4, rng: new Rng(0) }),
    (e: unknown) => e instanceof UserError && /proxynca.*at least 2/.test(e.message),
  );
  tf.dispose([emb, loss.proxies]);
});

test('ProxyNCA keeps tfjs memory flat', () => {
  const loss = fixtureLoss();
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => loss.compute(emb, labels).total, [loss.proxies]);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([emb, loss.proxies]);
});
