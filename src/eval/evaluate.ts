// Port of: the original's evaluate_one_dataset / evaluate_query_and_gallery_dataset / evaluate_multiple_datasets (docs/porting.md#evaluation)
/**
 * Evaluation protocols on already computed embeddings. The manifest decides the protocol, never the dataset
 * name: items carrying a `set` are evaluated set by set (columns prefixed `Set 0 `, `Set 1 `, …, in
 * ascending set order); inside a group, items carrying a `role` are searched query → gallery, otherwise
 * all-vs-all with the query excluded by index (or the re-ID protocol on request).
 *
 * Every group reports, in the column order of the original CSV (docs/porting.md#csv-logs): `NMI`, `F1`, `Recall @ k`… then
 * mic-train's additions `MAP@R` and `R-Precision`. NMI and F1 use one k-means run (20 iterations, all points)
 * with k = the number of distinct query labels, on all of the group's items (query ∪ gallery).
 */
import { assert, UserError } from '../errors.ts';
import type { ManifestItem } from '../data/manifest.ts';
import type { Rng } from '../rng.ts';
import { kmeans } from './kmeans.ts';
import { pairwiseF1 } from './metrics/f1.ts';
import { nmi, type NmiAverage } from './metrics/nmi.ts';
import { retrievalPass } from './retrieval.ts';

/** How groups without query/gallery roles are searched. */
export type GroupProtocol = 'allvsall' | 'reid';

export interface EvaluateOptions {
  /** Recall@k values (the dataset default or --k_vals). */
  kVals: readonly number[];
  /** NMI normalisation (default 'geometric', docs/porting.md#eval-nmi). */
  nmiAverage?: NmiAverage;
  /** k-means initialisation and, for 'reid', the gallery draw. */
  rng: Rng;
  /** Role-less groups: 'allvsall' (the original) or 'reid' (one random gallery image per label). Default 'allvsall'. */
  protocol?: GroupProtocol;
  /** k-means iterations for NMI/F1 (default 20, docs/porting.md#eval-nmi). */
  kmeansIters?: number;
  /** Skip k-means, NMI and F1 (they are reported as NaN). */
  skipClustering?: boolean;
  /** Neighbours kept per query for the recoveries picture (default 3). */
  keepNeighbours?: number;
  /** Byte budget of one score block. */
  budgetBytes?: number;
}

/** Neighbour lists of one group, for the sample-recoveries picture (all indices are embedding rows). */
export interface GroupRecoveries {
  /** Column prefix of the group ('' or 'Set 0 ', …). */
  prefix: string;
  /** Embedding rows of the group's queries [nq]. */
  queryRows: Int32Array;
  /** Embedding rows of the group's search database [ndb] (= queryRows for all-vs-all). */
  galleryRows: Int32Array;
  /** [nq, keep] embedding rows of each query's nearest neighbours (itself excluded), −1 padded. */
  neighbours: Int32Array;
  keep: number;
}

export interface EvaluationResult {
  /** Metric name → value in [0, 1], in column order. */
  metrics: Record<string, number>;
  columns: string[];
  recoveries: GroupRecoveries[];
  /** Wall seconds per part, summed over groups. */
  timings: { retrieval: number; kmeans: number; clusterMetrics: number };
}

/** Column name of Recall@k as in the original CSV. */
export function recallColumn(k: number): string {
  return `Recall @ ${k}`;
}

/** Columns of one group in order: NMI, F1, Recall @ k…, MAP@R, R-Precision. */
export function metricColumns(kVals: readonly number[], prefix = ''): string[] {
  return ['NMI', 'F1', ...kVals.map(recallColumn), 'MAP@R', 'R-Precision'].map((c) => prefix + c);
}

/** One protocol group: rows into the embedding matrix. */
interface Group {
  prefix: string;
  /** All rows of the group (clustered for NMI/F1). */
  rows: Int32Array;
  queryRows: Int32Array;
  galleryRows: Int32Array;
}

/** All-vs-all (CUB, CARS, SOP, a folder dataset): every item is a query and a reference, itself excluded. */
export function evaluateAllVsAll(embeddings: Float32Array, labels: ArrayLike<number>, opts: EvaluateOptions, prefix = ''): EvaluationResult {
  const rows = rangeRows(labels.length);
  return runGroups(embeddings, labels, [{ prefix, rows, queryRows: rows, galleryRows: rows }], opts);
}

/**
 * Query → gallery (In-Shop). `queryRows` and `galleryRows` index the embedding matrix; a row in both is
 * never its own neighbour.
 */
export function evaluateQueryGallery(
  embeddings: Float32Array,
  labels: ArrayLike<number>,
  queryRows: Int32Array,
  galleryRows: Int32Array,
  opts: EvaluateOptions,
  prefix = '',
): EvaluationResult {
  const rows = unionRows(queryRows, galleryRows);
  return runGroups(embeddings, labels, [{ prefix, rows, queryRows, galleryRows }], opts);
}

/**
 * Evaluate the embeddings of `items` (row i of `embeddings` [n, dim] belongs to items[i]) with the
 * protocol their sets and roles imply (see the file comment).
 */
export function evaluateManifest(embeddings: Float32Array, items: readonly ManifestItem[], opts: EvaluateOptions): EvaluationResult {
  const n = items.length;
  if (n === 0) throw new UserError('evaluation: the evaluated split has no images');
  assert(embeddings.length % n === 0, `evaluateManifest: ${embeddings.length} values for ${n} items`);
  const labels = Int32Array.from(items, (it) => it.label);
  const setValues = [...new Set(items.map((it) => it.set))];
  assert(setValues.length === 1 || !setValues.includes(undefined), 'evaluateManifest: some test items have a set and others not');
  const sets = setValues.includes(undefined) ? [undefined] : (setValues as number[]).sort((a, b) => a - b);
  const groups: Group[] = sets.map((set, g) => {
    const prefix = set === undefined ? '' : `Set ${g} `;
    const rows = Int32Array.from(items.keys()).filter((i) => items[i].set === set);
    if (rows.some((i) => items[i].role !== undefined)) {
      return {
        prefix,
        rows,
        queryRows: rows.filter((i) => items[i].role !== 'gallery'),
        galleryRows: rows.filter((i) => items[i].role !== 'query'),
      };
    }
    if ((opts.protocol ?? 'allvsall') === 'reid') return { prefix, rows, ...reidSplit(rows, labels, opts.rng) };
    return { prefix, rows, queryRows: rows, galleryRows: rows };
  });
  return runGroups(embeddings, labels, groups, opts);
}

/**
 * Re-ID split of one group (the usual VehicleID protocol, not the original's): per label (ascending) one
 * random item becomes the gallery image, the others are queries. Labels with a single item give no query.
 */
export function reidSplit(rows: Int32Array, labels: ArrayLike<number>, rng: Rng): { queryRows: Int32Array; galleryRows: Int32Array } {
  const byLabel = new Map<number, number[]>();
  for (const r of rows) {
    const list = byLabel.get(labels[r]);
    if (list) list.push(r);
    else byLabel.set(labels[r], [r]);
  }
  const queries: number[] = [];
  const gallery: number[] = [];
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const members = byLabel.get(label)!;
    const pick = rng.int(members.length);
    members.forEach((r, j) => (j === pick ? gallery : queries).push(r));
  }
  return { queryRows: Int32Array.from(queries).sort(), galleryRows: Int32Array.from(gallery).sort() };
}

function runGroups(embeddings: Float32Array, labels: ArrayLike<number>, groups: Group[], opts: EvaluateOptions): EvaluationResult {
  const n = labels.length;
  assert(n > 0 && embeddings.length % n === 0, `evaluate: ${embeddings.length} values for ${n} labels`);
  const dim = embeddings.length / n;
  const metrics: Record<string, number> = {};
  const columns: string[] = [];
  const recoveries: GroupRecoveries[] = [];
  const timings = { retrieval: 0, kmeans: 0, clusterMetrics: 0 };
  for (const g of groups) {
    const where = g.prefix ? `test set "${g.prefix.trim()}"` : 'the evaluated split';
    if (g.queryRows.length === 0) throw new UserError(`evaluation: ${where} has no query images`);
    if (g.galleryRows.length === 0) throw new UserError(`evaluation: ${where} has no gallery images`);

    const t0 = performance.now();
    const exclude = selfExclusion(g.queryRows, g.galleryRows);
    const queryLabels = gatherLabels(labels, g.queryRows);
    const galleryLabels = gatherLabels(labels, g.galleryRows);
    const queries = gatherRows(embeddings, g.queryRows, dim);
    const gallery = g.galleryRows === g.queryRows ? queries : gatherRows(embeddings, g.galleryRows, dim);
    const ret = retrievalPass(queries, queryLabels, gallery, galleryLabels, dim, {
      kVals: opts.kVals,
      exclude,
      keepNeighbours: opts.keepNeighbours,
      budgetBytes: opts.budgetBytes,
    });
    const t1 = performance.now();
    timings.retrieval += (t1 - t0) / 1000;

    let nmiValue = NaN;
    let f1Value = NaN;
    if (!opts.skipClustering) {
      const groupLabels = gatherLabels(labels, g.rows);
      const k = new Set(queryLabels).size;
      const km = kmeans(gatherRows(embeddings, g.rows, dim), g.rows.length, dim, k, {
        iters: opts.kmeansIters ?? 20,
        rng: opts.rng,
        budgetBytes: opts.budgetBytes,
      });
      const t2 = performance.now();
      timings.kmeans += (t2 - t1) / 1000;
      nmiValue = nmi(groupLabels, km.assignments, opts.nmiAverage ?? 'geometric');
      f1Value = pairwiseF1(groupLabels, km.assignments);
      timings.clusterMetrics += (performance.now() - t2) / 1000;
    }

    const values = [nmiValue, f1Value, ...ret.recall, ret.mapAtR, ret.rPrecision];
    metricColumns(opts.kVals, g.prefix).forEach((c, i) => {
      metrics[c] = values[i];
      columns.push(c);
    });
    const neighbours = ret.neighbours.map((id) => (id >= 0 ? g.galleryRows[id] : -1));
    recoveries.push({ prefix: g.prefix, queryRows: g.queryRows, galleryRows: g.galleryRows, neighbours, keep: ret.keepNeighbours });
  }
  return { metrics, columns, recoveries, timings };
}

/** For each query row, its position in the gallery rows (the same item), or −1; undefined if none overlap. */
function selfExclusion(queryRows: Int32Array, galleryRows: Int32Array): Int32Array | undefined {
  const at = new Map<number, number>();
  galleryRows.forEach((r, j) => at.set(r, j));
  const ex = new Int32Array(queryRows.length);
  let any = false;
  queryRows.forEach((r, i) => {
    const j = at.get(r);
    ex[i] = j ?? -1;
    if (j !== undefined) any = true;
  });
  return any ? ex : undefined;
}

function rangeRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function unionRows(a: Int32Array, b: Int32Array): Int32Array {
  return Int32Array.from(new Set([...a, ...b])).sort();
}

function gatherLabels(labels: ArrayLike<number>, rows: Int32Array): Int32Array {
  return rows.map((r) => labels[r]);
}

/** Rows of a [n, dim] matrix; the matrix itself when `rows` is 0..n-1. */
function gatherRows(x: Float32Array, rows: Int32Array, dim: number): Float32Array {
  if (rows.length * dim === x.length && rows.every((r, i) => r === i)) return x;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}
