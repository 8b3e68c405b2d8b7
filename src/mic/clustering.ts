// Port of: the original's initial clustering and deep re-clustering of the Shared task (docs/porting.md#mic-clustering, docs/porting.md#mic-reclustering)
/**
 * Surrogate labels for the Shared task.
 * - Initial: layer1 features of every training image (eval transform) → average pool (kernel 18 / stride 12 at
 *   224 px, scaled for other sizes: `layer1PoolWindow`) → flatten → L2 → per-class standardisation → k-means with
 *   k = `shared_num_classes` (25 iterations, fit on ≤ 256 points per centroid, then assign all).
 * - Re-clustering: the current Shared embeddings of all training images, no centring, same k-means.
 * Features are written into one preallocated Float32Array (embedAll).
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
  bs: number;
  inputSize: number;
  conv: InputConvention;
  concurrency: number;
  decoder?: DecoderChoice;
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

async function features(inp: ClusteringInputs, head: number | ((m: EmbeddingModel, x: tf.Tensor4D) => tf.Tensor2D)): Promise<{ x: Float32Array; dim: number }> {
  const batches = evalBatches(inp.paths, inp.bs, inp.inputSize, inp.conv, { concurrency: inp.concurrency, decoder: inp.decoder, recycle: true });
  const x = await embedAll(inp.model, batches, inp.paths.length, typeof head === 'number' ? head : 0, typeof head === 'number' ? {} : { features: head });
  return { x, dim: x.length / inp.paths.length };
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
  const { x, dim } = await features(inp, pooledLayer1);
  const n = inp.paths.length;
  l2NormalizeRows(x, n, dim);
  standardiseByClass(x, n, dim, classLabels, mode);
  return cluster(x, n, dim, s);
}

/** Re-clustering of the current Shared embeddings (head 1), no centring (docs/porting.md#mic-reclustering). */
export async function reclusterSharedLabels(inp: ClusteringInputs, s: KMeansSettings): Promise<Int32Array> {
  const { x, dim } = await features(inp, 1);
  return cluster(x, inp.paths.length, dim, s);
}
