// Port of: the intended TupleSampler.semihardsampling of the MIC/B/Rev family (docs/porting.md#miner-semihard)
/**
 * Semihard sampling: per anchor a uniform positive, then a uniform negative from the band
 * d_ap < d_an < d_ap + margin; when the band is empty, a uniform negative from all negatives.
 * Porting note: MIC HEAD crashes here (undefined margin); we use the loss margin as Rev does.
 */
import type { Rng } from '../../rng.ts';
import type { Miner, MinerOptions } from '../types.ts';
import { BaseMiner, type MinedTriplets, type MiningContext, usableAnchors } from './base-miner.ts';

/** `--sampling semihard`; `margin` is the loss margin α (default 0.2). */
export class SemihardMiner extends BaseMiner {
  readonly key = 'semihard';

  constructor(
    rng: Rng,
    readonly margin = 0.2,
  ) {
    super(rng);
  }

  protected select(ctx: MiningContext): MinedTriplets {
    const anchors = usableAnchors(ctx);
    const positives = new Int32Array(anchors.length);
    const negatives = new Int32Array(anchors.length);
    let fallbacks = 0;
    anchors.forEach((a, k) => {
      const pos = ctx.positivesOf[a];
      const p = pos[this.rng.int(pos.length)];
      positives[k] = p;
      const row = a * ctx.batch;
      const dAP = ctx.dist[row + p];
      const neg = ctx.negativesOf[a];
      const band = neg.filter((j) => ctx.dist[row + j] > dAP && ctx.dist[row + j] < dAP + this.margin);
      if (band.length > 0) negatives[k] = band[this.rng.int(band.length)];
      else {
        fallbacks++;
        negatives[k] = neg[this.rng.int(neg.length)];
      }
    });
    return { anchors: Int32Array.from(anchors), positives, negatives, fallbacks };
  }
}

/** The registry's factory (`--sampling semihard`, docs/architecture.md#add-miner): the band is the loss margin. */
export function createMiner(o: MinerOptions): Miner {
  return new SemihardMiner(o.rng, o.margin);
}
