/**
 * The contract for losses and miners (docs/architecture.md#losses-contract).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.ts';

/** What a miner skipped or noticed in one batch; feeds the loss's `parts` and the run's warnings. */
export interface MiningStats {
  /** Rows of the batch (= candidate anchors). */
  anchors: number;
  /** Triplets returned. */
  triplets: number;
  /** Anchors skipped because no other row shares their label. */
  noPositive: number;
  /** Anchors skipped because every row shares their label (e.g. a single-class batch). */
  noNegative: number;
  /** Anchors whose every negative sits at the distance floor (collapsed embeddings). */
  collapsed: number;
  /** Semihard only: anchors whose band was empty, so the negative was drawn from all negatives. */
  fallbacks: number;
}

/** One triplet per entry: anchors[i], positives[i], negatives[i] index rows of the batch. */
export interface Triplets {
  anchors: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
  /** Filled by every miner of src/losses/miners (optional so hand-made triplets stay valid). */
  stats?: MiningStats;
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
  /**
   * The learnable tensors under short names ('beta' [classes], 'proxies' [classes, dim]); empty for losses
   * without parameters. These are the live variables (do not dispose them); the checkpoint code adds a
   * prefix per task.
   */
  stateDict(): Map<string, tf.Tensor>;
  /** Strict: missing, unexpected or shape-mismatched names throw a UserError naming `source`. */
  loadStateDict(sd: Map<string, tf.Tensor>, source?: string): void;
}

/** Margin-loss normaliser (`--margin-count`): active terms (paper era) or triplets with any active term. */
export type MarginCount = 'terms' | 'triplets';

/** What a miner module's `createMiner` gets. */
export interface MinerOptions {
  /** Loss margin α (semihard band width). */
  margin: number;
  /** The 'miner' stream. */
  rng: Rng;
}

/** What a loss module's `createLoss` gets (one task's settings). */
export interface LossOptions {
  /** Classes of the task (Class: train classes; Shared: clusters). */
  numClasses: number;
  embedDim: number;
  /** `--margin` of the task (α). */
  margin: number;
  /** `--beta` of the task (initial β). */
  beta: number;
  /** `--sampling` of the task (used only by losses whose registry entry mines). */
  sampling: string;
  /** `--margin-count`. */
  marginCount: MarginCount;
  /** The 'miner' stream. */
  rng: Rng;
  /** Stream for parameter initialisation (proxies); defaults to `rng`. */
  initRng?: Rng;
}
