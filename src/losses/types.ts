/**
 * The contract for losses and miners (style.md "Losses and miners: one shape each").
 */
import type * as tf from '@tensorflow/tfjs';

/** One triplet per entry: anchors[i], positives[i], negatives[i] index rows of the batch. */
export interface Triplets {
  anchors: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
}

export interface Miner {
  readonly key: string;
  /** embeddings: detached [batch, dim] values (row-major Float32Array); runs outside the gradient tape. */
  mine(embeddings: Float32Array, dim: number, labels: Int32Array): Triplets;
}

export interface LossOutput {
  /** Scalar to minimise (inside the caller's gradient scope). */
  total: tf.Scalar;
  /** Numbers for logs (e.g. active terms, skipped anchors). */
  parts: Record<string, number>;
}

export interface Loss {
  readonly key: string;
  /** Learnable loss parameters (β, proxies); [] when none. */
  readonly variables: tf.Variable[];
  /** Which learning rate the variables take: 'beta' → beta_lr, 'proxy' → proxy_lr, null when none. */
  readonly lrKind: 'beta' | 'proxy' | null;
  /** emb: [batch, dim] L2-normalised embeddings (with gradient); labels: one per row. */
  compute(emb: tf.Tensor2D, labels: Int32Array): LossOutput;
}
