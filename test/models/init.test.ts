import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBias, initWeight } from '../../src/models/init.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';

await useTestBackend();

function stats(t: { dataSync(): ArrayLike<number> }): { mean: number; std: number; maxAbs: number } {
  const d = t.dataSync();
  let s = 0,
    s2 = 0,
    m = 0;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    s2 += d[i] * d[i];
    m = Math.max(m, Math.abs(d[i]));
  }
  const mean = s / d.length;
  return { mean, std: Math.sqrt(s2 / d.length - mean * mean), maxAbs: m };
}

test('kaiming-fan-out: N(0, 2/fan_out) with fan_out = out·k·k (torchvision ResNet convs)', () => {
  // 3×3 conv 64 → 128: fan_out = 1152, std = √(2/1152) ≈ 0.04167; 73,728 draws → std error ≈ 0.3 %.
  const w = initWeight('kaiming-fan-out', [3, 3, 64, 128], 576, 1152, new Rng(1, 'init'));
  const s = stats(w);
  assert.ok(Math.abs(s.std / Math.sqrt(2 / 1152) - 1) < 0.02, `std ${s.std}`);
  assert.ok(Math.abs(s.mean) < 0.001);
  const b = initBias('kaiming-fan-out', 128, 576, new Rng(1, 'init'));
  assert.equal(stats(b).maxAbs, 0);
  tf.dispose([w, b]);
});

test('torch-default: weight and bias uniform in ±1/√fan_in (PyTorch nn.Linear / nn.Conv2d)', () => {
  const bound = 1 / Math.sqrt(2048);
  const w = initWeight('torch-default', [2048, 128], 2048, 128, new Rng(2, 'init'));
  const s = stats(w);
  assert.ok(s.maxAbs <= bound && s.maxAbs > 0.99 * bound);
  // U(−a, a) has std a/√3.
  assert.ok(Math.abs(s.std / (bound / Math.sqrt(3)) - 1) < 0.02);
  const b = initBias('torch-default', 128, 2048, new Rng(2, 'init'));
  assert.ok(stats(b).maxAbs <= bound && stats(b).maxAbs > 0.5 * bound);
  tf.dispose([w, b]);
});

test('trunc-normal-0.01: N(0, 0.01²) (torchvision GoogLeNet), zero bias', () => {
  const w = initWeight('trunc-normal-0.01', [1, 1, 256, 256], 256, 256, new Rng(3, 'init'));
  assert.ok(Math.abs(stats(w).std / 0.01 - 1) < 0.02);
  tf.dispose(w);
});

test('same seed and stream give the same values; a null rng gives zeros', () => {
  const a = initWeight('kaiming-fan-out', [3, 3, 4, 4], 36, 36, new Rng(5, 'init'));
  const b = initWeight('kaiming-fan-out', [3, 3, 4, 4], 36, 36, new Rng(5, 'init'));
  const c = initWeight('kaiming-fan-out', [3, 3, 4, 4], 36, 36, new Rng(6, 'init'));
  const z = initWeight('kaiming-fan-out', [3, 3, 4, 4], 36, 36, null);
  assert.deepEqual([...a.dataSync()], [...b.dataSync()]);
  assert.notDeepEqual([...a.dataSync()], [...c.dataSync()]);
  assert.equal(stats(z).maxAbs, 0);
  tf.dispose([a, b, c, z]);
});
