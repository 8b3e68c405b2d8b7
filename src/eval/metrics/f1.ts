// Port of: the original's pairwise clustering F-measure (adapted from HDML) (docs/porting.md#eval-f1)
/**
 * Pairwise F1 of a clustering against the true classes. With n_c the size of class c, m_k the size of
 * cluster k and t_ck their overlap:
 *   TP = Σ_ck C(t_ck, 2),  P = TP / Σ_c C(n_c, 2),  R = TP / Σ_k C(m_k, 2),  F1 = 2PR / (P + R).
 * (The original names P and R the other way round; F1 is symmetric, so the value is the standard one.)
 * Porting note: computed from sparse contingency counts in O(n) instead of the original's
 * O(classes × clusters) Python loops (docs/porting.md#eval-f1).
 */
import { contingency } from './contingency.ts';

function pairs(m: number): number {
  return (m * (m - 1)) / 2;
}

/** Pairwise F1 ∈ [0, 1]; 0 when no pair of items shares both class and cluster. */
export function pairwiseF1(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  const t = contingency(labelsTrue, labelsPred);
  let tp = 0;
  for (let i = 0; i < t.cells.length; i++) tp += pairs(t.cells[i]);
  if (tp === 0) return 0;
  let sameClass = 0;
  for (let i = 0; i < t.rowSums.length; i++) sameClass += pairs(t.rowSums[i]);
  let sameCluster = 0;
  for (let i = 0; i < t.colSums.length; i++) sameCluster += pairs(t.colSums[i]);
  const p = tp / sameClass;
  const r = tp / sameCluster;
  return (2 * p * r) / (p + r);
}
