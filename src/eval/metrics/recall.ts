// Port of: the original's Recall@k (docs/porting.md#eval-recall)
/**
 * Recall@k: the fraction of queries with at least one same-label item among their first k neighbours.
 * Computed from each query's *first hit* rank (0-based rank of its first same-label neighbour, −1 if none
 * within the searched depth), so one pass over the neighbour lists serves every k at once.
 */
import { assert } from '../../errors.ts';

/**
 * 0-based rank of the first neighbour with label `label`, or −1 (none among the first `depth` entries of
 * `ids`, read from `offset`; −1 ids are padding and never match).
 */
export function firstHitRank(ids: Int32Array, offset: number, depth: number, label: number, refLabels: ArrayLike<number>): number {
  for (let j = 0; j < depth; j++) {
    const id = ids[offset + j];
    if (id >= 0 && refLabels[id] === label) return j;
  }
  return -1;
}

/**
 * Recall@k for each k of `kVals` from per-query first-hit ranks. Queries without any possible match still
 * count (as misses), as in the original.
 */
export function recallAtK(firstHits: Int32Array, kVals: readonly number[]): number[] {
  assert(firstHits.length > 0, 'recallAtK: no queries');
  return kVals.map((k) => {
    let hits = 0;
    for (let i = 0; i < firstHits.length; i++) if (firstHits[i] >= 0 && firstHits[i] < k) hits++;
    return hits / firstHits.length;
  });
}
