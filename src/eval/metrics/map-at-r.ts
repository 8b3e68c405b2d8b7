/**
 * MAP@R and R-precision (Musgrave, Belongie, Lim, "A Metric Learning Reality Check", ECCV 2020) — metrics
 * mic-train adds beyond the original. For a query with R relevant references (same label; in all-vs-all
 * search the query itself is not a reference):
 *   R-precision = (number of relevant among the first R neighbours) / R
 *   AP@R        = (1/R) Σ_{i=1..R} P(i)·rel(i),  P(i) = precision over the first i neighbours,
 *                 rel(i) = 1 if neighbour i is relevant else 0,
 * and MAP@R is the mean of AP@R over queries. Queries with R = 0 have no defined value and are left out of
 * both means (they still count for Recall@k).
 */

/** AP@R and R-precision of one query whose ranked neighbours are `ids[offset .. offset+R)`. */
export function averagePrecisionAtR(
  ids: Int32Array,
  offset: number,
  r: number,
  label: number,
  refLabels: ArrayLike<number>,
): { apAtR: number; rPrecision: number } {
  if (r <= 0) return { apAtR: NaN, rPrecision: NaN };
  let relevantSoFar = 0;
  let sumPrecision = 0;
  for (let i = 0; i < r; i++) {
    const id = ids[offset + i];
    if (id >= 0 && refLabels[id] === label) {
      relevantSoFar++;
      sumPrecision += relevantSoFar / (i + 1);
    }
  }
  return { apAtR: sumPrecision / r, rPrecision: relevantSoFar / r };
}

/** Running means of AP@R and R-precision over queries with R > 0. */
export class MapAtRAccumulator {
  private sumAp = 0;
  private sumRp = 0;
  private count = 0;

  add(apAtR: number, rPrecision: number): void {
    if (Number.isNaN(apAtR)) return;
    this.sumAp += apAtR;
    this.sumRp += rPrecision;
    this.count++;
  }

  /** Number of queries that had at least one relevant reference. */
  get queries(): number {
    return this.count;
  }

  /** { mapAtR, rPrecision }; NaN when no query had a relevant reference. */
  result(): { mapAtR: number; rPrecision: number } {
    if (this.count === 0) return { mapAtR: NaN, rPrecision: NaN };
    return { mapAtR: this.sumAp / this.count, rPrecision: this.sumRp / this.count };
  }
}
