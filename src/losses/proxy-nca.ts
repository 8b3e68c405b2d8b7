// Port of: MIC `losses.py` ProxyNCALoss (docs/porting.md#loss-proxynca)
/**
 * ProxyNCA (Movshovitz-Attias et al.): one learnable proxy per class. Samples and proxies are L2-normalised and
 * scaled by 3; with d_c = ‖3x̂ − 3p̂_c‖²,
 *   L = mean_i [ d_{y_i} + log Σ_{c ≠ y_i} exp(−d_c) ]   (the positive proxy is not in the denominator).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { l2Normalize } from '../models/layers.ts';
import type { Rng } from '../rng.ts';
import { BaseLoss } from './base-loss.ts';
import { oneHotMatrix } from './distances.ts';
import type { Loss, LossOptions, LossOutput } from './types.ts';

/** The fixed scale applied to both normalised samples and proxies (acts as an inverse temperature). */
export const PROXY_SCALE = 3;

/** Options of {@link ProxyNcaLoss}. */
export interface ProxyNcaOptions {
  /** Classes (Class: train classes; Shared: clusters) = number of proxies; at least 2. */
  numClasses: number;
  embedDim: number;
  /** Draws the initial proxies N(0, 1)/8, row-major [numClasses, embedDim]. */
  rng: Rng;
}

/** `--losses proxynca`. Variable: proxies [numClasses, embedDim] (state name 'proxies', lr group 'proxy'). */
export class ProxyNcaLoss extends BaseLoss {
  readonly key = 'proxynca';
  readonly lrKind = 'proxy' as const;
  /** [numClasses, embedDim]. */
  readonly proxies: tf.Variable;

  constructor(options: ProxyNcaOptions) {
    super(options.numClasses);
    if (options.numClasses < 2) {
      throw new UserError(`--losses proxynca: needs at least 2 classes (clusters) for its denominator, got ${options.numClasses}`);
    }
    const init = new Float32Array(options.numClasses * options.embedDim);
    for (let i = 0; i < init.length; i++) init[i] = options.rng.normal() / 8;
    this.proxies = tf.tidy(() => tf.variable(tf.tensor2d(init, [options.numClasses, options.embedDim]), true));
  }

  protected namedVariables(): Map<string, tf.Variable> {
    return new Map([['proxies', this.proxies]]);
  }

  protected computeLoss(emb: tf.Tensor2D, labels: Int32Array): LossOutput {
    const x = tf.mul(l2Normalize(emb), PROXY_SCALE);
    const p = tf.mul(l2Normalize(this.proxies as tf.Tensor2D), PROXY_SCALE);
    // d_ic = ‖x_i‖² + ‖p_c‖² − 2 x_i·p_c : [batch, classes]
    const dist = tf.sub(tf.add(tf.sum(tf.square(x), 1, true), tf.reshape(tf.sum(tf.square(p), 1), [1, -1])), tf.mul(tf.matMul(x, p, false, true), 2));
    const positive = oneHotMatrix(labels, this.numClasses);
    const dPositive = tf.sum(tf.mul(dist, positive), 1);
    // −∞ for the positive proxy removes it from the log-sum-exp, which subtracts its own maximum (stable).
    const negLogits = tf.where(tf.cast(positive, 'bool'), tf.fill(dist.shape, -Infinity), tf.neg(dist));
    const total = tf.mean(tf.add(dPositive, tf.logSumExp(negLogits, 1))) as tf.Scalar;
    return { total, parts: {} };
  }
}

/** The registry's factory (`--losses proxynca`, docs/architecture.md#add-loss): no miner, proxies from `initRng`. */
export function createLoss(o: LossOptions): Loss {
  return new ProxyNcaLoss({ numClasses: o.numClasses, embedDim: o.embedDim, rng: o.initRng ?? o.rng });
}
