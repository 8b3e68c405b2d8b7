// Port of: the faiss `IndexFlatL2` searches of the original's evaluation (docs/porting.md#eval-knn)
/**
 * Blocked exact k-nearest-neighbour search by squared L2 with tfjs matmul + top-k: query rows are taken in
 * blocks sized from a memory budget (`chunking.ts`), each block is scored against the whole database in one
 * matmul and reduced to its top k on the backend, so only [rows, ndb] scores exist at any time and only
 * [rows, k] ids travel back to JS.
 *
 * Ties are broken towards the lower database index (tf.topk's documented order).
 *
 * Porting note: for all-vs-all search the query itself is removed *by index* (the original drops the first
 * returned neighbour, which with duplicate embeddings need not be the query — docs/porting.md#eval-knn).
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../errors.ts';
import { blockRows } from './chunking.ts';
import { queryOperand, referenceOperand } from './scores.ts';

export interface KnnOptions {
  /**
   * Per query, the database row that must not be returned (the query itself in all-vs-all search), or −1.
   * Length nq. Absent = nothing excluded.
   */
  exclude?: Int32Array;
  /** Byte budget of one score block (default `DEFAULT_BLOCK_BUDGET_BYTES`). */
  budgetBytes?: number;
}

/** One block of results: neighbours of queries [start, start+rows). */
export interface KnnBlock {
  start: number;
  rows: number;
  /** Neighbours per query in `ids` (the requested k). */
  k: number;
  /** [rows, k] database row ids, nearest first; −1 where fewer than k candidates exist. */
  ids: Int32Array;
}

/** Rows per block that `knnBlocks` will use for this problem size (exported so tests can bound memory). */
export function knnBlockRows(nq: number, ndb: number, dim: number, k: number, budgetBytes?: number): number {
  // Per row besides the scores: the [k+1] top-k ids and values, and the row's query operand (JS scratch +
  // backend copy).
  return blockRows(ndb, nq, { budgetBytes, extraBytesPerRow: (k + 1) * 8 + 2 * (dim + 1) * 4 });
}

/**
 * Generator over blocks of the k nearest database rows of every query.
 * @param queries [nq, dim] row-major
 * @param db      [ndb, dim] row-major
 */
export function* knnBlocks(
  queries: Float32Array,
  nq: number,
  db: Float32Array,
  ndb: number,
  dim: number,
  k: number,
  opts: KnnOptions = {},
): Generator<KnnBlock> {
  assert(queries.length === nq * dim, `knn: queries hold ${queries.length} values, expected ${nq}×${dim}`);
  assert(db.length === ndb * dim, `knn: database holds ${db.length} values, expected ${ndb}×${dim}`);
  assert(Number.isInteger(k) && k >= 1, `knn: k must be a positive integer, got ${k}`);
  const exclude = opts.exclude;
  assert(!exclude || exclude.length === nq, `knn: exclude has length ${exclude?.length}, expected ${nq}`);
  if (nq === 0 || ndb === 0) {
    if (nq > 0) yield { start: 0, rows: nq, k, ids: new Int32Array(nq * k).fill(-1) };
    return;
  }
  // One extra candidate when a row may have to be excluded, so k remain after removing it.
  const searchK = Math.min(exclude ? k + 1 : k, ndb);
  const rowsPerBlock = knnBlockRows(nq, ndb, dim, k, opts.budgetBytes);
  const scratch = new Float32Array(rowsPerBlock * (dim + 1));
  const ref = referenceOperand(db, ndb, dim);
  try {
    for (let start = 0; start < nq; start += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, nq - start);
      const q = queryOperand(queries, start, rows, dim, scratch);
      const top = tf.tidy(() => tf.topk(tf.matMul(q, ref), searchK, true).indices);
      const found = top.dataSync() as Int32Array;
      tf.dispose([q, top]);
      const ids = new Int32Array(rows * k).fill(-1);
      for (let r = 0; r < rows; r++) {
        const skip = exclude ? exclude[start + r] : -1;
        let w = 0;
        for (let j = 0; j < searchK && w < k; j++) {
          const id = found[r * searchK + j];
          if (id !== skip) ids[r * k + w++] = id;
        }
      }
      yield { start, rows, k, ids };
    }
  } finally {
    ref.dispose();
  }
}

/**
 * All k nearest neighbours as one [nq, k] Int32Array (row-major, nearest first, −1 padded).
 * For large k prefer iterating `knnBlocks` and reducing each block (as `retrievalPass` does).
 */
export function knn(queries: Float32Array, nq: number, db: Float32Array, ndb: number, dim: number, k: number, opts: KnnOptions = {}): Int32Array {
  const out = new Int32Array(nq * k);
  for (const block of knnBlocks(queries, nq, db, ndb, dim, k, opts)) out.set(block.ids, block.start * k);
  return out;
}

/** All-vs-all: every row of `x` [n, dim] against all others, itself excluded by index. Returns [n, k]. */
export function knnAllVsAll(x: Float32Array, n: number, dim: number, k: number, budgetBytes?: number): Int32Array {
  return knn(x, n, x, n, dim, k, { exclude: identityExclusion(n), budgetBytes });
}

/** Query → gallery (disjoint sets, nothing excluded). Returns [nq, k] gallery rows. */
export function knnQueryGallery(
  queries: Float32Array,
  nq: number,
  gallery: Float32Array,
  ng: number,
  dim: number,
  k: number,
  budgetBytes?: number,
): Int32Array {
  return knn(queries, nq, gallery, ng, dim, k, { budgetBytes });
}

/** Exclusion list for all-vs-all search: query i excludes database row i. */
export function identityExclusion(n: number): Int32Array {
  const e = new Int32Array(n);
  for (let i = 0; i < n; i++) e[i] = i;
  return e;
}
