import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { buildLoss, buildMiner, lossMines, LOSSES, MINERS } from '../../src/losses/registry.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { loadFixture } from '../helpers/losses.ts';

await useTestBackend();
const fx = loadFixture();
const options = (sampling: string) => ({
  numClasses: 3,
  embedDim: fx.dim,
  margin: 0.2,
  beta: 1.2,
  sampling,
  marginCount: 'terms' as const,
  rng: new Rng(1, 'miner'),
});

/** The paper's losses: learning-rate group and state names (a new loss states its own in its test). */
const KNOWN: Record<string, { lrKind: 'beta' | 'proxy' | null; state: string[] }> = {
  marginloss: { lrKind: 'beta', state: ['beta'] },
  triplet: { lrKind: null, state: [] },
  proxynca: { lrKind: 'proxy', state: ['proxies'] },
};

test('every loss × miner key builds, names itself, and gives a finite loss on a small batch; mining losses (only) mine', async () => {
  for (const key of Object.keys(KNOWN)) assert.ok(Object.hasOwn(LOSSES, key), key);
  const emb = tf.tensor2d(fx.embeddings, [6, fx.dim]);
  for (const key of Object.keys(LOSSES)) {
    for (const sampling of Object.keys(MINERS)) {
      const before = tf.memory().numTensors;
      const loss = await buildLoss(key, options(sampling));
      assert.equal(loss.key, key);
      // Variables need a learning rate; a loss without variables takes none.
      assert.equal(loss.lrKind === null, loss.variables.length === 0, `${key}: lrKind ${loss.lrKind} with ${loss.variables.length} variables`);
      if (Object.hasOwn(KNOWN, key)) {
        assert.equal(loss.lrKind, KNOWN[key].lrKind);
        assert.deepEqual([...loss.stateDict().keys()], KNOWN[key].state);
      }
      const out = loss.compute(emb, Int32Array.from(fx.labels));
      assert.ok(Number.isFinite(out.total.dataSync()[0]), `${key}/${sampling}`);
      if (lossMines(key)) assert.equal(out.parts.triplets, 6, `${key}/${sampling} mined one triplet per anchor`);
      else assert.equal(out.parts.triplets, undefined, `${key} mines nothing`);
      tf.dispose([out.total, ...loss.variables]);
      assert.equal(tf.memory().numTensors, before, `${key}/${sampling}: building and disposing leaves no tensor behind`);
    }
  }
  emb.dispose();
});

test('every miner key builds a miner with that key', async () => {
  for (const key of Object.keys(MINERS)) assert.equal((await buildMiner(key, { margin: 0.2, rng: new Rng(0) })).key, key);
});

test('unknown keys are UserErrors naming the flag and the valid values', async () => {
  // The paper's values first, in flag order; losses or miners added later follow them.
  await assert.rejects(
    buildLoss('npair', options('distance')),
    (e: unknown) => e instanceof UserError && e.message.startsWith("--losses: unknown value 'npair', expected one of: marginloss, triplet, proxynca"),
  );
  await assert.rejects(
    buildMiner('softhard', { margin: 0.2, rng: new Rng(0) }),
    (e: unknown) =>
      e instanceof UserError && e.message.startsWith("--sampling: unknown value 'softhard', expected one of: distance, semihard, random"),
  );
  await assert.rejects(buildLoss('marginloss', options('softhard')), /--sampling: unknown value 'softhard'/);
  await assert.rejects(buildLoss('toString', options('distance')), UserError);
  assert.throws(() => lossMines('toString'), UserError);
});

test('proxynca initialises its proxies from initRng when one is given', async () => {
  const a = await buildLoss('proxynca', { ...options('distance'), initRng: new Rng(7, 'init') });
  const b = await buildLoss('proxynca', { ...options('distance'), rng: new Rng(7, 'init') });
  assert.deepEqual(a.variables[0].dataSync(), b.variables[0].dataSync());
  tf.dispose([...a.variables, ...b.variables]);
});
