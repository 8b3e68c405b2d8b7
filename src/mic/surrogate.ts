// Port of: the original's initial-clustering and re-clustering helpers (docs/porting.md#mic-clustering, docs/porting.md#mic-reclustering)
/**
 * Pure pieces of MIC's surrogate-label clustering: the layer1 pooling rule, per-class standardisation and the
 * re-clustering schedule. The k-means itself is `eval/kmeans.ts` (one implementation for clustering and NMI).
 */

/**
 * Average-pooling window for the layer1 features. The original pools the 56×56 layer1 map of a 224 px input with
 * kernel 18 / stride 12 (→ 4×4×256 = 4096-d). For other input sizes both are scaled by (layer1 size / 56) and
 * rounded, at least 1, which keeps the pooled grid near 4×4: 64 px → 16×16 map, kernel 5, stride 3 → 4×4.
 */
export function layer1PoolWindow(layer1Size: number): { kernel: number; stride: number } {
  const s = layer1Size / 56;
  const kernel = Math.max(1, Math.min(layer1Size, Math.round(18 * s)));
  const stride = Math.max(1, Math.round(12 * s));
  return { kernel, stride };
}

/** Output side of a valid (unpadded) pooling. */
export function pooledSide(size: number, kernel: number, stride: number): number {
  return Math.floor((size - kernel) / stride) + 1;
}

/** In-place L2 normalisation of each row of a [n, dim] matrix (eps 1e-12 like torch's normalize). */
export function l2NormalizeRows(x: Float32Array, n: number, dim: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let d = 0; d < dim; d++) s += x[o + d] * x[o + d];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dim; d++) x[o + d] *= inv;
  }
}

/**
 * Per-class standardisation before the initial clustering (docs/porting.md#mic-clustering), in place on [n, dim].
 * Every mode subtracts the class mean (the original's `no_norm` still centres — a kept quirk); `mstd` also divides
 * by the per-class, per-dimension population std.
 * Porting note: the original divides by zero for singleton classes / constant dimensions; we leave such
 * dimensions un-scaled (std treated as 1).
 */
export function standardiseByClass(x: Float32Array, n: number, dim: number, labels: Int32Array, mode: 'mean' | 'mstd' | 'no_norm'): void {
  let nClasses = 0;
  for (let i = 0; i < n; i++) nClasses = Math.max(nClasses, labels[i] + 1);
  const mean = new Float64Array(nClasses * dim);
  const count = new Float64Array(nClasses);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    count[c]++;
    for (let d = 0; d < dim; d++) mean[c * dim + d] += x[i * dim + d];
  }
  for (let c = 0; c < nClasses; c++) if (count[c] > 0) for (let d = 0; d < dim; d++) mean[c * dim + d] /= count[c];
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let d = 0; d < dim; d++) x[i * dim + d] -= mean[c * dim + d];
  }
  if (mode !== 'mstd') return;
  const varSum = new Float64Array(nClasses * dim);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let d = 0; d < dim; d++) varSum[c * dim + d] += x[i * dim + d] ** 2;
  }
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let d = 0; d < dim; d++) {
      const sd = Math.sqrt(varSum[c * dim + d] / count[c]);
      if (sd > 1e-12) x[i * dim + d] /= sd;
    }
  }
}

/**
 * The re-clustering counter (docs/porting.md#mic-reclustering): starts at 0; after each epoch's evaluation, if it equals `freq` the Shared
 * embeddings are re-clustered and it resets to 0, else it increments. freq 3 → after epochs 3, 7, 11, … (0-based).
 */
export class ReclusterSchedule {
  constructor(
    readonly freq: number,
    public counter = 0,
  ) {}

  /** Call once after each epoch; true when this epoch ends with a re-clustering. */
  afterEpoch(): boolean {
    if (this.counter === this.freq) {
      this.counter = 0;
      return true;
    }
    this.counter++;
    return false;
  }
}

/** Number of distinct labels (the size of the Shared β vector is fixed from the initial clustering). */
export function countDistinct(labels: Int32Array): number {
  return new Set(labels).size;
}

/** Relabel to contiguous 0..m-1 in order of first appearance of each label value sorted ascending. */
export function compactLabels(labels: Int32Array): Int32Array {
  const values = [...new Set(labels)].sort((a, b) => a - b);
  const map = new Map(values.map((v, i) => [v, i]));
  return Int32Array.from(labels, (v) => map.get(v)!);
}
