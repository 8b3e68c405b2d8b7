// Port of: MIC's network wrapper — backbone, GAP feature "Last", two heads last_linear.{Class,Shared} + L2 norm (docs/porting.md#mic-heads)
/**
 * Shared shell of every architecture: a backbone (subclass) producing a final feature map, global average
 * pooling to `featureDim`, and one `Linear(featureDim → e_i)` + L2-normalisation per task. The original replaced
 * the ResNet's `last_linear` by a container of two Linear layers, hence the names `last_linear.Class.weight` and
 * `last_linear.Shared.weight`. Heads are always randomly initialised (PyTorch default: U(±1/√featureDim)).
 */
import * as tf from '@tensorflow/tfjs';
import type { InputConvention } from '../data/image-convention.ts';
import { UserError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { Linear, globalAvgPool, l2Normalize } from './layers.ts';
import { Module, type LoadOptions } from './module.ts';
import type { ClusterLayerInfo, EmbeddingModel, ForwardOutput } from './types.ts';

/** Task names in head order; MIC has the Class task and the Shared (surrogate-label) task. */
export const HEAD_NAMES = ['Class', 'Shared'] as const;

/** State-dict prefix of the embedding heads. */
export const HEAD_PREFIX = 'last_linear.';

/** True for the names of the embedding heads' tensors. */
export function isHeadName(name: string): boolean {
  return HEAD_NAMES.some((h) => name.startsWith(`${HEAD_PREFIX}${h}.`));
}

/** Channels after dividing by the test width divisor (at least 1); width 1 is the real network. */
export function scaledChannels(c: number, width: number): number {
  return Math.max(1, Math.round(c / width));
}

/** Smallest input side every architecture handles (five stride-2 stages). */
export const MIN_INPUT_SIZE = 32;

export interface EmbeddingNetOptions {
  arch: string;
  input: InputConvention;
  featureDim: number;
  embedSizes: number[];
  /** Draws the heads' initial values (always random). */
  rng: Rng;
  clusterLayer: ClusterLayerInfo;
  /**
   * Names (exact, or prefixes ending in '.') of ImageNet-classifier tensors that pretrained files carry and this
   * network drops: `fc.`, GoogLeNet's `aux1.`/`aux2.`, BN-Inception's `last_linear.weight`.
   */
  pretrainedExtras: string[];
}

/**
 * Base of ResNet50, GoogLeNet and BN-Inception: `forward` maps images [batch, H, W, 3] (normalised per `input`)
 * to the pooled feature [batch, featureDim] ("Last") and one unit-norm embedding [batch, e_i] per head; BN is
 * frozen, so training and evaluation run the same computation.
 */
export abstract class EmbeddingNet extends Module implements EmbeddingModel {
  readonly arch: string;
  readonly input: InputConvention;
  readonly featureDim: number;
  readonly embedSizes: number[];
  readonly clusterLayer: ClusterLayerInfo;
  private readonly heads: Linear[];
  private readonly pretrainedExtras: string[];

  constructor(o: EmbeddingNetOptions) {
    super();
    if (o.embedSizes.length < 1 || o.embedSizes.length > HEAD_NAMES.length) {
      throw new UserError(`--embed_sizes: expected 1 or 2 sizes ([Class, Shared]), got ${o.embedSizes.length}`);
    }
    this.arch = o.arch;
    this.input = o.input;
    this.featureDim = o.featureDim;
    this.embedSizes = [...o.embedSizes];
    this.clusterLayer = o.clusterLayer;
    this.pretrainedExtras = o.pretrainedExtras;
    // Heads are built first so their values depend only on the rng, not on whether the backbone is random.
    const root = this.rootScope(o.rng);
    this.heads = o.embedSizes.map((e, i) => new Linear(root.child('last_linear').child(HEAD_NAMES[i]), o.featureDim, e));
  }

  /** Backbone up to the last feature map: [batch, H, W, 3] → [batch, h, w, featureDim]. */
  protected abstract features(x: tf.Tensor4D): tf.Tensor4D;

  /** Backbone up to the clustering layer (see `clusterLayer`). */
  protected abstract earlyFeatures(x: tf.Tensor4D): tf.Tensor4D;

  forward(images: tf.Tensor4D): ForwardOutput {
    this.checkInput(images);
    return tf.tidy(() => {
      const pooled = globalAvgPool(this.features(images));
      const embeds = this.heads.map((h) => l2Normalize(h.apply(pooled)));
      return { embeds, pooled };
    });
  }

  clusterFeatures(images: tf.Tensor4D): tf.Tensor4D {
    this.checkInput(images);
    return tf.tidy(() => this.earlyFeatures(images));
  }

  /** Backbone parameters only (what ImageNet files hold), excluding the heads. */
  backboneParameterCount(): number {
    return this.parameterCount((n) => !isHeadName(n));
  }

  /**
   * Loads ImageNet backbone weights (PyTorch layout, torchvision names). Strict on the backbone; the heads keep
   * their random values; the file's classifier, `num_batches_tracked` counters and any head tensors are dropped.
   */
  loadPretrained(sd: Map<string, tf.Tensor>, source: string): void {
    const opts: LoadOptions = {
      keep: isHeadName,
      ignoreUnexpected: (n) => this.pretrainedExtras.some((x) => (x.endsWith('.') ? n.startsWith(x) : n === x)),
    };
    this.loadStateDict(sd, source, opts);
  }

  private checkInput(images: tf.Tensor4D): void {
    const [, h, w, c] = images.shape;
    if (images.rank !== 4 || c !== 3) {
      throw new UserError(`${this.arch}: expected images [batch, H, W, 3], got [${images.shape.join(', ')}]`);
    }
    if (h < MIN_INPUT_SIZE || w < MIN_INPUT_SIZE) {
      throw new UserError(`${this.arch}: input ${h}×${w} is too small, at least ${MIN_INPUT_SIZE}×${MIN_INPUT_SIZE} is needed (--input-size)`);
    }
    const why = this.unsupportedSize(h) ?? this.unsupportedSize(w);
    if (why) throw new UserError(`${this.arch}: input ${h}×${w} is not supported: ${why} (--input-size)`);
  }

  /** Architecture-specific size rule: a reason when an input side of `size` pixels cannot be processed. */
  protected unsupportedSize(_size: number): string | null {
    return null;
  }
}
