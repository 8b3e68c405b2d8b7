// Port of: torchvision.models.googlenet (Inception-v1 with BatchNorm), as used by the authors' baseline B (docs/porting.md#backbone-googlenet)
/**
 * GoogLeNet with frozen BatchNorm (ε = 1e-3, as torchvision's BasicConv2d) and MIC's embedding heads; no
 * auxiliary classifiers, no dropout (the heads replace `fc`). Pooled feature: 1024.
 *
 * Input convention. torchvision's ImageNet weights were ported from TensorFlow and expect x ∈ [−1, 1]; its
 * `transform_input=True` rewrites ImageNet-normalised input into that range, which amounts to normalising RGB
 * [0,1] pixels with mean 0.5 and std 0.5. That is what `GOOGLENET_INPUT` asks the image pipeline for.
 * Porting note: B's GoogLeNet forward skips `transform_input` although it loads those weights, i.e. it feeds
 * ImageNet mean/std input [quirk, docs/porting.md#backbone-googlenet]; GoogLeNet is not part of MIC, so we feed what the weights expect.
 * Porting note: the fourth inception branch (`branch3`) uses a 3×3 conv where the paper has 5×5 — a known
 * torchvision deviation the ImageNet weights are trained with, kept for weight compatibility.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputConvention } from '../data/image-convention.ts';
import type { Rng } from '../rng.ts';
import { EmbeddingNet, scaledChannels } from './embedding-net.ts';
import { Conv2d, FrozenBatchNorm2d, convBn, maxPool2d } from './layers.ts';
import type { Scope } from './module.ts';
import type { ArchSpec } from './types.ts';

/** What torchvision's GoogLeNet weights expect after `transform_input`: RGB [0,1], mean 0.5, std 0.5. */
export const GOOGLENET_INPUT: InputConvention = {
  order: 'RGB',
  scale: 1,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

const BN_EPS = 1e-3;

/** torchvision BasicConv2d `<name>.conv` + `<name>.bn` + ReLU; convs have no bias; init N(0, 0.01²) cut at ±2. */
class BasicConv2d {
  private readonly conv: Conv2d;
  private readonly bn: FrozenBatchNorm2d;

  constructor(s: Scope, inCh: number, outCh: number, kernel: number, stride = 1, padding = 0) {
    this.conv = new Conv2d(s.child('conv'), {
      inChannels: inCh,
      outChannels: outCh,
      kernel,
      stride,
      padding,
      bias: false,
      init: 'trunc-normal-0.01',
    });
    this.bn = new FrozenBatchNorm2d(s.child('bn'), outCh, BN_EPS);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return convBn(x, this.conv, this.bn, 'relu');
  }
}

/** Channel plan of one inception block: [1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5", pool projection]. */
type InceptionPlan = [number, number, number, number, number, number];

/** Inception block: four branches concatenated on channels. */
class Inception {
  private readonly branch1: BasicConv2d;
  private readonly branch2: [BasicConv2d, BasicConv2d];
  private readonly branch3: [BasicConv2d, BasicConv2d];
  private readonly branch4: BasicConv2d;
  readonly outChannels: number;

  constructor(s: Scope, inCh: number, plan: InceptionPlan) {
    const [c1, c3r, c3, c5r, c5, pool] = plan;
    this.branch1 = new BasicConv2d(s.child('branch1'), inCh, c1, 1);
    this.branch2 = [new BasicConv2d(s.child('branch2').child(0), inCh, c3r, 1), new BasicConv2d(s.child('branch2').child(1), c3r, c3, 3, 1, 1)];
    this.branch3 = [new BasicConv2d(s.child('branch3').child(0), inCh, c5r, 1), new BasicConv2d(s.child('branch3').child(1), c5r, c5, 3, 1, 1)];
    // Index 1: index 0 of torchvision's branch4 Sequential is the parameter-free max pool.
    this.branch4 = new BasicConv2d(s.child('branch4').child(1), inCh, pool, 1);
    this.outChannels = c1 + c3 + c5 + pool;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const b1 = this.branch1.apply(x);
      const b2 = this.branch2[1].apply(this.branch2[0].apply(x));
      const b3 = this.branch3[1].apply(this.branch3[0].apply(x));
      const b4 = this.branch4.apply(maxPool2d(x, { kernel: 3, stride: 1, padding: 1, ceilMode: true }));
      return tf.concat([b1, b2, b3, b4], 3);
    });
  }
}

/** torchvision's block plans, in order, with the max pool (kernel) that precedes a block where there is one. */
const BLOCKS: Array<{ name: string; plan: InceptionPlan; poolBefore?: number }> = [
  { name: 'inception3a', plan: [64, 96, 128, 16, 32, 32] },
  { name: 'inception3b', plan: [128, 128, 192, 32, 96, 64] },
  { name: 'inception4a', plan: [192, 96, 208, 16, 48, 64], poolBefore: 3 },
  { name: 'inception4b', plan: [160, 112, 224, 24, 64, 64] },
  { name: 'inception4c', plan: [128, 128, 256, 24, 64, 64] },
  { name: 'inception4d', plan: [112, 144, 288, 32, 64, 64] },
  { name: 'inception4e', plan: [256, 160, 320, 32, 128, 128] },
  { name: 'inception5a', plan: [256, 160, 320, 32, 128, 128], poolBefore: 2 },
  { name: 'inception5b', plan: [384, 192, 384, 48, 128, 128] },
];

export interface GoogLeNetOptions {
  embedSizes: number[];
  rng: Rng;
  randomBackbone: boolean;
  /** Channel divisor for tests. */
  width?: number;
}

export class GoogLeNet extends EmbeddingNet {
  private readonly conv1: BasicConv2d;
  private readonly conv2: BasicConv2d;
  private readonly conv3: BasicConv2d;
  private readonly blocks: Array<{ block: Inception; poolBefore?: number }>;

  constructor(o: GoogLeNetOptions) {
    const width = o.width ?? 1;
    const ch = (c: number) => scaledChannels(c, width);
    const plans = BLOCKS.map((b) => b.plan.map(ch) as InceptionPlan);
    const last = plans[plans.length - 1];
    super({
      arch: 'googlenet',
      input: GOOGLENET_INPUT,
      featureDim: last[0] + last[2] + last[4] + last[5],
      embedSizes: o.embedSizes,
      rng: o.rng,
      clusterLayer: { name: 'conv3', channels: ch(192), stride: 4 },
      pretrainedExtras: ['fc.', 'aux1.', 'aux2.'],
    });
    const root = this.rootScope(o.randomBackbone ? o.rng : null);
    this.conv1 = new BasicConv2d(root.child('conv1'), 3, ch(64), 7, 2, 3);
    this.conv2 = new BasicConv2d(root.child('conv2'), ch(64), ch(64), 1);
    this.conv3 = new BasicConv2d(root.child('conv3'), ch(64), ch(192), 3, 1, 1);
    let inCh = ch(192);
    this.blocks = BLOCKS.map((b, i) => {
      const block = new Inception(root.child(b.name), inCh, plans[i]);
      inCh = block.outChannels;
      return { block, poolBefore: b.poolBefore };
    });
  }

  /** conv1 → maxpool1 → conv2 → conv3: [batch, H/4, W/4, 192]. */
  protected earlyFeatures(x: tf.Tensor4D): tf.Tensor4D {
    let y = this.conv1.apply(x);
    y = maxPool2d(y, { kernel: 3, stride: 2, ceilMode: true });
    return this.conv3.apply(this.conv2.apply(y));
  }

  protected features(x: tf.Tensor4D): tf.Tensor4D {
    let y = maxPool2d(this.earlyFeatures(x), { kernel: 3, stride: 2, ceilMode: true });
    for (const { block, poolBefore } of this.blocks) {
      if (poolBefore) y = maxPool2d(y, { kernel: poolBefore, stride: 2, ceilMode: true });
      y = block.apply(y);
    }
    return y;
  }
}

/** `--arch googlenet` (docs/architecture.md#add-backbone): ImageNet weights and the builder. */
export const ARCH: ArchSpec = {
  key: 'googlenet',
  weights: [
    {
      tag: 'tv_in1k',
      format: 'torchvision',
      file: 'googlenet.safetensors',
      origin: 'https://download.pytorch.org/models/googlenet-1378be20.pth, converted with scripts/fetch-pretrained.sh --convert',
      license: 'BSD-3-Clause',
      input: GOOGLENET_INPUT,
    },
  ],
  build: (o) => new GoogLeNet(o),
};
