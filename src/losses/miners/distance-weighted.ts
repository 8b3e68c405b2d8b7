// Port of: MIC `losses.py` TupleSampler.distanceweightedsampling (docs/porting.md#miner-distance)
/**
 * Distance-weighted sampling (Wu et al., "Sampling Matters"): one triplet per anchor, a uniform positive and a
 * negative drawn with probability ∝ 1/q(d), q being the density of distances between random points on the
 * unit (n−1)-sphere, so negatives are spread over all distances instead of bunching near √2.
 */
import type { Rng } from '../../rng.ts';
import type { Miner, MinerOptions } from '../types.ts';
import { BaseMiner, type MinedTriplets, type MiningContext, usableAnchors } from './base-miner.ts';

/** Options of {@link DistanceWeightedMiner}; defaults are the MIC values. */
export interface DistanceWeightedOptions {
  /** Distances below this count as this (the paper's lower cut-off); default 0.5. */
  lowerCutoff?: number;
  /** Floor on 1 − d²/4 so d ≥ 2 (antipodal points, rounding) gives a large finite weight, not NaN; default 1e-8. */
  nearTwoEpsilon?: number;
}

export const DEFAULT_LOWER_CUTOFF = 0.5;
export const DEFAULT_NEAR_TWO_EPSILON = 1e-8;

/**
 * log w(d) = (2 − n)·log d − ((n − 3)/2)·log(1 − d²/4) with d clamped below at `lowerCutoff` and 1 − d²/4 clamped
 * below at `nearTwoEpsilon`; n = embedding dim. (No upper cut-off: MIC commented it out.)
 */
export function distanceLogWeight(d: number, n: number, lowerCutoff = DEFAULT_LOWER_CUTOFF, nearTwoEpsilon = DEFAULT_NEAR_TWO_EPSILON): number {
  const dc = Math.max(d, lowerCutoff);
  return (2 - n) * Math.log(dc) - ((n - 3) / 2) * Math.log(Math.max(1 - (dc * dc) / 4, nearTwoEpsilon));
}

/**
 * The negative distribution q_i(j) of one anchor: weights exp(log w(d_ij)) over rows of another label, 0 for
 * rows of the anchor's label (itself included), normalised. distRow: [batch] distances from the anchor.
 */
export function negativeProbabilities(
  distRow: ArrayLike<number>,
  labels: Int32Array,
  anchor: number,
  dim: number,
  options: DistanceWeightedOptions = {},
): Float64Array {
  const cutoff = options.lowerCutoff ?? DEFAULT_LOWER_CUTOFF;
  const eps = options.nearTwoEpsilon ?? DEFAULT_NEAR_TWO_EPSILON;
  const logW = new Float64Array(labels.length);
  let max = -Infinity;
  for (let j = 0; j < labels.length; j++) {
    if (labels[j] === labels[anchor]) continue;
    logW[j] = distanceLogWeight(distRow[j], dim, cutoff, eps);
    max = Math.max(max, logW[j]);
  }
  // Porting note: the maximum is taken over the negatives only (MIC includes the zeroed same-label entries);
  // the normalised result is the same, but this way the largest weight is exactly 1 and can never underflow.
  const prob = new Float64Array(labels.length);
  let total = 0;
  for (let j = 0; j < labels.length; j++) {
    if (labels[j] === labels[anchor]) continue;
    prob[j] = Math.exp(logW[j] - max);
    total += prob[j];
  }
  for (let j = 0; j < labels.length; j++) prob[j] /= total;
  return prob;
}

/** `--sampling distance`: one triplet per anchor that has a positive and a negative. */
export class DistanceWeightedMiner extends BaseMiner {
  readonly key = 'distance';

  constructor(
    rng: Rng,
    private readonly options: DistanceWeightedOptions = {},
  ) {
    super(rng);
  }

  protected select(ctx: MiningContext): MinedTriplets {
    const anchors = usableAnchors(ctx);
    const positives = new Int32Array(anchors.length);
    const negatives = new Int32Array(anchors.length);
    anchors.forEach((a, k) => {
      const pos = ctx.positivesOf[a];
      positives[k] = pos[this.rng.int(pos.length)];
      const row = ctx.dist.subarray(a * ctx.batch, (a + 1) * ctx.batch);
      negatives[k] = this.rng.categorical(negativeProbabilities(row, ctx.labels, a, ctx.dim, this.options));
    });
    return { anchors: Int32Array.from(anchors), positives, negatives, fallbacks: 0 };
  }
}

/** The registry's factory (`--sampling distance`, docs/architecture.md#add-miner). */
export function createMiner(o: MinerOptions): Miner {
  return new DistanceWeightedMiner(o.rng);
}
