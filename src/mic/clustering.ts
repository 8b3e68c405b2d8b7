// Port of: the original's initial clustering and deep re-clustering of the Shared task (docs/porting.md#mic-clustering, docs/porting.md#mic-reclustering)
/**
 * Surrogate labels for the Shared task.
 * - Initial: layer1 features of every training image (eval transform) → average pool (kernel 18 / stride 12 at
 *   224 px, scaled for other sizes: `layer1PoolWindow`) → flatten → L2 → per-class standardisation → k-means with
 *   k = `shared_num_classes` (25 iterations, fit on ≤ 256 points per centroid, then assign all).
 * - Re-clustering: the current Shared embeddings of all training images, no centring, same k-means.
 * Features are written into one preallocated Float32Array (embedAll). Images that cannot be decoded take
 * no part in the standardisation or the k-means (their rows would be the features of a blank image); each
 * gets the cluster most of its class's images fell into, so it stays in a pool it is never drawn from alone.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputConvention } from '../data/image-convention.ts';
import { evalBatches, type DecoderChoice } from '../data/loader.ts';
import { embedAll } from '../eval/embed.ts';
import { kmeans } from '../eval/kmeans.ts';
import type { EmbeddingModel } from '../models/types.ts';
import type { Rng } from '../rng.ts';
import { compactLabels, l2NormalizeRows, layer1PoolWindow, standardiseByClass } from './surrogate.ts';

export interface ClusteringInputs {
  model: EmbeddingModel;
  /** Training image paths, in item order. */
  paths: string[];
  /** Class label of each path (to place undecodable images, see the file comment). */
  classLabels?: Int32Array;
  bs: number;
  inputSize: number;
  conv: InputConvention;
  concurrency: number;
  decoder?: DecoderChoice;
  /** Called after each batch with the images embedded so far (for a progress display). */
  onProgress?: (done: number, total: number) => void;
}

export interface KMeansSettings {
  k: number;
  iters: number;
  maxPointsPerCentroid: number;
  rng: Rng;
  onWarning?: (message: string) => void;
}

/** Pooled layer1 features of one batch, [batch, C·h·w] flattened in PyTorch's C-major order. */
export function pooledLayer1(model: EmbeddingModel, images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const f = model.clusterFeatures(images); // [b, H, W, C]
    const { kernel, stride } = layer1PoolWindow(f.shape[1]);
    const p = tf.avgPool(f, kernel, stride, 'valid'); // [b, h, w, C]
    // PyTorch flattens NCHW: channel-major, so transpose before the reshape to keep the original's order.
    const nchw = tf.transpose(p, [0, 3, 1, 2]);
    return tf.reshape(nchw, [p.shape[0], -1]) as tf.Tensor2D;
  });
}

async function features(
  inp: ClusteringInputs,
  head: number | ((m: EmbeddingModel, x: tf.Tensor4D) => tf.Tensor2D),
): Promise<{ x: Float32Array; dim: number; failed: Set<number> }> {
  const failed = new Set<number>();
  async function* tracked() {
    for await (const b of evalBatches(inp.paths, inp.bs, inp.inputSize, inp.conv, {
      concurrency: inp.concurrency,
      decoder: inp.decoder,
      recycle: true,
    })) {
      for (const i of b.failed) failed.add(i);
      yield b;
    }
  }
  const x = await embedAll(inp.model, tracked(), inp.paths.length, typeof head === 'number' ? head : 0, {
    features: typeof head === 'number' ? undefined : head,
    onProgress: inp.onProgress,
  });
  return { x, dim: x.length / inp.paths.length, failed };
}

/** Rows of `x` [n, dim] that decoded, and their indices (the matrix itself when all did). */
function decodedRows(x: Float32Array, n: number, dim: number, failed: Set<number>): { rows: Int32Array; x: Float32Array } {
  if (failed.size === 0) return { rows: Int32Array.from({ length: n }, (_, i) => i), x };
  const rows = Int32Array.from({ length: n }, (_, i) => i).filter((i) => !failed.has(i));
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => out.set(x.subarray(r * dim, (r + 1) * dim), k * dim));
  return { rows, x: out };
}

/** Labels for all `n` items: `labels` for the decoded `rows`, and for each failed item its class's most common cluster. */
function placeFailed(labels: Int32Array, rows: Int32Array, n: number, classLabels: Int32Array | undefined): Int32Array {
  if (rows.length === n) return labels;
  const out = new Int32Array(n).fill(-1);
  rows.forEach((r, k) => (out[r] = labels[k]));
  const votes = new Map<number, Map<number, number>>();
  rows.forEach((r, k) => {
    const c = classLabels?.[r] ?? 0;
    let v = votes.get(c);
    if (!v) votes.set(c, (v = new Map()));
    v.set(labels[k], (v.get(labels[k]) ?? 0) + 1);
  });
  for (let i = 0; i < n; i++) {
    if (out[i] >= 0) continue;
    const v = votes.get(classLabels?.[i] ?? 0);
    // A class with no decodable image stops the run before this (image check); fall back to cluster 0.
    out[i] = v ? [...v].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0] : 0;
  }
  return out;
}

function cluster(x: Float32Array, n: number, dim: number, s: KMeansSettings): Int32Array {
  const k = Math.min(s.k, n);
  const r = kmeans(x, n, dim, k, { iters: s.iters, rng: s.rng, maxPointsPerCentroid: s.maxPointsPerCentroid, onWarning: s.onWarning });
  // Empty clusters cannot remain after k-means' splitting, but keep labels contiguous regardless.
  return compactLabels(r.assignments);
}

/** Initial surrogate labels (docs/porting.md#mic-clustering). `classLabels` are the training items' class labels. */
export async function initialSurrogateLabels(
  inp: ClusteringInputs,
  classLabels: Int32Array,
  mode: 'mean' | 'mstd' | 'no_norm',
  s: KMeansSettings,
): Promise<Int32Array> {
  const f = await features(inp, pooledLayer1);
  const n = inp.paths.length;
  const { rows, x } = decodedRows(f.x, n, f.dim, f.failed);
  l2NormalizeRows(x, rows.length, f.dim);
  standardiseByClass(x, rows.length, f.dim, rows.length === n ? classLabels : rows.map((r) => classLabels[r]), mode);
  return placeFailed(cluster(x, rows.length, f.dim, s), rows, n, classLabels);
}

/** Re-clustering of the current Shared embeddings (head 1), no centring (docs/porting.md#mic-reclustering). */
export async function reclusterSharedLabels(inp: ClusteringInputs, s: KMeansSettings): Promise<Int32Array> {
  const f = await features(inp, 1);
  const n = inp.paths.length;
  const { rows, x } = decodedRows(f.x, n, f.dim, f.failed);
  return placeFailed(cluster(x, rows.length, f.dim, s), rows, n, inp.classLabels);
}
