// Port of: pretrainedmodels (Cadene) `bninception`, the BN-Inception used by DML work incl. Rev (docs/porting.md#backbone-bninception)
/**
 * BN-Inception (Ioffe & Szegedy 2015, the Caffe model ported to PyTorch) with frozen BatchNorm (ε = 1e-5) and
 * MIC's embedding heads. State-dict names follow pretrainedmodels: `conv1_7x7_s2.weight`, `conv1_7x7_s2_bn.*`,
 * `inception_3a_double_3x3_1.weight`, …; every conv has a bias. The ImageNet classifier `last_linear.weight/bias`
 * is dropped on load (our heads are `last_linear.Class.*`, `last_linear.Shared.*`). Pooled feature: 1024.
 *
 * Input (Rev, docs/porting.md#backbone-bninception): BGR, 0–255, mean [104, 117, 128], std 1.
 * Porting note: the original pools with a fixed AvgPool2d(7) (224 px only); Rev and we use global average pooling.
 * Porting note: pretrainedmodels applies its ReLUs in place, so every branch consumes the post-ReLU tensor even
 * where the code names the pre-ReLU one; that conv → BN → ReLU order is what is implemented.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputConvention } from '../data/image-convention.ts';
import type { Rng } from '../rng.ts';
import { EmbeddingNet, scaledChannels } from './embedding-net.ts';
import { Conv2d, FrozenBatchNorm2d, avgPool2dIncludePad, convBn, maxPool2d, torchPoolLength } from './layers.ts';
import type { Scope } from './module.ts';
import type { ArchSpec } from './types.ts';

/** Caffe BN-Inception input: BGR, 0–255, per-channel mean, no std. */
export const BNINCEPTION_INPUT: InputConvention = {
  order: 'BGR',
  scale: 255,
  mean: [104, 117, 128],
  std: [1, 1, 1],
};

/** conv `<name>` (with bias, PyTorch default init) + BN `<name>_bn` + ReLU. */
class ConvBnRelu {
  private readonly conv: Conv2d;
  private readonly bn: FrozenBatchNorm2d;

  constructor(root: Scope, name: string, inCh: number, outCh: number, kernel: number, stride = 1, padding = 0) {
    this.conv = new Conv2d(root.child(name), { inChannels: inCh, outChannels: outCh, kernel, stride, padding, bias: true, init: 'torch-default' });
    this.bn = new FrozenBatchNorm2d(root.child(`${name}_bn`), outCh);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return convBn(x, this.conv, this.bn, 'relu');
  }
}

/**
 * One block's channels. Regular blocks: 1×1, 3×3 (after `reduce3`), double 3×3 (after `reduceDouble`) and a
 * pooled projection; reduction blocks (`proj` 0) have stride-2 3×3 branches and a bare stride-2 max pool.
 */
interface BlockPlan {
  id: string;
  c1x1: number;
  reduce3: number;
  c3: number;
  reduceDouble: number;
  double: number;
  pool: 'avg' | 'max';
  proj: number;
}

const PLANS: BlockPlan[] = [
  { id: '3a', c1x1: 64, reduce3: 64, c3: 64, reduceDouble: 64, double: 96, pool: 'avg', proj: 32 },
  { id: '3b', c1x1: 64, reduce3: 64, c3: 96, reduceDouble: 64, double: 96, pool: 'avg', proj: 64 },
  { id: '3c', c1x1: 0, reduce3: 128, c3: 160, reduceDouble: 64, double: 96, pool: 'max', proj: 0 },
  { id: '4a', c1x1: 224, reduce3: 64, c3: 96, reduceDouble: 96, double: 128, pool: 'avg', proj: 128 },
  { id: '4b', c1x1: 192, reduce3: 96, c3: 128, reduceDouble: 96, double: 128, pool: 'avg', proj: 128 },
  { id: '4c', c1x1: 160, reduce3: 128, c3: 160, reduceDouble: 128, double: 160, pool: 'avg', proj: 128 },
  { id: '4d', c1x1: 96, reduce3: 128, c3: 192, reduceDouble: 160, double: 192, pool: 'avg', proj: 128 },
  { id: '4e', c1x1: 0, reduce3: 128, c3: 192, reduceDouble: 192, double: 256, pool: 'max', proj: 0 },
  { id: '5a', c1x1: 352, reduce3: 192, c3: 320, reduceDouble: 160, double: 224, pool: 'avg', proj: 128 },
  { id: '5b', c1x1: 352, reduce3: 192, c3: 320, reduceDouble: 192, double: 224, pool: 'max', proj: 128 },
];

class InceptionBlock {
  private readonly b1x1: ConvBnRelu | null;
  private readonly reduce3: ConvBnRelu;
  private readonly c3: ConvBnRelu;
  private readonly reduceDouble: ConvBnRelu;
  private readonly double1: ConvBnRelu;
  private readonly double2: ConvBnRelu;
  private readonly proj: ConvBnRelu | null;
  private readonly reduction: boolean;
  private readonly poolKind: 'avg' | 'max';
  readonly outChannels: number;

  constructor(root: Scope, inCh: number, p: BlockPlan) {
    const n = (leaf: string) => `inception_${p.id}_${leaf}`;
    this.reduction = p.proj === 0;
    const s = this.reduction ? 2 : 1;
    this.b1x1 = this.reduction ? null : new ConvBnRelu(root, n('1x1'), inCh, p.c1x1, 1);
    this.reduce3 = new ConvBnRelu(root, n('3x3_reduce'), inCh, p.reduce3, 1);
    this.c3 = new ConvBnRelu(root, n('3x3'), p.reduce3, p.c3, 3, s, 1);
    this.reduceDouble = new ConvBnRelu(root, n('double_3x3_reduce'), inCh, p.reduceDouble, 1);
    this.double1 = new ConvBnRelu(root, n('double_3x3_1'), p.reduceDouble, p.double, 3, 1, 1);
    this.double2 = new ConvBnRelu(root, n('double_3x3_2'), p.double, p.double, 3, s, 1);
    this.proj = this.reduction ? null : new ConvBnRelu(root, n('pool_proj'), inCh, p.proj, 1);
    this.outChannels = this.reduction ? p.c3 + p.double + inCh : p.c1x1 + p.c3 + p.double + p.proj;
    this.poolKind = p.pool;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const b3 = this.c3.apply(this.reduce3.apply(x));
      const bd = this.double2.apply(this.double1.apply(this.reduceDouble.apply(x)));
      if (this.reduction) {
        const pooled = maxPool2d(x, { kernel: 3, stride: 2, ceilMode: true });
        return tf.concat([b3, bd, pooled], 3);
      }
      const window = { kernel: 3, stride: 1, padding: 1, ceilMode: true };
      const pooled = this.poolKind === 'avg' ? avgPool2dIncludePad(x, window) : maxPool2d(x, window);
      return tf.concat([this.b1x1!.apply(x), b3, bd, this.proj!.apply(pooled)], 3);
    });
  }
}

export interface BNInceptionOptions {
  embedSizes: number[];
  rng: Rng;
  randomBackbone: boolean;
  /** Channel divisor for tests. */
  width?: number;
}

export class BNInception extends EmbeddingNet {
  private readonly conv1: ConvBnRelu;
  private readonly conv2Reduce: ConvBnRelu;
  private readonly conv2: ConvBnRelu;
  private readonly blocks: InceptionBlock[];

  constructor(o: BNInceptionOptions) {
    const width = o.width ?? 1;
    const ch = (c: number) => scaledChannels(c, width);
    const plans = PLANS.map((p) => ({
      ...p,
      c1x1: p.c1x1 && ch(p.c1x1),
      reduce3: ch(p.reduce3),
      c3: ch(p.c3),
      reduceDouble: ch(p.reduceDouble),
      double: ch(p.double),
      proj: p.proj && ch(p.proj),
    }));
    const last = plans[plans.length - 1];
    super({
      arch: 'bninception',
      input: BNINCEPTION_INPUT,
      featureDim: last.c1x1 + last.c3 + last.double + last.proj,
      embedSizes: o.embedSizes,
      rng: o.rng,
      clusterLayer: { name: 'conv2_3x3', channels: ch(192), stride: 4 },
      pretrainedExtras: ['last_linear.weight', 'last_linear.bias'],
    });
    const root = this.rootScope(o.randomBackbone ? o.rng : null);
    this.conv1 = new ConvBnRelu(root, 'conv1_7x7_s2', 3, ch(64), 7, 2, 3);
    this.conv2Reduce = new ConvBnRelu(root, 'conv2_3x3_reduce', ch(64), ch(64), 1);
    this.conv2 = new ConvBnRelu(root, 'conv2_3x3', ch(64), ch(192), 3, 1, 1);
    let inCh = ch(192);
    this.blocks = plans.map((p) => {
      const block = new InceptionBlock(root, inCh, p);
      inCh = block.outChannels;
      return block;
    });
  }

  /**
   * The reduction blocks 3c and 4e concatenate a stride-2 conv (floor) with a ceil-mode max pool, which only agree
   * on even sides, as in the Caffe original; sides that are multiples of 32 always work.
   */
  protected override unsupportedSize(size: number): string | null {
    const pool = { kernel: 3, stride: 2, ceilMode: true };
    const at3c = torchPoolLength(torchPoolLength(Math.ceil(size / 2), pool), pool);
    if (at3c % 4 === 0) return null;
    return `BN-Inception's blocks 3c and 4e need even feature maps (${at3c} at 3c); use a multiple of 32 such as 224 or 256`;
  }

  /** conv1 → pool1 → conv2 reduce → conv2: [batch, H/4, W/4, 192]. */
  protected earlyFeatures(x: tf.Tensor4D): tf.Tensor4D {
    const y = maxPool2d(this.conv1.apply(x), { kernel: 3, stride: 2, ceilMode: true });
    return this.conv2.apply(this.conv2Reduce.apply(y));
  }

  protected features(x: tf.Tensor4D): tf.Tensor4D {
    let y = maxPool2d(this.earlyFeatures(x), { kernel: 3, stride: 2, ceilMode: true });
    for (const block of this.blocks) y = block.apply(y);
    return y;
  }
}

/** `--arch bninception` (docs/architecture.md#add-backbone): ImageNet weights and the builder. */
export const ARCH: ArchSpec = {
  key: 'bninception',
  weights: [
    {
      tag: 'in1k',
      format: 'torchvision',
      file: 'bninception.safetensors',
      origin:
        'http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-52deb4733.pth (pretrainedmodels), converted with scripts/fetch-pretrained.sh --convert',
      license: 'BSD-3-Clause (pretrainedmodels)',
      input: BNINCEPTION_INPUT,
    },
  ],
  build: (o) => new BNInception(o),
};
