// Port of: MIC `datasets.py`/`losses.py` Sampler.pdist and MarginLoss distance lines (docs/porting.md#distances)
/**
 * Distances shared by losses and miners. Miners work on detached Float32Array values in float64 JS
 * arithmetic; losses work on tensors with gradient, using only backend-neutral ops.
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../errors.ts';

/** The MIC sampler's floor on squared distances (so every d ≥ 0.01). */
export const SAMPLER_MIN_SQUARED_DISTANCE = 1e-4;
/** Added inside the square root of the margin loss's distances so the gradient at d = 0 stays finite. */
export const MARGIN_DISTANCE_EPS = 1e-8;

/**
 * All pairwise Euclidean distances of a batch, as the MIC sampler computes them:
 * d_ij = sqrt(max(‖x_i‖² + ‖x_j‖² − 2 x_i·x_j, 1e-4)).
 * embeddings: [batch, dim] row-major. Returns [batch, batch] row-major (float64).
 */
export function samplerDistances(embeddings: Float32Array, dim: number): Float64Array {
  assert(dim > 0 && embeddings.length % dim === 0, () => `samplerDistances: ${embeddings.length} values not a multiple of dim ${dim}`);
  const batch = embeddings.length / dim;
  const sqNorm = new Float64Array(batch);
  for (let i = 0; i < batch; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += embeddings[i * dim + k] ** 2;
    sqNorm[i] = s;
  }
  const dist = new Float64Array(batch * batch);
  for (let i = 0; i < batch; i++) {
    for (let j = i; j < batch; j++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += embeddings[i * dim + k] * embeddings[j * dim + k];
      const d = Math.sqrt(Math.max(sqNorm[i] + sqNorm[j] - 2 * dot, SAMPLER_MIN_SQUARED_DISTANCE));
      dist[i * batch + j] = d;
      dist[j * batch + i] = d;
    }
  }
  return dist;
}

/**
 * A [rows, n] one-hot float matrix: row r has a 1 in column index[r].
 * Porting note: rows are picked by multiplying with this matrix instead of tf.gather. The gather gradient
 * (UnsortedSegmentSum) is missing from the wasm backend, and the cpu backend's runs one masked sum per row of x
 * (measured 14× slower than this product at batch 112 × 128); the product needs no extra kernel anywhere and,
 * with a single 1 per row, is exact.
 */
export function oneHotMatrix(index: Int32Array, n: number): tf.Tensor2D {
  const m = new Float32Array(index.length * n);
  for (let r = 0; r < index.length; r++) {
    assert(index[r] >= 0 && index[r] < n, () => `oneHotMatrix: index ${index[r]} outside [0, ${n})`);
    m[r * n + index[r]] = 1;
  }
  return tf.tensor2d(m, [index.length, n]);
}

/** x[index] for a [n, dim] tensor, differentiable on every backend. Returns [index.length, dim]. */
export function selectRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(oneHotMatrix(index, x.shape[0]), x));
}

/** v[index] for a [n] tensor, differentiable on every backend. Returns [index.length]. */
export function selectEntries(v: tf.Tensor1D, index: Int32Array): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(tf.matMul(oneHotMatrix(index, v.shape[0]), tf.reshape(v, [-1, 1])), [-1]) as tf.Tensor1D);
}

/** Row-wise squared Euclidean distance ‖a_i − b_i‖². a, b: [n, dim] → [n]. */
export function rowSquaredDistance(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.square(tf.sub(a, b)), 1) as tf.Tensor1D);
}

/** Row-wise margin-loss distance sqrt(‖a_i − b_i‖² + 1e-8) (docs/porting.md#distances). a, b: [n, dim] → [n]. */
export function rowMarginDistance(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.add(rowSquaredDistance(a, b), MARGIN_DISTANCE_EPS)) as tf.Tensor1D);
}
