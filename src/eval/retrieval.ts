/**
 * One blocked kNN pass that yields every retrieval metric at once (docs/porting.md#eval-recall, docs/porting.md#eval-map-at-r): each block
 * of neighbour lists is reduced to per-query first-hit ranks (Recall@k), AP@R / R-precision, and the first
 * few neighbours (for the sample-recoveries picture), then dropped. Memory stays at one score block plus
 * O(nq) results, whatever k or R is.
 */
import { assert } from '../errors.ts';
import { knnBlocks } from './knn.ts';
import { averagePrecisionAtR, MapAtRAccumulator } from './metrics/map-at-r.ts';
import { firstHitRank, recallAtK } from './metrics/recall.ts';

export interface RetrievalOptions {
  /** Recall@k values. */
  kVals: readonly number[];
  /** Per query, the database row to skip (its own row in all-vs-all search) or −1; absent = none. */
  exclude?: Int32Array;
  /** Neighbours kept per query for the recoveries picture (default 3). */
  keepNeighbours?: number;
  /** Byte budget of one score block. */
  budgetBytes?: number;
}

export interface RetrievalResult {
  /** Recall@k, one per entry of kVals. */
  recall: number[];
  /** MAP@R and R-precision over queries with at least one relevant reference (NaN if none). */
  mapAtR: number;
  rPrecision: number;
  /** Queries that had at least one relevant reference. */
  queriesWithRelevant: number;
  /** [nq] 0-based rank of each query's first same-label neighbour, −1 if none within max(kVals). */
  firstHits: Int32Array;
  /** [nq, keepNeighbours] database rows, nearest first, −1 padded. */
  neighbours: Int32Array;
  keepNeighbours: number;
  /** Depth of the search actually run: max(max kVals, max R, keepNeighbours). */
  searchDepth: number;
}

/**
 * Relevant-reference counts R per query: database items sharing the query's label, minus the excluded row
 * when it has that label (the query itself in all-vs-all search).
 */
export function relevantCounts(queryLabels: ArrayLike<number>, dbLabels: ArrayLike<number>, exclude?: Int32Array): Int32Array {
  const perLabel = new Map<number, number>();
  for (let i = 0; i < dbLabels.length; i++) perLabel.set(dbLabels[i], (perLabel.get(dbLabels[i]) ?? 0) + 1);
  const r = new Int32Array(queryLabels.length);
  for (let q = 0; q < queryLabels.length; q++) {
    let c = perLabel.get(queryLabels[q]) ?? 0;
    const ex = exclude ? exclude[q] : -1;
    if (ex >= 0 && dbLabels[ex] === queryLabels[q]) c--;
    r[q] = c;
  }
  return r;
}

/**
 * Retrieval metrics of queries [nq, dim] against a database [ndb, dim] in one blocked pass.
 */
export function retrievalPass(
  queries: Float32Array,
  queryLabels: ArrayLike<number>,
  db: Float32Array,
  dbLabels: ArrayLike<number>,
  dim: number,
  opts: RetrievalOptions,
): RetrievalResult {
  const nq = queryLabels.length;
  const ndb = dbLabels.length;
  assert(opts.kVals.length > 0, 'retrievalPass: kVals is empty');
  assert(
    opts.kVals.every((k) => Number.isInteger(k) && k >= 1),
    `retrievalPass: kVals must be positive integers, got ${opts.kVals}`,
  );
  const keep = opts.keepNeighbours ?? 3;
  const maxK = Math.max(...opts.kVals);
  const rel = relevantCounts(queryLabels, dbLabels, opts.exclude);
  let maxR = 0;
  for (let q = 0; q < nq; q++) maxR = Math.max(maxR, rel[q]);
  const depth = Math.max(maxK, maxR, keep, 1);

  const firstHits = new Int32Array(nq);
  const neighbours = new Int32Array(nq * keep).fill(-1);
  const acc = new MapAtRAccumulator();
  for (const block of knnBlocks(queries, nq, db, ndb, dim, depth, { exclude: opts.exclude, budgetBytes: opts.budgetBytes })) {
    for (let r = 0; r < block.rows; r++) {
      const q = block.start + r;
      const off = r * depth;
      firstHits[q] = firstHitRank(block.ids, off, maxK, queryLabels[q], dbLabels);
      const { apAtR, rPrecision } = averagePrecisionAtR(block.ids, off, rel[q], queryLabels[q], dbLabels);
      acc.add(apAtR, rPrecision);
      for (let j = 0; j < keep; j++) neighbours[q * keep + j] = block.ids[off + j];
    }
  }
  const { mapAtR, rPrecision } = acc.result();
  return {
    recall: recallAtK(firstHits, opts.kVals),
    mapAtR,
    rPrecision,
    queriesWithRelevant: acc.queries,
    firstHits,
    neighbours,
    keepNeighbours: keep,
    searchDepth: depth,
  };
}
