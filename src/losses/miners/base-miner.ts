// Port of: MIC `losses.py` TupleSampler (the shared part of every sampling method) (docs/porting.md#mining-checks)
/**
 * Template for every tuple miner: the public `mine()` checks its inputs, computes the sampler distances and the
 * per-anchor positive/negative lists, lets the subclass choose triplets, counts skipped anchors, and passes the
 * result through the one shared validity check before it leaves.
 */
import { assert } from '../../errors.ts';
import type { Rng } from '../../rng.ts';
import { SAMPLER_MIN_SQUARED_DISTANCE, samplerDistances } from '../distances.ts';
import type { Miner, MiningStats, Triplets } from '../types.ts';

/** Everything a miner needs about one batch. */
export interface MiningContext {
  batch: number;
  dim: number;
  labels: Int32Array;
  /** [batch, batch] row-major sampler distances (docs/porting.md#distances: squared value floored at 1e-4). */
  dist: Float64Array;
  /** positivesOf[i]: rows j ≠ i with labels[j] = labels[i], ascending. */
  positivesOf: Int32Array[];
  /** negativesOf[i]: rows j with labels[j] ≠ labels[i], ascending. */
  negativesOf: Int32Array[];
}

/** What a subclass returns: the chosen triplets plus its own count of band fallbacks (semihard). */
export interface MinedTriplets {
  anchors: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
  fallbacks: number;
}

/** Shared template: subclasses implement only `select`. Every miner draws from the `Rng` it was given. */
export abstract class BaseMiner implements Miner {
  abstract readonly key: string;

  constructor(protected readonly rng: Rng) {}

  /** embeddings: detached [batch, dim] row-major; labels: [batch]. Anchors without positive or negative are skipped. */
  mine(embeddings: Float32Array, dim: number, labels: Int32Array): Triplets {
    assert(Number.isInteger(dim) && dim > 0, () => `${this.key} miner: dim must be a positive integer, got ${dim}`);
    assert(
      embeddings.length === labels.length * dim,
      () => `${this.key} miner: ${embeddings.length} values for ${labels.length} labels × dim ${dim}`,
    );
    const ctx = buildContext(embeddings, dim, labels);
    const mined = this.select(ctx);
    const stats = countSkipped(ctx);
    stats.triplets = mined.anchors.length;
    stats.fallbacks = mined.fallbacks;
    const triplets: Triplets = { anchors: mined.anchors, positives: mined.positives, negatives: mined.negatives, stats };
    checkTriplets(triplets, labels);
    return triplets;
  }

  /** Chooses the triplets of one batch. */
  protected abstract select(ctx: MiningContext): MinedTriplets;
}

/** Anchors that have at least one positive and one negative, in row order. */
export function usableAnchors(ctx: MiningContext): number[] {
  const out: number[] = [];
  for (let i = 0; i < ctx.batch; i++) {
    if (ctx.positivesOf[i].length > 0 && ctx.negativesOf[i].length > 0) out.push(i);
  }
  return out;
}

function buildContext(embeddings: Float32Array, dim: number, labels: Int32Array): MiningContext {
  const batch = labels.length;
  const positivesOf: Int32Array[] = [];
  const negativesOf: Int32Array[] = [];
  for (let i = 0; i < batch; i++) {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let j = 0; j < batch; j++) {
      if (labels[j] !== labels[i]) neg.push(j);
      else if (j !== i) pos.push(j);
    }
    positivesOf.push(Int32Array.from(pos));
    negativesOf.push(Int32Array.from(neg));
  }
  return { batch, dim, labels, dist: samplerDistances(embeddings, dim), positivesOf, negativesOf };
}

const DISTANCE_FLOOR = Math.sqrt(SAMPLER_MIN_SQUARED_DISTANCE);

function countSkipped(ctx: MiningContext): MiningStats {
  const stats: MiningStats = { anchors: ctx.batch, triplets: 0, noPositive: 0, noNegative: 0, collapsed: 0, fallbacks: 0 };
  for (let i = 0; i < ctx.batch; i++) {
    const neg = ctx.negativesOf[i];
    if (ctx.positivesOf[i].length === 0) stats.noPositive++;
    else if (neg.length === 0) stats.noNegative++;
    else if (neg.every((j) => ctx.dist[i * ctx.batch + j] <= DISTANCE_FLOOR)) stats.collapsed++;
  }
  return stats;
}

/**
 * The one validity check on every miner's output: equal lengths, indices inside the batch, a ≠ p,
 * same label for a/p, different label for a/n. A failure is a miner bug (InternalError).
 */
export function checkTriplets(t: Triplets, labels: Int32Array): void {
  const n = t.anchors.length;
  assert(t.positives.length === n && t.negatives.length === n, () => `triplets: lengths differ (${n}, ${t.positives.length}, ${t.negatives.length})`);
  for (let k = 0; k < n; k++) {
    const a = t.anchors[k];
    const p = t.positives[k];
    const q = t.negatives[k];
    assert(
      [a, p, q].every((i) => i >= 0 && i < labels.length),
      () => `triplet ${k} (${a}, ${p}, ${q}) indexes outside a batch of ${labels.length}`,
    );
    assert(a !== p, () => `triplet ${k}: anchor ${a} is its own positive`);
    assert(labels[a] === labels[p], () => `triplet ${k}: positive ${p} has label ${labels[p]}, anchor ${a} has ${labels[a]}`);
    assert(labels[a] !== labels[q], () => `triplet ${k}: negative ${q} shares label ${labels[a]} with anchor ${a}`);
  }
}

/**
 * One-line warning for the logs when a batch could not be mined fully, or null when all is well.
 * E.g. "3 of 32 anchors skipped (no positive: 1, no negative: 2)".
 */
export function miningWarning(stats: MiningStats): string | null {
  const skipped = stats.noPositive + stats.noNegative;
  const bits: string[] = [];
  if (skipped > 0) {
    bits.push(`${skipped} of ${stats.anchors} anchors skipped (no positive: ${stats.noPositive}, no negative: ${stats.noNegative})`);
  }
  if (stats.collapsed > 0) bits.push(`${stats.collapsed} anchors have every negative at distance ≤ ${DISTANCE_FLOOR} (collapsed embeddings)`);
  return bits.length > 0 ? bits.join('; ') : null;
}
