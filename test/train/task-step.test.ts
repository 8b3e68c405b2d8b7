import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILE_ENV, profileFor } from '../../src/backend/profile.ts';
import { buildLoss } from '../../src/losses/registry.ts';
import { buildAdversarialLosses } from '../../src/mic/adversarial.ts';
import { buildModel } from '../../src/models/build-model.ts';
import { rngFor } from '../../src/rng.ts';
import { GroupedAdam } from '../../src/train/optimizer.ts';
import { autoMicroBatch, taskStep } from '../../src/train/task-step.ts';
import { useTestBackend } from '../helpers/tf.ts';

test('a training step (ResNet50 topology, margin loss + adversarial term) leaks no tensors and moves the weights', async () => {
  const tf = await useTestBackend('wasm');
  const model = await buildModel({
    arch: 'resnet50',
    embedSizes: [16, 16],
    notPretrained: true,
    pretrainedFormat: 'torchvision',
    rng: rngFor(1, 'init'),
    width: 16,
  });
  const loss = await buildLoss('marginloss', {
    numClasses: 4,
    embedDim: 16,
    margin: 0.2,
    beta: 1.2,
    sampling: 'distance',
    marginCount: 'terms',
    rng: rngFor(1, 'miner'),
  });
  const adversarial = buildAdversarialLosses({
    directions: ['Class-Shared'],
    weights: [250],
    embedDims: { Class: 16, Shared: 16 },
    advDim: 32,
    rng: rngFor(1, 'init.loss'),
  });
  const optimizer = new GroupedAdam([
    { name: 'network', vars: model.trainableVariables(), lr: 1e-3, weightDecay: 4e-4 },
    { name: 'beta.Class', vars: loss.variables, lr: 5e-4, weightDecay: 0 },
    { name: 'projection', vars: adversarial[0].variables, lr: 1e-3, weightDecay: 1e-6 },
  ]);
  const n = 8;
  const size = 32;
  const rng = rngFor(1, 'data');
  const images = Float32Array.from({ length: n * size * size * 3 }, () => rng.normal());
  const labels = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]);
  const head = model.trainableVariables().at(-2)!;
  const before = head.dataSync().slice();
  const step = (microBs: number) => taskStep({ model, task: 0, loss, adversarial, optimizer, images, n, size, labels, microBs });
  step(n); // first step creates the Adam moments
  const counts: number[] = [];
  for (const microBs of [n, 3, n]) {
    const r = step(microBs);
    assert.ok(Number.isFinite(r.loss));
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(counts, [counts[0], counts[0], counts[0]], `tensor count per step: ${counts.join(', ')}`);
  const after = head.dataSync();
  assert.ok(
    after.some((v, i) => v !== before[i]),
    'the step updated the weights',
  );
  optimizer.dispose();
  model.dispose();
});

test('automatic micro-batch size: whole batches on the native profile, bounded on wasm, explicit value wins', () => {
  const native = profileFor('tensorflow', {});
  const wasm = profileFor('wasm', {});
  assert.equal(autoMicroBatch(native, 224, 112, 0), 112);
  // The test switch gives the cpu backend the native profile, and with it whole batches.
  assert.equal(autoMicroBatch(profileFor('cpu', { [PROFILE_ENV]: 'native' }), 224, 112, 0), 112);
  const wasm224 = autoMicroBatch(wasm, 224, 112, 0);
  assert.ok(wasm224 >= 1 && wasm224 <= 8, `224 px on wasm: ${wasm224}`);
  assert.equal(autoMicroBatch(profileFor('cpu', {}), 224, 112, 0), wasm224);
  assert.ok(autoMicroBatch(wasm, 32, 32, 0) === 32);
  assert.equal(autoMicroBatch(wasm, 224, 112, 10), 10);
  assert.equal(autoMicroBatch(native, 224, 112, 10), 10);
  assert.equal(autoMicroBatch(wasm, 224, 8, 10), 8);
});
