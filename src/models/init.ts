// Port of: torch.nn.init (kaiming_normal_, kaiming_uniform_(a=√5), trunc_normal_) as used by torchvision (docs/porting.md#init)
/**
 * Initial values drawn from an explicit `Rng` (never Math.random), so `--seed` fixes them. Values follow PyTorch's
 * distributions, not its random stream: the same seed gives different numbers than torch would.
 * All functions return a new float32 tensor; a null rng gives the placeholder value (0) for tensors that will be
 * overwritten by loaded weights, which saves drawing 25 M normals for a pretrained ResNet50.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.ts';

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** N(0, std²) values. */
export function normalTensor(shape: number[], std: number, rng: Rng | null): tf.Tensor {
  const n = product(shape);
  const data = new Float32Array(n);
  if (rng) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  return tf.tensor(data, shape, 'float32');
}

/** N(0, std²) truncated to [lo, hi] by redrawing (torch.nn.init.trunc_normal_; bounds are absolute values). */
export function truncNormalTensor(shape: number[], std: number, lo: number, hi: number, rng: Rng | null): tf.Tensor {
  const n = product(shape);
  const data = new Float32Array(n);
  if (rng) {
    for (let i = 0; i < n; i++) {
      let v: number;
      do v = rng.normal() * std;
      while (v < lo || v > hi);
      data[i] = v;
    }
  }
  return tf.tensor(data, shape, 'float32');
}

/** U(−bound, bound) values. */
export function uniformTensor(shape: number[], bound: number, rng: Rng | null): tf.Tensor {
  const n = product(shape);
  const data = new Float32Array(n);
  if (rng) for (let i = 0; i < n; i++) data[i] = rng.uniform(-bound, bound);
  return tf.tensor(data, shape, 'float32');
}

export function constantTensor(shape: number[], value: number): tf.Tensor {
  return tf.fill(shape, value, 'float32');
}

/**
 * How a conv or linear layer draws its weight (and bias, when it has one):
 * - `kaiming-fan-out`: weight ~ N(0, 2/fan_out), fan_out = out·kh·kw (torchvision ResNet); bias 0.
 * - `torch-default`: weight and bias ~ U(±1/√fan_in), fan_in = in·kh·kw (PyTorch's default for nn.Conv2d and
 *   nn.Linear: kaiming_uniform_ with a = √5; the MIC heads, BN-Inception).
 * - `trunc-normal-0.01`: weight ~ N(0, 0.01²) cut at ±2 (torchvision GoogLeNet); bias 0.
 */
export type WeightInit = 'kaiming-fan-out' | 'torch-default' | 'trunc-normal-0.01';

/** Weight of shape `shape` (our layout) with the given fans. */
export function initWeight(kind: WeightInit, shape: number[], fanIn: number, fanOut: number, rng: Rng | null): tf.Tensor {
  switch (kind) {
    case 'kaiming-fan-out':
      return normalTensor(shape, Math.sqrt(2 / fanOut), rng);
    case 'torch-default':
      return uniformTensor(shape, 1 / Math.sqrt(fanIn), rng);
    case 'trunc-normal-0.01':
      return truncNormalTensor(shape, 0.01, -2, 2, rng);
  }
}

/** Bias matching `initWeight(kind, …)`. */
export function initBias(kind: WeightInit, size: number, fanIn: number, rng: Rng | null): tf.Tensor {
  if (kind === 'torch-default') return uniformTensor([size], 1 / Math.sqrt(fanIn), rng);
  return constantTensor([size], 0);
}
