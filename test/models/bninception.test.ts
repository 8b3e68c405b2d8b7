import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { BNINCEPTION_INPUT, BNInception } from '../../src/models/bninception.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { parityErrors } from '../helpers/model-parity.ts';

await useTestBackend();
const TOL = 1e-4;

test(`bninception (width ÷8) matches the PyTorch reference within ${TOL}: pooled, conv2_3x3, both heads`, () => {
  const e = parityErrors(
    'bninception-w8',
    (width, embedSizes) => new BNInception({ embedSizes, width, rng: new Rng(0, 'init'), randomBackbone: false }),
  );
  assert.ok(e.pooled <= TOL, `pooled ${e.pooled}`);
  assert.ok(e.cluster <= TOL, `conv2_3x3 ${e.cluster}`);
  e.embeds.forEach((err, i) => assert.ok(err <= TOL, `head ${i}: ${err}`));
});

test('full-width BN-Inception: 1024-d feature, pretrainedmodels parameter count without last_linear', () => {
  const m = new BNInception({ embedSizes: [512], rng: new Rng(0, 'init'), randomBackbone: false });
  assert.equal(m.featureDim, 1024);
  // 11,295,240 = the full-width PyTorch layer list of make_model_fixtures.py (pretrainedmodels' layout) with its
  // 1000-class last_linear (1024·1000 + 1000), counted by torch's parameters().
  assert.equal(m.backboneParameterCount(), 11_295_240 - 1_025_000);
  assert.equal(m.parameters().filter((p) => p.name.endsWith('_bn.running_var')).length, 69);
  m.dispose();
});

test('BGR 0–255 input with the Caffe mean (docs/porting.md#backbone-bninception)', () => {
  assert.deepEqual(BNINCEPTION_INPUT, { order: 'BGR', scale: 255, mean: [104, 117, 128], std: [1, 1, 1] });
});

test('sizes whose reduction blocks get odd maps are refused with a hint; multiples of 32 work', () => {
  const m = new BNInception({ embedSizes: [4], rng: new Rng(1, 'init'), randomBackbone: true, width: 16 });
  const ok = tf.zeros([1, 32, 96, 3]) as tf.Tensor4D;
  const out = m.forward(ok);
  assert.deepEqual(out.pooled.shape, [1, m.featureDim]);
  const bad = tf.zeros([1, 200, 224, 3]) as tf.Tensor4D; // 200 → 100 → 50 → 25 at block 3c
  assert.throws(
    () => m.forward(bad),
    (e: unknown) => e instanceof UserError && /200×224.*multiple of 32/.test(e.message),
  );
  tf.dispose([ok, bad, out.pooled, ...out.embeds]);
  m.dispose();
});
