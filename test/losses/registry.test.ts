import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LOSSES as LOSS_FLAG_VALUES, SAMPLINGS } from '../../src/cli/flags.ts';
import { UserError } from '../../src/errors.ts';
import { buildLoss, buildMiner, LOSSES, MINERS } from '../../src/losses/registry.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { loadFixture } from './helpers.ts';

await useTestBackend();
const fx = loadFixture();
const options = (sampling: string) => ({
  numClasses: 3, embedDim: fx.dim, margin: 0.2, beta: 1.2, sampling, marginCount: 'terms' as const, rng: new Rng(1, 'miner'),
});

test('the registries hold exactly the values the flags accept', () => {
  assert.deepEqual(Object.keys(LOSSES).sort(), [...LOSS_FLAG_VALUES].sort());
  assert.deepEqual(Object.keys(MINERS).sort(), [...SAMPLINGS].sort());
});

test('every loss × miner key builds, names itself, and gives a finite loss on a small batch', () => {
  const expectedLr = { marginloss: 'beta', triplet: null, proxynca: 'proxy' } as const;
  const expectedState = { marginloss: ['beta'], triplet: [], proxynca: ['proxies'] };
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  for (const key of Object.keys(LOSSES) as (keyof typeof expectedLr)[]) {
    for (const sampling of Object.keys(MINERS)) {
      const before = tf.memory().numTensors;
      const loss = buildLoss(key, options(sampling));
      assert.equal(loss.key, key);
      assert.equal(loss.lrKind, expectedLr[key]);
      assert.deepEqual([...loss.stateDict().keys()], expectedState[key]);
      const out = loss.compute(emb, Int32Array.from(fx.labels));
      assert.ok(Number.isFinite(out.total.dataSync()[0]), `${key}/${sampling}`);
      if (key !== 'proxynca') assert.equal(out.parts.triplets, 6, `${key}/${sampling} mined one triplet per anchor`);
      tf.dispose([out.total, ...loss.variables]);
      assert.equal(tf.memory().numTensors, before, `${key}/${sampling}: building and disposing leaves no tensor behind`);
    }
  }
  emb.dispose();
});

test('every miner key builds a miner with that key', () => {
  for (const key of Object.keys(MINERS)) assert.equal(buildMiner(key, { margin: 0.2, rng: new Rng(0) }).key, key);
});

test('unknown keys are UserErrors naming the flag and the valid values', () => {
  assert.throws(() => buildLoss('npair', options('distance')),
    (e: unknown) => e instanceof UserError && e.message === "--losses: unknown value 'npair', expected one of: marginloss, triplet, proxynca");
  assert.throws(() => buildMiner('softhard', { margin: 0.2, rng: new Rng(0) }),
    (e: unknown) => e instanceof UserError && e.message === "--sampling: unknown value 'softhard', expected one of: distance, semihard, random");
  assert.throws(() => buildLoss('toString', options('distance')), UserError);
});

test('proxynca initialises its proxies from initRng when one is given', () => {
  const a = buildLoss('proxynca', { ...options('distance'), initRng: new Rng(7, 'init') });
  const b = buildLoss('proxynca', { ...options('distance'), rng: new Rng(7, 'init') });
  assert.deepEqual(a.variables[0].dataSync(), b.variables[0].dataSync());
  tf.dispose([...a.variables, ...b.variables]);
});
