// Port of: MIC `losses.py` MarginLoss (docs/porting.md#loss-margin)
/**
 * Margin loss (Wu et al., "Sampling Matters") with a learnable class margin β per class:
 *   pos_i = max(0, d_ap − β_{y_a} + α),  neg_i = max(0, β_{y_a} − d_an + α),
 *   L = Σ_i (pos_i + neg_i) / count,  d = sqrt(‖·‖² + 1e-8).
 * count = active positive terms + active negative terms ('terms', the paper-era PyTorch 1.0 behaviour) or
 * triplets with any active term ('triplets', PyTorch ≥ 1.2); L = 0 when nothing is active.
 */
import * as tf from '@tensorflow/tfjs';
import { BaseLoss, connectedZero, mineBatch, miningParts } from './base-loss.ts';
import { rowMarginDistance, selectEntries, selectRows } from './distances.ts';
import type { Loss, LossOptions, LossOutput, MarginCount, Miner } from './types.ts';

/** Options of {@link MarginLoss}; defaults are MIC's. */
export interface MarginLossOptions {
  /** Classes of the task (Class: train classes; Shared: clusters) = length of β. */
  numClasses: number;
  /** Tuple miner (one triplet per anchor in MIC). */
  miner: Miner;
  /** α; default 0.2. */
  margin?: number;
  /** Initial β for every class; default 1.2. */
  beta?: number;
  /** Normaliser convention; default 'terms'. */
  marginCount?: MarginCount;
}

/** `--losses marginloss`. Variable: β [numClasses] (state name 'beta', lr group 'beta'). */
export class MarginLoss extends BaseLoss {
  readonly key = 'marginloss';
  readonly lrKind = 'beta' as const;
  /** β: [numClasses]. */
  readonly beta: tf.Variable;
  readonly margin: number;
  readonly marginCount: MarginCount;
  readonly miner: Miner;

  constructor(options: MarginLossOptions) {
    super(options.numClasses);
    this.miner = options.miner;
    this.margin = options.margin ?? 0.2;
    this.marginCount = options.marginCount ?? 'terms';
    // tidy: tf.variable copies its initial value, which would otherwise stay allocated.
    this.beta = tf.tidy(() => tf.variable(tf.fill([options.numClasses], options.beta ?? 1.2), true));
  }

  protected namedVariables(): Map<string, tf.Variable> {
    return new Map([['beta', this.beta]]);
  }

  protected computeLoss(emb: tf.Tensor2D, labels: Int32Array): LossOutput {
    const t = mineBatch(this.miner, emb, labels);
    const mined = miningParts(t);
    if (t.anchors.length === 0) {
      return { total: connectedZero(emb, this.variables), parts: { ...mined, activePos: 0, activeNeg: 0, normalizer: 0 } };
    }
    const anchors = selectRows(emb, t.anchors);
    const dAP = rowMarginDistance(anchors, selectRows(emb, t.positives));
    const dAN = rowMarginDistance(anchors, selectRows(emb, t.negatives));
    const betaA = selectEntries(
      this.beta as tf.Tensor1D,
      Int32Array.from(t.anchors, (a) => labels[a]),
    );
    const pos = tf.relu(tf.add(tf.sub(dAP, betaA), this.margin));
    const neg = tf.relu(tf.add(tf.sub(betaA, dAN), this.margin));
    // The normaliser is a count, not differentiated; reading the few values here also gives the log numbers.
    const posV = pos.dataSync();
    const negV = neg.dataSync();
    let activePos = 0;
    let activeNeg = 0;
    let activeTriplets = 0;
    for (let k = 0; k < posV.length; k++) {
      if (posV[k] > 0) activePos++;
      if (negV[k] > 0) activeNeg++;
      if (posV[k] > 0 || negV[k] > 0) activeTriplets++;
    }
    const count = this.marginCount === 'terms' ? activePos + activeNeg : activeTriplets;
    // With count = 0 every term is 0, so dividing by 1 gives the defined L = 0 (and no NaN).
    const total = tf.div(tf.sum(tf.add(pos, neg)), Math.max(count, 1)) as tf.Scalar;
    return { total, parts: { ...mined, activePos, activeNeg, normalizer: count } };
  }
}

/** The registry's factory (`--losses marginloss`, docs/architecture.md#add-loss). */
export function createLoss(o: LossOptions, miner: Miner): Loss {
  return new MarginLoss({ numClasses: o.numClasses, miner, margin: o.margin, beta: o.beta, marginCount: o.marginCount });
}
