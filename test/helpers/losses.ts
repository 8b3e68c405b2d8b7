/**
 * Shared test helpers for the losses and the adversarial term: the PyTorch fixture, a stub miner that returns
 * fixed triplets, a recording miner, and central finite differences evaluated through tfjs in float32.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Miner, Triplets } from '../../src/losses/types.ts';

/** test/fixtures/losses/losses.json, made by scripts/fixtures/make_loss_fixtures.py (PyTorch float64 autograd). */
export interface LossFixture {
  dim: number;
  labels: number[];
  embeddings: number[];
  triplets: { anchors: number[]; positives: number[]; negatives: number[] };
  margin: number;
  beta: number[];
  marginLoss: Record<
    'terms' | 'triplets',
    {
      loss: number;
      count: number;
      activePos: number;
      activeNeg: number;
      gradEmb: number[];
      gradBeta: number[];
    }
  >;
  tripletLoss: { loss: number; active: number; gradEmb: number[] };
  proxyNca: { loss: number; proxies: number[]; gradEmb: number[]; gradProxies: number[] };
  adversarial: {
    loss: number;
    source: number[];
    sourceDim: number;
    advDim: number;
    targetDim: number;
    weights: Record<string, number[]>;
    gradTarget: number[];
    gradSource: number[];
    gradWeights: Record<string, number[]>;
  };
}

export function loadFixture(): LossFixture {
  return JSON.parse(readFileSync(new URL('../fixtures/losses/losses.json', import.meta.url), 'utf8')) as LossFixture;
}

/** A miner that always returns the same triplets (no stats), for exact comparisons. */
export class FixedMiner implements Miner {
  readonly key = 'fixed';
  constructor(private readonly t: { anchors: number[]; positives: number[]; negatives: number[] }) {}
  mine(): Triplets {
    return { anchors: Int32Array.from(this.t.anchors), positives: Int32Array.from(this.t.positives), negatives: Int32Array.from(this.t.negatives) };
  }
}

/** Wraps a miner and keeps its last output, so a test can recompute the loss from the triplets actually used. */
export class RecordingMiner implements Miner {
  last: Triplets | null = null;
  constructor(private readonly inner: Miner) {}
  get key(): string {
    return this.inner.key;
  }
  mine(e: Float32Array, dim: number, labels: Int32Array): Triplets {
    this.last = this.inner.mine(e, dim, labels);
    return this.last;
  }
}

/**
 * Central finite differences of f at x0: (f(x+h e_k) − f(x−h e_k)) / 2h for every k.
 * f runs through tfjs in float32; the step is applied to a float32 copy.
 */
export function numericGradient(f: (x: Float32Array) => number, x0: ArrayLike<number>, h: number): Float64Array {
  const g = new Float64Array(x0.length);
  const x = Float32Array.from(x0);
  for (let k = 0; k < x.length; k++) {
    const keep = x[k];
    x[k] = keep + h;
    const up = f(x);
    x[k] = keep - h;
    const down = f(x);
    x[k] = keep;
    // Use the step actually representable in float32.
    g[k] = (up - down) / (Math.fround(keep + h) - Math.fround(keep - h));
  }
  return g;
}

/** Norm-wise relative error ‖a − b‖ / max(‖a‖, ‖b‖). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-30);
}

/** Scalar value of a tensor-producing thunk, with everything disposed. */
export function scalarOf(f: () => tf.Scalar): number {
  const t = tf.tidy(f);
  const v = t.arraySync() as number;
  t.dispose();
  return v;
}

/** tf.grad for a function of a [rows, dim] tensor (tf.grad's own typing wants a plain Tensor parameter). */
export function grad2d(f: (x: tf.Tensor2D) => tf.Tensor): (x: tf.Tensor2D) => tf.Tensor {
  return tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D));
}
