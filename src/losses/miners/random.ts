// Port of: MIC `losses.py` TupleSampler.randomsampling (docs/porting.md#miner-random)
/**
 * Random sampling: every valid triplet of the batch (a ≠ p same label, n another label) is a candidate;
 * `batch` of them are drawn uniformly without replacement (all of them when there are fewer).
 */
import type { Miner, MinerOptions } from '../types.ts';
import { BaseMiner, type MinedTriplets, type MiningContext } from './base-miner.ts';

/** `--sampling random`. */
export class RandomMiner extends BaseMiner {
  readonly key = 'random';

  protected select(ctx: MiningContext): MinedTriplets {
    // Candidates are numbered anchor by anchor (positive-major), so one integer names a triplet and the
    // candidate list (36,288 for 28 classes × 4) never has to be built.
    const firstOf = new Float64Array(ctx.batch + 1);
    for (let a = 0; a < ctx.batch; a++) {
      firstOf[a + 1] = firstOf[a] + ctx.positivesOf[a].length * ctx.negativesOf[a].length;
    }
    const total = firstOf[ctx.batch];
    const picks = this.rng.sampleWithoutReplacement(total, Math.min(ctx.batch, total));
    const anchors = new Int32Array(picks.length);
    const positives = new Int32Array(picks.length);
    const negatives = new Int32Array(picks.length);
    picks.forEach((c, k) => {
      let a = 0;
      while (c >= firstOf[a + 1]) a++;
      const offset = c - firstOf[a];
      const neg = ctx.negativesOf[a];
      anchors[k] = a;
      positives[k] = ctx.positivesOf[a][Math.floor(offset / neg.length)];
      negatives[k] = neg[offset % neg.length];
    });
    return { anchors, positives, negatives, fallbacks: 0 };
  }
}

/** The registry's factory (`--sampling random`, docs/architecture.md#add-miner). */
export function createMiner(o: MinerOptions): Miner {
  return new RandomMiner(o.rng);
}
