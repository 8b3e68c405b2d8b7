/**
 * Nearest-by-squared-L2 as one matrix product. For a query q and a reference x,
 *   s(q, x) = q·x − ‖x‖²/2 = (‖q‖² − ‖q − x‖²) / 2,
 * so for a fixed query, a larger score means a smaller squared distance (docs/porting.md#eval-knn: faiss IndexFlatL2
 * ranking). Appending a constant 1 to each query and −‖x‖²/2 to each reference turns the whole score
 * block into a single matmul [rows, dim+1] × [dim+1, n]: no broadcast add over the block, so the only
 * pass over the big matrix is the top-k / argmax that follows.
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../errors.ts';

/**
 * References as the right-hand matmul operand: [dim+1, n] with column j = (x_j, −‖x_j‖²/2).
 * The reference layout is transposed here (once, in JS) because tfjs-wasm's matmul is several times
 * slower with `transposeB` than with a plain [K, N] operand.
 */
export function referenceOperand(x: Float32Array, n: number, dim: number): tf.Tensor2D {
  assert(x.length === n * dim, `referenceOperand: expected ${n}×${dim} = ${n * dim} values, got ${x.length}`);
  const t = new Float32Array((dim + 1) * n);
  for (let j = 0; j < n; j++) {
    const o = j * dim;
    let sq = 0;
    for (let d = 0; d < dim; d++) {
      const v = x[o + d];
      t[d * n + j] = v;
      sq += v * v;
    }
    t[dim * n + j] = -0.5 * sq;
  }
  return tf.tensor2d(t, [dim + 1, n]);
}

/**
 * Rows [start, start+rows) of a [n, dim] matrix as the left matmul operand [rows, dim+1] with a trailing 1.
 * `scratch` (length ≥ rows·(dim+1)) is reused between blocks to avoid garbage.
 */
export function queryOperand(x: Float32Array, start: number, rows: number, dim: number, scratch?: Float32Array): tf.Tensor2D {
  const w = dim + 1;
  const buf = scratch && scratch.length >= rows * w ? scratch.subarray(0, rows * w) : new Float32Array(rows * w);
  for (let r = 0; r < rows; r++) {
    const src = (start + r) * dim;
    const dst = r * w;
    for (let d = 0; d < dim; d++) buf[dst + d] = x[src + d];
    buf[dst + dim] = 1;
  }
  return tf.tensor2d(buf, [rows, w]);
}
