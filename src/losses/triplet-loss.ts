// Port of: MIC `losses.py` TripletLoss (docs/porting.md#loss-triplet)
/**
 * Triplet loss on squared Euclidean distances of unit vectors:
 *   L = mean_i max(0, ‖a−p‖² − ‖a−n‖² + margin). No learnable parameters.
 */
import * as tf from '@tensorflow/tfjs';
import { BaseLoss, connectedZero, mineBatch, miningParts } from './base-loss.ts';
import { rowSquaredDistance, selectRows } from './distances.ts';
import type { Loss, LossOptions, LossOutput, Miner } from './types.ts';

/** Options of {@link TripletLoss}. */
export interface TripletLossOptions {
  numClasses: number;
  miner: Miner;
  /** Margin; default 0.2. */
  margin?: number;
}

/** `--losses triplet`. */
export class TripletLoss extends BaseLoss {
  readonly key = 'triplet';
  readonly lrKind = null;
  readonly margin: number;
  readonly miner: Miner;

  constructor(options: TripletLossOptions) {
    super(options.numClasses);
    this.miner = options.miner;
    this.margin = options.margin ?? 0.2;
  }

  protected namedVariables(): Map<string, tf.Variable> {
    return new Map();
  }

  protected computeLoss(emb: tf.Tensor2D, labels: Int32Array): LossOutput {
    const t = mineBatch(this.miner, emb, labels);
    const parts = miningParts(t);
    if (t.anchors.length === 0) return { total: connectedZero(emb, []), parts: { ...parts, activeTriplets: 0 } };
    const anchors = selectRows(emb, t.anchors);
    const dAP = rowSquaredDistance(anchors, selectRows(emb, t.positives));
    const dAN = rowSquaredDistance(anchors, selectRows(emb, t.negatives));
    const hinge = tf.relu(tf.add(tf.sub(dAP, dAN), this.margin));
    const activeTriplets = Array.from(hinge.dataSync()).filter((v) => v > 0).length;
    return { total: tf.mean(hinge) as tf.Scalar, parts: { ...parts, activeTriplets } };
  }
}

/** The registry's factory (`--losses triplet`, docs/architecture.md#add-loss). */
export function createLoss(o: LossOptions, miner: Miner): Loss {
  return new TripletLoss({ numClasses: o.numClasses, miner, margin: o.margin });
}
