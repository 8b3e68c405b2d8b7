import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILE_ENV, profileFor } from '../../src/backend/profile.ts';
import { GroupedAdam } from '../../src/train/optimizer.ts';
import { useTestBackend } from '../helpers/tf.ts';

test('profiles: whole batches, tensor Adam and stock kernels on tfjs-node; the switch gives cpu the same', () => {
  const native = profileFor('tensorflow', {});
  assert.deepEqual([native.wholeBatches, native.adam, native.trainingKernels], [true, 'tensor', false]);
  const wasm = profileFor('wasm', {});
  assert.deepEqual([wasm.wholeBatches, wasm.adam, wasm.trainingKernels], [false, 'fused', true]);
  const cpu = profileFor('cpu', {});
  assert.deepEqual([cpu.wholeBatches, cpu.adam, cpu.trainingKernels], [false, 'host', false]);
  const forced = profileFor('cpu', { [PROFILE_ENV]: 'native' });
  assert.deepEqual({ ...forced, forcedBy: undefined }, { ...native, forcedBy: undefined });
  assert.equal(profileFor('cpu', { [PROFILE_ENV]: '' }).name, 'cpu');
  assert.throws(() => profileFor('wasm', { [PROFILE_ENV]: 'native' }), /runs only on --backend cpu/);
  assert.throws(() => profileFor('cpu', { [PROFILE_ENV]: 'Native' }), /unknown profile/);
});

test('GroupedAdam takes its default implementation from the active profile', async () => {
  const tf = await useTestBackend('cpu');
  const v = tf.variable(tf.zeros([3]), true, 'profile.adam.v');
  const make = () => new GroupedAdam([{ name: 'network', vars: [v], lr: 1e-3, weightDecay: 0 }]);
  assert.equal(make().impl, 'host');
  process.env[PROFILE_ENV] = 'native';
  try {
    assert.equal(make().impl, 'tensor');
  } finally {
    delete process.env[PROFILE_ENV];
  }
  await useTestBackend('wasm');
  assert.equal(make().impl, 'fused');
  v.dispose();
});
