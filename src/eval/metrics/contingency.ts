/**
 * Contingency counts between two labelings of the same n items, shared by NMI (docs/porting.md#eval-nmi) and F1 (docs/porting.md#eval-f1).
 * Sparse: only non-empty (class, cluster) cells are stored, in a Map keyed by the pair, so SOP's
 * 11k × 11k table costs O(n), not O(classes × clusters).
 */
import { assert } from '../../errors.ts';

export interface Contingency {
  n: number;
  /** Items per distinct value of the first labeling (n_c), in first-seen order. */
  rowSums: Float64Array;
  /** Items per distinct value of the second labeling (m_k), in first-seen order. */
  colSums: Float64Array;
  /** Non-empty cell counts t_ck (order unspecified). */
  cells: Float64Array;
  /** Row index of each entry of `cells`. */
  cellRows: Int32Array;
  /** Column index of each entry of `cells`. */
  cellCols: Int32Array;
}

/** Map arbitrary integer labels to 0..m-1 in first-seen order. */
export function compactLabels(labels: ArrayLike<number>): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = map.get(labels[i]);
    if (id === undefined) {
      id = map.size;
      map.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}

/** Contingency table of labelings `a` (rows) and `b` (columns), both of length n. */
export function contingency(a: ArrayLike<number>, b: ArrayLike<number>): Contingency {
  assert(a.length === b.length, `contingency: labelings have lengths ${a.length} and ${b.length}`);
  const n = a.length;
  const ra = compactLabels(a);
  const rb = compactLabels(b);
  const rowSums = new Float64Array(ra.count);
  const colSums = new Float64Array(rb.count);
  const cellIndex = new Map<number, number>();
  const counts: number[] = [];
  const rows: number[] = [];
  const cols: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = ra.ids[i];
    const c = rb.ids[i];
    rowSums[r]++;
    colSums[c]++;
    // r·count_b + c < 2^53 for any realistic label count, so the key is exact.
    const key = r * rb.count + c;
    const at = cellIndex.get(key);
    if (at === undefined) {
      cellIndex.set(key, counts.length);
      counts.push(1);
      rows.push(r);
      cols.push(c);
    } else {
      counts[at]++;
    }
  }
  return {
    n,
    rowSums,
    colSums,
    cells: Float64Array.from(counts),
    cellRows: Int32Array.from(rows),
    cellCols: Int32Array.from(cols),
  };
}
