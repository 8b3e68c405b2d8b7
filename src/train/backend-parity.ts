/**
 * Forward + backward parity of a backend against a reference backend on the same weights and input: the
 * embeddings of every head and the gradients of a deterministic loss (Σ_h Σ E_h ⊙ R_h, R seeded) with respect
 * to a spread of the network's parameters. The first convolution is always among them, so the gradient has
 * flowed back through every layer; filter gradients are taken of five convolutions across the depth plus the
 * heads (the tfjs cpu backend's filter gradient costs time per weight, so not all 25 M of them).
 *
 * Error of one tensor: max |a − b| / max |b| (a norm-wise relative error, indifferent to tiny entries).
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import type { ParamEntry } from '../models/module.ts';
import { rngFor } from '../rng.ts';

/** float32 through ~50 layers forward and back: CPU engines differ by ~1e-6 here (summation order, fused ops). */
export const PARITY_TOLERANCE = 1e-3;
/**
 * On a GPU TensorFlow uses TF32 tensor cores by default (Ampere and newer), which round matmul and convolution
 * inputs to 10 mantissa bits (~5e-4 relative per product): a looser bound that still catches a wrong kernel.
 */
export const PARITY_TOLERANCE_GPU = 2e-2;

export interface ParitySide {
  embeds: Float32Array[];
  grads: Map<string, Float32Array>;
  seconds: number;
}

export interface ParityResult {
  reference: string;
  images: number;
  size: number;
  /** Worst error over the heads' embeddings. */
  embedError: number;
  /** Worst error over the compared gradients, and whose it is. */
  gradError: number;
  worst: string;
  compared: string[];
  tolerance: number;
  pass: boolean;
  seconds: { backend: number; reference: number };
}

/** The parameters whose gradients are compared: first conv, four more convs spread over the depth, the heads. */
export function parityParameters(params: readonly ParamEntry[]): ParamEntry[] {
  const trainable = params.filter((p) => p.trainable);
  const convs = trainable.filter((p) => p.layout === 'conv' && p.variable.rank === 4);
  const picks = new Set<ParamEntry>();
  if (convs.length > 0) for (const f of [0, 0.25, 0.5, 0.75, 1]) picks.add(convs[Math.round(f * (convs.length - 1))]);
  for (const p of trainable) if (p.name.startsWith('last_linear.')) picks.add(p);
  return trainable.filter((p) => picks.has(p));
}

/** Seeded input images and loss weights for `model` (same on every backend). */
function inputs(model: EmbeddingNet, images: number, size: number, seed: number): { x: Float32Array; r: Float32Array[] } {
  const rng = rngFor(seed, 'doctor.parity');
  const x = Float32Array.from({ length: images * size * size * 3 }, () => rng.normal());
  const r = model.embedSizes.map((d) => Float32Array.from({ length: images * d }, () => rng.normal()));
  return { x, r };
}

/** Forward + backward on the current backend. Leaves no tensors behind. */
export function forwardBackward(model: EmbeddingNet, images: number, size: number, seed: number): ParitySide {
  const { x, r } = inputs(model, images, size, seed);
  const compared = parityParameters(model.parameters());
  const t = performance.now();
  const embeds: Float32Array[] = [];
  const grads = new Map<string, Float32Array>();
  tf.tidy(() => {
    const input = tf.tensor4d(x, [images, size, size, 3]);
    const { value, grads: g } = tf.variableGrads(
      () => {
        const out = model.forward(input).embeds;
        out.forEach((e) => embeds.push(Float32Array.from(e.dataSync())));
        return tf.addN(out.map((e, h) => tf.sum(tf.mul(e, tf.tensor(r[h], e.shape))))) as tf.Scalar;
      },
      compared.map((p) => p.variable),
    );
    value.dataSync();
    for (const p of compared) grads.set(p.name, Float32Array.from(g[p.variable.name].dataSync()));
  });
  return { embeds, grads, seconds: (performance.now() - t) / 1000 };
}

/** max |a − b| / max |b|; 0 when both are all zero. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? (diff === 0 ? 0 : Infinity) : diff / scale;
}

/** Every parameter's values, to give a second model the same weights. */
export function snapshotWeights(model: EmbeddingNet): Map<string, Float32Array> {
  return new Map(model.parameters().map((p) => [p.name, Float32Array.from(p.variable.dataSync())]));
}

export function loadWeights(model: EmbeddingNet, weights: Map<string, Float32Array>): void {
  for (const p of model.parameters()) {
    const w = weights.get(p.name);
    if (!w) throw new Error(`parity: no weights for ${p.name}`);
    tf.tidy(() => p.variable.assign(tf.tensor(w, p.variable.shape, 'float32')));
  }
}

/** Compare two sides (backend first, reference second). */
export function compareSides(
  mine: ParitySide,
  ref: ParitySide,
  o: { reference: string; images: number; size: number; tolerance?: number },
): ParityResult {
  const tolerance = o.tolerance ?? PARITY_TOLERANCE;
  const embedError = Math.max(...mine.embeds.map((e, h) => relativeError(e, ref.embeds[h])));
  let gradError = 0;
  let worst = '';
  for (const [name, g] of ref.grads) {
    const err = relativeError(mine.grads.get(name) ?? new Float32Array(0), g);
    if (!(err <= gradError)) {
      gradError = err;
      worst = name;
    }
  }
  const pass = embedError <= tolerance && gradError <= tolerance;
  return {
    reference: o.reference,
    images: o.images,
    size: o.size,
    embedError,
    gradError,
    worst,
    compared: [...ref.grads.keys()],
    tolerance,
    pass,
    seconds: { backend: mine.seconds, reference: ref.seconds },
  };
}
