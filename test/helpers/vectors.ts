/**
 * Shared helpers for the eval tests: seeded data and plain-loop references written independently of
 * src/eval (no matmul, no blocking).
 */
import { Rng } from '../../src/rng.ts';

/** n random unit vectors of dimension dim, optionally pulled towards per-class centres. */
export function unitVectors(rng: Rng, n: number, dim: number, labels?: Int32Array, spread = 1): Float32Array {
  const centres = new Map<number, number[]>();
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let centre: number[] | undefined;
    if (labels) {
      centre = centres.get(labels[i]);
      if (!centre) {
        centre = Array.from({ length: dim }, () => rng.normal());
        centres.set(labels[i], centre);
      }
    }
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const v = (centre ? centre[d] : 0) + spread * rng.normal();
      x[i * dim + d] = v;
      s += v * v;
    }
    for (let d = 0; d < dim; d++) x[i * dim + d] /= Math.sqrt(s);
  }
  return x;
}

export function squaredDistance(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = a[i * dim + d] - b[j * dim + d];
    s += t * t;
  }
  return s;
}

/** Plain-loop kNN in float64: sort all candidates by (distance, index). */
export function naiveKnn(q: Float32Array, nq: number, db: Float32Array, ndb: number, dim: number, k: number, selfExcluded: boolean): Int32Array {
  const out = new Int32Array(nq * k).fill(-1);
  for (let i = 0; i < nq; i++) {
    const cand: [number, number][] = [];
    for (let j = 0; j < ndb; j++) if (!(selfExcluded && i === j)) cand.push([squaredDistance(q, i, db, j, dim), j]);
    cand.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let r = 0; r < Math.min(k, cand.length); r++) out[i * k + r] = cand[r][1];
  }
  return out;
}

/** Nearest row of `c` [k, dim] for each row of `x` [n, dim], float64, ties → lower index. */
export function naiveNearest(x: Float32Array, n: number, c: Float32Array, k: number, dim: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let j = 0; j < k; j++) {
      const dd = squaredDistance(x, i, c, j, dim);
      if (dd < best) {
        best = dd;
        out[i] = j;
      }
    }
  }
  return out;
}

/** Random labels 0..classes-1 with every class present at least `minPerClass` times, shuffled. */
export function balancedLabels(rng: Rng, n: number, classes: number, minPerClass = 2): Int32Array {
  const l = new Int32Array(n);
  for (let i = 0; i < n; i++) l[i] = i < classes * minPerClass ? Math.floor(i / minPerClass) : rng.int(classes);
  rng.shuffle(l);
  return l;
}
