/**
 * Template for every loss: `compute()` checks shapes and labels, runs the subclass's maths inside one
 * `tf.tidy`, and `stateDict()/loadStateDict()` come for free from `namedVariables()`.
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../errors.ts';
import { loadVariablesStrict } from './state.ts';
import { miningWarning } from './miners/base-miner.ts';
import type { Loss, LossOutput, Miner, MiningStats, Triplets } from './types.ts';

export abstract class BaseLoss implements Loss {
  abstract readonly key: string;
  abstract readonly lrKind: 'beta' | 'proxy' | null;

  /** numClasses: labels must lie in [0, numClasses) (β / proxies have one entry per class). */
  constructor(readonly numClasses: number) {
    assert(Number.isInteger(numClasses) && numClasses >= 1, () => `loss: numClasses must be a positive integer, got ${numClasses}`);
  }

  /** The learnable variables under their state-dict names. */
  protected abstract namedVariables(): Map<string, tf.Variable>;

  /** The maths; runs inside compute()'s tidy, so intermediates need no disposal. */
  protected abstract computeLoss(emb: tf.Tensor2D, labels: Int32Array): LossOutput;

  get variables(): tf.Variable[] {
    return [...this.namedVariables().values()];
  }

  compute(emb: tf.Tensor2D, labels: Int32Array): LossOutput {
    assert(emb.rank === 2, () => `${this.key}: embeddings must be [batch, dim], got [${emb.shape.join(', ')}]`);
    assert(labels.length === emb.shape[0], () => `${this.key}: ${labels.length} labels for a batch of ${emb.shape[0]}`);
    for (const y of labels) {
      assert(Number.isInteger(y) && y >= 0 && y < this.numClasses, () => `${this.key}: label ${y} outside [0, ${this.numClasses})`);
    }
    let parts: Record<string, number> = {};
    const total = tf.tidy(() => {
      const out = this.computeLoss(emb, labels);
      parts = out.parts;
      return out.total;
    });
    return { total, parts };
  }

  stateDict(): Map<string, tf.Tensor> {
    return new Map(this.namedVariables());
  }

  loadStateDict(sd: Map<string, tf.Tensor>, source = `${this.key} loss state`): void {
    loadVariablesStrict(this.namedVariables(), sd, source);
  }

  /** Frees the learnable variables. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/**
 * An exact zero that still depends on the embeddings and the loss variables, so a caller's
 * `tf.variableGrads` finds a (zero) gradient path instead of failing when nothing could be mined.
 */
export function connectedZero(emb: tf.Tensor, variables: tf.Variable[]): tf.Scalar {
  let s = tf.sum(emb);
  for (const v of variables) s = tf.add(s, tf.sum(v));
  return tf.mul(s, 0) as tf.Scalar;
}

/** Runs the miner on the detached values of `emb` ([batch, dim]). */
export function mineBatch(miner: Miner, emb: tf.Tensor2D, labels: Int32Array): Triplets {
  return miner.mine(emb.dataSync() as Float32Array, emb.shape[1], labels);
}

/** The mining statistics as log numbers (zeros when a hand-made miner gave none). */
export function miningParts(t: Triplets): Record<string, number> {
  const s: MiningStats = t.stats ?? {
    anchors: 0,
    triplets: t.anchors.length,
    noPositive: 0,
    noNegative: 0,
    collapsed: 0,
    fallbacks: 0,
  };
  return {
    anchors: s.anchors,
    triplets: t.anchors.length,
    skippedAnchors: s.noPositive + s.noNegative,
    noPositive: s.noPositive,
    noNegative: s.noNegative,
    collapsedAnchors: s.collapsed,
    semihardFallbacks: s.fallbacks,
  };
}

/**
 * The one-line warning for a loss output's `parts` (skipped or collapsed anchors), or null when there is
 * nothing to say (and for losses without a miner).
 */
export function lossWarning(parts: Record<string, number>): string | null {
  if (parts.triplets === undefined) return null;
  return miningWarning({
    anchors: parts.anchors ?? 0,
    triplets: parts.triplets,
    noPositive: parts.noPositive ?? 0,
    noNegative: parts.noNegative ?? 0,
    collapsed: parts.collapsedAnchors ?? 0,
    fallbacks: parts.semihardFallbacks ?? 0,
  });
}
