// Port of: the original's `normalized_mutual_info_score(cluster_labels, true_labels)` (docs/porting.md#eval-nmi)
/**
 * Normalised mutual information between a clustering and the true classes,
 *   NMI = I(U;V) / norm(H(U), H(V)),
 * with norm = √(H(U)·H(V)) ('geometric', scikit-learn 0.20 — the paper era and our default) or
 * (H(U)+H(V))/2 ('arithmetic', scikit-learn ≥ 0.22). Natural logarithms (the ratio does not depend on the base).
 * Limit cases follow scikit-learn: both labelings a single group (or empty) → 1; I = 0 otherwise → 0.
 */
import { contingency } from './contingency.ts';

export type NmiAverage = 'geometric' | 'arithmetic';

/** Entropy (nats) of a distribution given as counts summing to n. */
function entropy(counts: Float64Array, n: number): number {
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0) h -= (c / n) * Math.log(c / n);
  }
  return h;
}

/** NMI of two labelings of the same items (symmetric in its arguments). */
export function nmi(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, average: NmiAverage = 'geometric'): number {
  const t = contingency(labelsTrue, labelsPred);
  const nRows = t.rowSums.length;
  const nCols = t.colSums.length;
  if ((nRows === 1 && nCols === 1) || t.n === 0) return 1;
  let mi = 0;
  for (let i = 0; i < t.cells.length; i++) {
    const nij = t.cells[i];
    // p_ij · log(p_ij / (p_i p_j)) with p = count / n
    mi += (nij / t.n) * Math.log((nij * t.n) / (t.rowSums[t.cellRows[i]] * t.colSums[t.cellCols[i]]));
  }
  // Independent labelings: I = 0 (rounding may leave a tiny negative value).
  if (mi <= 0) return 0;
  const hTrue = entropy(t.rowSums, t.n);
  const hPred = entropy(t.colSums, t.n);
  const norm = average === 'geometric' ? Math.sqrt(hTrue * hPred) : (hTrue + hPred) / 2;
  return mi / Math.max(norm, Number.EPSILON);
}
