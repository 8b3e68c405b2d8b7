/**
 * Memory bounds for blocked distance computations (kNN and k-means assignment, docs/porting.md#eval-knn).
 * Evaluation never holds an [n, n] or [n, k] score matrix: query rows are processed in blocks whose
 * score matrix fits a byte budget, so SOP-scale data (60k × 60k) stays at a few hundred MB.
 */
import { assert } from '../errors.ts';

/** Default budget for one block's score matrix and its temporaries (256 MiB). */
export const DEFAULT_BLOCK_BUDGET_BYTES = 256 * 2 ** 20;

/**
 * Bytes one score cell costs while a block is live: the float32 matmul output plus one same-sized
 * temporary that a backend's top-k/argmax may allocate (the wasm TopK kernel copies its input row-wise;
 * counting a full copy keeps the bound conservative on every backend).
 */
export const BYTES_PER_SCORE_CELL = 8;

export interface BlockRowsOptions {
  /** Byte budget for one block (default `DEFAULT_BLOCK_BUDGET_BYTES`). */
  budgetBytes?: number;
  /** Extra bytes per row on top of the score cells (e.g. the [rows, k] top-k ids and values). */
  extraBytesPerRow?: number;
}

/**
 * Number of query rows per block so that a [rows, cols] score block plus per-row extras fits the budget.
 * At least 1 (a single row always runs, even over budget, so a huge database still works) and at most
 * `totalRows`.
 * @param cols   width of the score matrix (database size for kNN, number of centroids for k-means)
 * @param totalRows number of query rows to cover
 */
export function blockRows(cols: number, totalRows: number, opts: BlockRowsOptions = {}): number {
  assert(Number.isInteger(cols) && cols >= 1, `blockRows: cols must be a positive integer, got ${cols}`);
  assert(Number.isInteger(totalRows) && totalRows >= 0, `blockRows: totalRows must be a non-negative integer, got ${totalRows}`);
  const budget = opts.budgetBytes ?? DEFAULT_BLOCK_BUDGET_BYTES;
  assert(budget > 0, `blockRows: budgetBytes must be positive, got ${budget}`);
  const perRow = cols * BYTES_PER_SCORE_CELL + (opts.extraBytesPerRow ?? 0);
  const rows = Math.floor(budget / perRow);
  return Math.max(1, Math.min(Math.max(totalRows, 1), rows));
}

/** Bytes a block of `rows` × `cols` occupies under the same accounting as `blockRows`. */
export function blockBytes(rows: number, cols: number, extraBytesPerRow = 0): number {
  return rows * (cols * BYTES_PER_SCORE_CELL + extraBytesPerRow);
}
