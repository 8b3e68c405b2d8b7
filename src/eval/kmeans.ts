// Port of: the faiss `Kmeans` / `Clustering` calls of the original (docs/porting.md#kmeans)
/**
 * Lloyd k-means with squared L2, behaving like faiss's `Clustering` with one run:
 * - optional fit on a random subsample of at most `maxPointsPerCentroid`·k points (faiss default 256,
 *   which the original's surrogate-label clustering effectively uses), then every point is assigned;
 * - init = k distinct random points of the fit set;
 * - each iteration assigns every fit point to its nearest centroid, recomputes the means and re-seeds
 *   empty clusters by splitting a populous one (the copy of its centroid and the original move apart by a
 *   tiny symmetric relative perturbation, as faiss does);
 * - the result's labels are the nearest final centroid of every point (the original's `index.search(x, 1)`).
 *
 * The assignment step is the cost: n·k·dim multiply-adds per iteration, computed as blocked tfjs matmuls
 * (see `scores.ts`), never holding more than one [rows, k] block.
 *
 * Porting note: iterations stop early at a fixed point (an assignment identical to the previous one, with no
 * empty-cluster split in between): the next update would recompute the same means, so every further
 * iteration is a no-op and the result equals the full-length run. faiss always runs all iterations.
 * Porting note: the random stream is ours (`Rng`), so the chosen initial points differ from faiss's seed 1234.
 */
import * as tf from '@tensorflow/tfjs';
import { assert, UserError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { blockRows } from './chunking.ts';
import { queryOperand, referenceOperand } from './scores.ts';

/** Relative perturbation applied when an empty cluster is re-seeded from a populous one (faiss's 1/1024). */
export const SPLIT_EPS = 1 / 1024;

export interface KMeansOptions {
  /** Lloyd iterations (faiss `niter`): 25 for MIC's surrogate labels, 20 for NMI. */
  iters: number;
  /** Stream for the subsample, the initial points and the choice of clusters to split. */
  rng: Rng;
  /** Fit on a random subsample of at most this many points per centroid (default: all points). */
  maxPointsPerCentroid?: number;
  /** Below this many points per centroid `onWarning` is told (faiss's warning; default 1). */
  minPointsPerCentroid?: number;
  /** Byte budget of one [rows, k] score block (default `DEFAULT_BLOCK_BUDGET_BYTES`). */
  budgetBytes?: number;
  /** Receives non-fatal notes (too few points per centroid, subsampling). */
  onWarning?: (message: string) => void;
  /** Start from these centroids [k, dim] instead of k random points (for reference comparisons). */
  initialCentroids?: Float32Array;
}

export interface KMeansResult {
  /** Final centroids [k, dim]. */
  centroids: Float32Array;
  /** Nearest final centroid of every point [n]. */
  assignments: Int32Array;
  /** Σ over all n points of ‖x − c_assigned‖² (float64 sum). */
  inertia: number;
  /** Centroid updates performed (≤ iters). */
  iterations: number;
  /** True when iterations stopped early at a fixed point. */
  converged: boolean;
  /** Empty clusters re-seeded over the run. */
  emptySplits: number;
  /** Number of points the centroids were fitted on (n, or the subsample size). */
  fitPoints: number;
}

/**
 * Cluster `n` points of dimension `dim` (row-major `data`, [n, dim]) into `k` clusters.
 * Throws a `UserError` when there are fewer points than clusters (faiss refuses too).
 */
export function kmeans(data: Float32Array, n: number, dim: number, k: number, opts: KMeansOptions): KMeansResult {
  assert(data.length === n * dim, `kmeans: expected ${n}×${dim} = ${n * dim} values, got ${data.length}`);
  assert(Number.isInteger(k) && k >= 1, `kmeans: k must be a positive integer, got ${k}`);
  assert(Number.isInteger(opts.iters) && opts.iters >= 0, `kmeans: iters must be a non-negative integer, got ${opts.iters}`);
  if (n < k) throw new UserError(`k-means: ${n} points cannot form ${k} clusters (need at least as many points as clusters)`);
  const minPts = opts.minPointsPerCentroid ?? 1;
  const maxPts = opts.maxPointsPerCentroid ?? Infinity;
  if (n < k * minPts) opts.onWarning?.(`k-means: ${n} points for ${k} centroids (fewer than ${minPts} per centroid)`);

  // Fit set: all points, or a random subsample of maxPts·k (sorted, for memory locality; order does not
  // matter to Lloyd).
  let fit = data;
  let nFit = n;
  if (n > maxPts * k) {
    nFit = Math.floor(maxPts * k);
    const pick = opts.rng.sampleWithoutReplacement(n, nFit).sort();
    fit = new Float32Array(nFit * dim);
    for (let i = 0; i < nFit; i++) fit.set(data.subarray(pick[i] * dim, (pick[i] + 1) * dim), i * dim);
    opts.onWarning?.(`k-means: fitting on a random subsample of ${nFit} of ${n} points (${maxPts} per centroid)`);
  }

  const centroids = new Float32Array(k * dim);
  if (opts.initialCentroids) {
    assert(opts.initialCentroids.length === k * dim, `kmeans: initialCentroids must hold ${k}×${dim} values`);
    centroids.set(opts.initialCentroids);
  } else {
    const init = opts.rng.sampleWithoutReplacement(nFit, k);
    for (let c = 0; c < k; c++) centroids.set(fit.subarray(init[c] * dim, (init[c] + 1) * dim), c * dim);
  }

  let assign = new Int32Array(nFit);
  let previous = new Int32Array(nFit);
  const counts = new Int32Array(k);
  let iterations = 0;
  let converged = false;
  let emptySplits = 0;
  let splitLastUpdate = false;
  for (let it = 0; it < opts.iters; it++) {
    assignToNearest(fit, nFit, dim, centroids, k, assign, opts.budgetBytes);
    // Fixed point: the centroids are the means of `previous` (no split since), and nothing moved.
    if (it > 0 && !splitLastUpdate && sameArray(assign, previous)) {
      converged = true;
      break;
    }
    const empties = updateCentroids(fit, nFit, dim, assign, centroids, k, counts, opts.rng);
    emptySplits += empties;
    splitLastUpdate = empties > 0;
    iterations++;
    [assign, previous] = [previous, assign];
  }
  let assignments: Int32Array;
  if (fit === data && converged) {
    assignments = assign;
  } else {
    assignments = new Int32Array(n);
    assignToNearest(data, n, dim, centroids, k, assignments, opts.budgetBytes);
  }
  const inertia = sumSquaredDistances(data, n, dim, centroids, assignments);
  return { centroids, assignments, inertia, iterations, converged, emptySplits, fitPoints: nFit };
}

/**
 * Nearest centroid (squared L2; ties → lower centroid index, as tf.argMax) of each of the `n` rows of
 * `x` [n, dim], written into `out` [n]. Blocked so that at most one [rows, k] score block exists.
 */
export function assignToNearest(
  x: Float32Array,
  n: number,
  dim: number,
  centroids: Float32Array,
  k: number,
  out: Int32Array,
  budgetBytes?: number,
): void {
  assert(out.length >= n, `assignToNearest: out has ${out.length} slots for ${n} points`);
  // Per row besides the scores: its query operand, once in the JS scratch and once on the backend.
  const rowsPerBlock = blockRows(k, n, { budgetBytes, extraBytesPerRow: 2 * (dim + 1) * 4 });
  const scratch = new Float32Array(rowsPerBlock * (dim + 1));
  const c = referenceOperand(centroids, k, dim);
  try {
    for (let start = 0; start < n; start += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, n - start);
      const q = queryOperand(x, start, rows, dim, scratch);
      const best = tf.tidy(() => tf.argMax(tf.matMul(q, c), 1));
      out.set(best.dataSync() as Int32Array, start);
      tf.dispose([q, best]);
    }
  } finally {
    c.dispose();
  }
}

/**
 * Means of the assigned points into `centroids`; a cluster left empty keeps its old centroid until it is
 * re-seeded by `splitEmptyClusters`. Returns the number of empty clusters that were re-seeded.
 */
function updateCentroids(
  x: Float32Array,
  n: number,
  dim: number,
  assign: Int32Array,
  centroids: Float32Array,
  k: number,
  counts: Int32Array,
  rng: Rng,
): number {
  const sums = new Float64Array(k * dim);
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const c = assign[i];
    counts[c]++;
    const o = i * dim;
    const s = c * dim;
    for (let d = 0; d < dim; d++) sums[s + d] += x[o + d];
  }
  let empty = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) {
      empty++;
      continue;
    }
    const inv = 1 / counts[c];
    for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d] * inv;
  }
  if (empty > 0) splitEmptyClusters(centroids, k, dim, counts.slice(), rng);
  return empty;
}

/**
 * Re-seed every empty cluster (count 0) from a cluster chosen with probability ∝ (size − 1): the empty
 * one gets a copy of the chosen centroid, and the two are pushed apart by ±SPLIT_EPS relative per dimension
 * (even dimensions: copy ×(1+ε), source ×(1−ε); odd dimensions the other way round). The chosen cluster's
 * points are then counted as split in half, so several empties do not all pile onto one cluster.
 * Exported for tests; `counts` is modified.
 */
export function splitEmptyClusters(centroids: Float32Array, k: number, dim: number, counts: Int32Array, rng: Rng): void {
  const weights = new Float64Array(k);
  for (let ci = 0; ci < k; ci++) {
    if (counts[ci] !== 0) continue;
    for (let c = 0; c < k; c++) weights[c] = Math.max(counts[c] - 1, 0);
    const cj = rng.categorical(weights);
    assert(cj >= 0, 'splitEmptyClusters: no cluster has two or more points to split (fewer points than clusters?)');
    for (let d = 0; d < dim; d++) {
      const v = centroids[cj * dim + d];
      const up = d % 2 === 0;
      centroids[ci * dim + d] = v * (up ? 1 + SPLIT_EPS : 1 - SPLIT_EPS);
      centroids[cj * dim + d] = v * (up ? 1 - SPLIT_EPS : 1 + SPLIT_EPS);
    }
    counts[ci] = Math.floor(counts[cj] / 2);
    counts[cj] -= counts[ci];
  }
}

function sameArray(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sumSquaredDistances(x: Float32Array, n: number, dim: number, centroids: Float32Array, assign: Int32Array): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    const c = assign[i] * dim;
    for (let d = 0; d < dim; d++) {
      const diff = x[o + d] - centroids[c + d];
      total += diff * diff;
    }
  }
  return total;
}
