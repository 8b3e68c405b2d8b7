import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSides, forwardBackward, loadWeights, parityParameters, relativeError, snapshotWeights } from '../../src/train/backend-parity.ts';
import { installWasmTrainingKernels } from '../../src/backend/wasm-kernels.ts';
import { buildModel } from '../../src/models/build-model.ts';
import { rngFor } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';

test('relative error: max |a − b| / max |b|', () => {
  assert.equal(relativeError(Float32Array.of(1, 2, -4), Float32Array.of(1, 2.5, -4)), 0.5 / 4);
  assert.equal(relativeError(Float32Array.of(0, 0), Float32Array.of(0, 0)), 0);
  assert.equal(relativeError(Float32Array.of(1e-9), Float32Array.of(0)), Infinity);
  assert.ok(Number.isNaN(relativeError(Float32Array.of(NaN, 1), Float32Array.of(1, 1))));
  assert.equal(relativeError(Float32Array.of(1), Float32Array.of(1, 2)), Infinity);
});

test('compared parameters: the first conv, convs across the depth and the heads', async () => {
  await useTestBackend('cpu');
  const model = await buildModel({
    arch: 'resnet50',
    embedSizes: [8, 8],
    notPretrained: true,
    pretrainedFormat: 'torchvision',
    rng: rngFor(1, 'init'),
    width: 8,
  });
  const params = model.parameters();
  const picked = parityParameters(params);
  const convs = params.filter((p) => p.trainable && p.layout === 'conv' && p.variable.rank === 4);
  const pickedConvs = picked.filter((p) => convs.includes(p));
  // The first conv (its gradient needs the whole backward chain), the last, three between, in depth order.
  assert.equal(pickedConvs.length, 5);
  assert.equal(pickedConvs[0].name, 'conv1.weight');
  assert.equal(pickedConvs[4], convs.at(-1));
  const depth = pickedConvs.map((p) => convs.indexOf(p));
  assert.deepEqual(
    depth,
    [...depth].sort((x, y) => x - y),
  );
  assert.deepEqual(
    picked
      .filter((p) => !convs.includes(p))
      .map((p) => p.name)
      .sort(),
    ['last_linear.Class.bias', 'last_linear.Class.weight', 'last_linear.Shared.bias', 'last_linear.Shared.weight'],
  );
  model.dispose();
});

test('wasm with our kernels agrees with cpu on the same weights; a perturbed weight is caught', async () => {
  const tf = await useTestBackend('wasm');
  installWasmTrainingKernels();
  const build = () =>
    buildModel({ arch: 'resnet50', embedSizes: [8, 8], notPretrained: true, pretrainedFormat: 'torchvision', rng: rngFor(2, 'init'), width: 8 });
  const model = await build();
  const mine = forwardBackward(model, 2, 32, 0);
  const weights = snapshotWeights(model);
  await tf.setBackend('cpu');
  const ref = await build();
  // Other weights first, so only loadWeights can make the two networks equal.
  for (const p of ref.parameters()) p.variable.assign(tf.zerosLike(p.variable));
  loadWeights(ref, weights);
  const refSide = forwardBackward(ref, 2, 32, 0);
  const ok = compareSides(mine, refSide, { reference: 'cpu', images: 2, size: 32 });
  assert.ok(ok.pass, `embeddings ${ok.embedError}, gradients ${ok.gradError} (${ok.worst})`);
  assert.ok(ok.gradError < 1e-4 && ok.embedError < 1e-4);
  assert.equal(ok.compared.length, 9);

  // A network that differs in one conv weight no longer passes.
  const conv = ref.parameters().find((p) => p.name === 'layer2.0.conv2.weight')!;
  conv.variable.assign(tf.mul(conv.variable, 1.5));
  const bad = compareSides(mine, forwardBackward(ref, 2, 32, 0), { reference: 'cpu', images: 2, size: 32 });
  assert.equal(bad.pass, false);
  ref.dispose();
  await tf.setBackend('wasm');
  model.dispose();
});
