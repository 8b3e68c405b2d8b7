/**
 * The contract between models/ and the rest (trainer, clustering, evaluation, checkpoints).
 */
import type * as tf from '@tensorflow/tfjs';
import type { InputConvention } from '../data/image-convention.ts';
import type { PretrainedFormat } from '../io/weights.ts';
import type { Rng } from '../rng.ts';
import type { EmbeddingNet } from './embedding-net.ts';

export interface ForwardOutput {
  /** One L2-normalised embedding per head, in task order [Class, Shared]; each [batch, embedSizes[i]]. */
  embeds: tf.Tensor2D[];
  /** Global-average-pooled backbone feature [batch, featureDim] (the original's key "Last", docs/porting.md#mic-heads). */
  pooled: tf.Tensor2D;
}

/** Where `clusterFeatures()` taps the backbone (docs/porting.md#mic-clustering: ResNet `layer1`). */
export interface ClusterLayerInfo {
  /** State-dict prefix of the layer whose output is returned (`layer1`, `conv3`, `conv2_3x3`), after its BN and ReLU. */
  name: string;
  /** Channels of the returned map. */
  channels: number;
  /** Input side / feature-map side (4 for all three architectures: 224 px → 56×56). */
  stride: number;
}

export interface EmbeddingModel {
  readonly arch: string;
  /** Pixel convention the image pipeline must produce for this network. */
  readonly input: InputConvention;
  /** Width of the pooled feature (2048 for ResNet50). */
  readonly featureDim: number;
  readonly embedSizes: number[];
  /** images: [batch, H, W, 3] NHWC float32 already normalised per `input`. BN is frozen: training and eval match. */
  forward(images: tf.Tensor4D): ForwardOutput;
  /** Early feature map for MIC's initial clustering (ResNet: output of layer1, [batch, H/4, W/4, 256]). */
  clusterFeatures(images: tf.Tensor4D): tf.Tensor4D;
  /** Which layer `clusterFeatures` returns, its channels and stride (optional so test doubles need not set it). */
  readonly clusterLayer?: ClusterLayerInfo;
  /** All trainable variables (backbone incl. BN affine, both heads) = the "network" optimizer group. */
  trainableVariables(): tf.Variable[];
  /** torchvision-named tensors in PyTorch layout (conv OIHW, linear [out,in]) — the checkpoint format. */
  stateDict(): Map<string, tf.Tensor>;
  /** Strict: missing, unexpected or shape-mismatched names throw a UserError listing them. Takes PyTorch layout. */
  loadStateDict(sd: Map<string, tf.Tensor>, source?: string): void;
  dispose(): void;
}

/** Where ImageNet weights for an architecture can be had (documentation as data; nothing is downloaded here). */
export interface WeightSource {
  tag: string;
  format: PretrainedFormat;
  /** File name looked for in the weights folder. */
  file: string;
  /** Where to get it by hand (or the script that fetches it). */
  origin: string;
  license: string;
  input: InputConvention;
}

export interface ArchBuildOptions {
  embedSizes: number[];
  rng: Rng;
  randomBackbone: boolean;
  width?: number;
  /** Only resnet50: the Keras v1 network and its BN ε. */
  keras?: { bnEps: number };
}

/**
 * An `--arch` value's settings, kept in the architecture's own file next to the network (its `ARCH` export, which
 * `src/models/registry.ts` points to). Input convention, feature width, cluster layer and the ImageNet classifier
 * to drop are the network's own (`EmbeddingNet`), not repeated here.
 */
export interface ArchSpec {
  /** The `--arch` value. */
  key: string;
  /** Weight sources, default first; the default's input convention is the network's. */
  weights: WeightSource[];
  build(o: ArchBuildOptions): EmbeddingNet;
}
