// Port of: MIC adversarial de-correlation ("mutual information") loss and its gradient-reversal layer (docs/porting.md#mic-adversarial)
/**
 * Adversarial de-correlation of two embeddings. A projection MLP R (source → advDim → target, ReLU) learns to
 * predict the target embedding c from the source embedding s element-wise; both embeddings pass a gradient-
 * reversal layer first, so the encoder receives the opposite push and makes them unpredictable from each other:
 *   c' = normalise(GRL(c)),  s' = normalise(GRL(s)),  r = normalise(R(s')),
 *   L_adv = −(1/B) Σ_b (1/D) Σ_d (c'_bd · r_bd)²      (squared element-wise products, not a cosine).
 * The trainer adds w · L_adv (w = `--adv_weights`) to both task steps.
 */
import * as tf from '@tensorflow/tfjs';
import { assert, UserError } from '../errors.ts';
import { l2Normalize } from '../models/layers.ts';
import { loadVariablesStrict } from '../losses/state.ts';
import type { Rng } from '../rng.ts';

export type TaskName = 'Class' | 'Shared';
export type AdversarialDirection = 'Class-Shared' | 'Shared-Class';
/** Valid `--adversarial` values, written target-source. */
export const ADVERSARIAL_DIRECTIONS: readonly AdversarialDirection[] = ['Class-Shared', 'Shared-Class'];
/** Default hidden width of R (`--adv_dim`). */
export const DEFAULT_ADV_DIM = 512;
/** Weight decay of R's optimizer group (docs/porting.md#optimizer); its lr is the network's `--lr`. */
export const PROJECTION_WEIGHT_DECAY = 1e-6;

/**
 * Gradient reversal: identity forward, gradient × (−1) backward (coefficient exactly 1).
 * Porting note: MIC's legacy autograd Function no longer runs on modern PyTorch; this is its intended behaviour.
 */
export const gradientReversal: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.neg(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** One PyTorch-style Linear layer: weight [out, in] (PyTorch layout, kept as is), bias [out]. */
interface LinearLayer {
  weight: tf.Variable;
  bias: tf.Variable;
}

/** PyTorch's default Linear init: weight and bias uniform in ±1/√fan_in, weight row-major then bias. */
function initLinear(inDim: number, outDim: number, rng: Rng): LinearLayer {
  const bound = 1 / Math.sqrt(inDim);
  const w = new Float32Array(outDim * inDim);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
  const b = new Float32Array(outDim);
  for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-bound, bound);
  return tf.tidy(() => ({ weight: tf.variable(tf.tensor2d(w, [outDim, inDim]), true), bias: tf.variable(tf.tensor1d(b), true) }));
}

/** Options of {@link AdversarialLoss}. */
export interface AdversarialOptions {
  direction: AdversarialDirection;
  /** Width of the source embedding (input of R). */
  sourceDim: number;
  /** Width of the target embedding (output of R). */
  targetDim: number;
  /** Hidden width of R; default 512. */
  advDim?: number;
  /** w of this direction (`--adv_weights`); default 1. */
  weight?: number;
  /** Draws R's initial weights. */
  rng: Rng;
  /** Tests only: false drops the gradient-reversal layers. Default true. */
  reverseGradient?: boolean;
}

/** One direction target-source of the adversarial term, with its projection network R and weight w. */
export class AdversarialLoss {
  readonly direction: AdversarialDirection;
  readonly targetTask: TaskName;
  readonly sourceTask: TaskName;
  readonly weight: number;
  /** R = [Linear(source → advDim), Linear(advDim → target)], ReLU between (state names …0.* and …2.*). */
  readonly layers: [LinearLayer, LinearLayer];
  private readonly reverse: boolean;

  constructor(options: AdversarialOptions) {
    if (!ADVERSARIAL_DIRECTIONS.includes(options.direction)) {
      throw new UserError(`--adversarial: unknown direction '${options.direction}', expected one of: ${ADVERSARIAL_DIRECTIONS.join(', ')}`);
    }
    this.direction = options.direction;
    [this.targetTask, this.sourceTask] = options.direction.split('-') as [TaskName, TaskName];
    this.weight = options.weight ?? 1;
    const advDim = options.advDim ?? DEFAULT_ADV_DIM;
    this.layers = [initLinear(options.sourceDim, advDim, options.rng), initLinear(advDim, options.targetDim, options.rng)];
    this.reverse = options.reverseGradient ?? true;
  }

  /** R's four variables (the "adversarial" optimizer group). */
  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.weight, l.bias]);
  }

  /** R(s): [batch, sourceDim] → [batch, targetDim]. */
  project(source: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [first, second] = this.layers;
      const hidden = tf.relu(tf.add(tf.matMul(source, first.weight as tf.Tensor2D, false, true), first.bias));
      return tf.add(tf.matMul(hidden, second.weight as tf.Tensor2D, false, true), second.bias) as tf.Tensor2D;
    });
  }

  /** L_adv (unweighted): target [batch, targetDim], source [batch, sourceDim] (the two embeddings of one batch). */
  compute(target: tf.Tensor2D, source: tf.Tensor2D): tf.Scalar {
    assert(
      target.rank === 2 && source.rank === 2 && target.shape[0] === source.shape[0],
      () =>
        `adversarial ${this.direction}: target [${target.shape.join(', ')}] and source [${source.shape.join(', ')}] must be [batch, dim] of one batch`,
    );
    return tf.tidy(() => {
      const grl = (x: tf.Tensor2D) => (this.reverse ? (gradientReversal(x) as tf.Tensor2D) : x);
      const c = l2Normalize(grl(target));
      const s = l2Normalize(grl(source));
      const r = l2Normalize(this.project(s));
      return tf.neg(tf.mean(tf.square(tf.mul(c, r)))) as tf.Scalar;
    });
  }

  /** w · L_adv for a batch given both embeddings by task. */
  computeWeighted(embeds: Record<TaskName, tf.Tensor2D>): tf.Scalar {
    return tf.tidy(() => tf.mul(this.compute(embeds[this.targetTask], embeds[this.sourceTask]), this.weight) as tf.Scalar);
  }

  /** Live variables under PyTorch names (`adversarial.Class-Shared.0.weight` [out, in], …); do not dispose. */
  stateDict(): Map<string, tf.Tensor> {
    return new Map(this.namedVariables());
  }

  /** Strict: missing, unexpected or shape-mismatched names throw a UserError naming `source`. PyTorch layout. */
  loadStateDict(sd: Map<string, tf.Tensor>, source = `adversarial ${this.direction} state`): void {
    loadVariablesStrict(this.namedVariables(), sd, source);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }

  private namedVariables(): Map<string, tf.Variable> {
    const prefix = `adversarial.${this.direction}`;
    return new Map([
      [`${prefix}.0.weight`, this.layers[0].weight],
      [`${prefix}.0.bias`, this.layers[0].bias],
      [`${prefix}.2.weight`, this.layers[1].weight],
      [`${prefix}.2.bias`, this.layers[1].bias],
    ]);
  }
}

/** Options of {@link buildAdversarialLosses}, straight from the run config. */
export interface AdversarialSetup {
  /** `--adversarial` (target-source). */
  directions: readonly string[];
  /** `--adv_weights`, one per direction. */
  weights: readonly number[];
  /** Embedding widths per task ([Class, Shared] = `--embed_dim`s). */
  embedDims: Record<TaskName, number>;
  /** `--adv_dim`. */
  advDim: number;
  /** The 'init' stream; directions draw their R in flag order. */
  rng: Rng;
}

/** One AdversarialLoss per `--adversarial` direction with its weight; bad lists are a UserError. */
export function buildAdversarialLosses(setup: AdversarialSetup): AdversarialLoss[] {
  if (setup.weights.length !== setup.directions.length) {
    throw new UserError(`--adv_weights: expected one weight per --adversarial direction (${setup.directions.length}), got ${setup.weights.length}`);
  }
  if (new Set(setup.directions).size !== setup.directions.length) {
    throw new UserError(`--adversarial: each direction may appear once, got ${setup.directions.join(' ')}`);
  }
  return setup.directions.map((direction, i) => {
    const [target, source] = direction.split('-') as [TaskName, TaskName];
    return new AdversarialLoss({
      direction: direction as AdversarialDirection,
      sourceDim: setup.embedDims[source],
      targetDim: setup.embedDims[target],
      advDim: setup.advDim,
      weight: setup.weights[i],
      rng: setup.rng,
    });
  });
}

/** Σ_k w_k · L_adv,k over all directions; embeds by task (one batch). 0 when there are none. */
export function adversarialTotal(losses: readonly AdversarialLoss[], embeds: Record<TaskName, tf.Tensor2D>): tf.Scalar {
  return tf.tidy(() => losses.reduce<tf.Scalar>((sum, l) => tf.add(sum, l.computeWeighted(embeds)), tf.scalar(0)));
}
