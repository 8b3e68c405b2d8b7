// Port of: torch.nn.Conv2d / BatchNorm2d (eval) / Linear / MaxPool2d / AvgPool2d, F.normalize (docs/porting.md#mic-heads, docs/porting.md#frozen-bn)
/**
 * Building blocks with PyTorch semantics on NHWC tensors. Padding is always explicit and symmetric as in
 * PyTorch (tfjs 'same' pads asymmetrically for stride 2); ceil-mode pooling is reproduced with extra
 * bottom/right padding.
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../errors.ts';
import { constantTensor, initBias, initWeight, type WeightInit } from './init.ts';
import type { Scope } from './module.ts';
import { fusedConvBias } from './fused-conv.ts';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  /** Square kernel size k. */
  kernel: number;
  stride?: number;
  /** Symmetric zero padding on each side (PyTorch `padding`). */
  padding?: number;
  /** Whether the conv has a bias (torchvision ResNet/GoogLeNet: no; BN-Inception, Keras ResNet50: yes). */
  bias?: boolean;
  init: WeightInit;
}

/** nn.Conv2d. `weight`: HWIO [k, k, in, out] here, OIHW in state dicts; `bias`: [out]. */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly padding: number;

  constructor(scope: Scope, o: Conv2dOptions) {
    const k = o.kernel;
    const fanIn = o.inChannels * k * k;
    const fanOut = o.outChannels * k * k;
    this.weight = scope.register('weight', initWeight(o.init, [k, k, o.inChannels, o.outChannels], fanIn, fanOut, scope.rng), 'conv', true);
    this.bias = o.bias ? scope.register('bias', initBias(o.init, o.outChannels, fanIn, scope.rng), 'plain', true) : null;
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    scope.onDispose(() => this.dropFold());
  }

  /** The BN-folded filter and shift of the last forward without a gradient tape, and what they were made from. */
  private fold: { from: object[]; filter: tf.Tensor4D; shift: tf.Tensor1D } | undefined;

  /**
   * Filter W·scale and shift of this conv followed by `bn`. Without a gradient tape (evaluation, clustering,
   * embedding, the first pass of micro-batching) they are kept and reused while the same weight tensors come
   * back: the wasm backend then also keeps its packed copy of the filter (keyed by the filter tensor) instead
   * of repacking it on every batch. Under a tape they are computed afresh, so gradients reach W, γ and β.
   */
  folded(bn: FrozenBatchNorm2d): { filter: tf.Tensor4D; shift: tf.Tensor1D } {
    const compute = () => {
      const { scale, shift } = bn.affine(this.bias);
      return { filter: tf.mul(this.weight, scale) as tf.Tensor4D, shift };
    };
    if (tf.engine().isTapeOn()) {
      this.dropFold(); // the weights are about to change: free the copy now
      return compute();
    }
    const from = [this.weight, this.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((v) => v?.dataId ?? null) as object[];
    if (this.fold && this.fold.from.every((d, i) => d === from[i])) return { filter: this.fold.filter, shift: this.fold.shift };
    this.dropFold();
    const made = tf.tidy(compute);
    this.fold = { from, filter: tf.keep(made.filter), shift: tf.keep(made.shift) };
    return made;
  }

  private dropFold(): void {
    if (this.fold) tf.dispose([this.fold.filter, this.fold.shift]);
    this.fold = undefined;
  }
}

/**
 * Frozen BatchNorm2d (docs/porting.md#frozen-bn): running statistics are buffers fixed at their loaded values in training and
 * test; γ (`weight`) and β (`bias`) stay trainable. Applied as the affine map y = x·scale + shift with
 * scale = γ/√(running_var + ε), shift = β − running_mean·scale — no tfjs batchNorm op, whose gradient
 * goes through a slow Tile on wasm.
 */
export class FrozenBatchNorm2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  constructor(
    scope: Scope,
    channels: number,
    /** PyTorch default 1e-5; torchvision GoogLeNet 1e-3; Keras ResNet50 reads it from the file. */
    readonly eps = 1e-5,
  ) {
    this.weight = scope.register('weight', constantTensor([channels], 1), 'plain', true);
    this.bias = scope.register('bias', constantTensor([channels], 0), 'plain', true);
    this.runningMean = scope.register('running_mean', constantTensor([channels], 0), 'plain', false);
    this.runningVar = scope.register('running_var', constantTensor([channels], 1), 'plain', false);
  }

  /** [C] scale and shift of the folded map; `convBias` (if any) is folded into the shift too. */
  affine(convBias: tf.Tensor | null): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps))) as tf.Tensor1D;
    const centre = convBias ? tf.sub(convBias, this.runningMean) : tf.neg(this.runningMean);
    const shift = tf.add(this.bias, tf.mul(centre, scale)) as tf.Tensor1D;
    return { scale, shift };
  }
}

/**
 * conv → frozen BN → optional ReLU, with the BN scale folded into the filter (W·scale, a weight-sized op rather
 * than an activation-sized one) and the shift used as the conv bias. Gradients reach W, γ and β through the fold.
 * x: [batch, H, W, in] → [batch, H', W', out].
 */
export function convBn(x: tf.Tensor4D, conv: Conv2d, bn: FrozenBatchNorm2d, activation: 'relu' | 'linear'): tf.Tensor4D {
  return tf.tidy(() => {
    const { filter, shift } = conv.folded(bn);
    // One kernel also under a tape (where tf.fused.conv2d would unfuse a ReLU conv), its gradient registered per input.
    return fusedConvBias(x, filter, shift, { stride: conv.stride, padding: conv.padding, relu: activation === 'relu' });
  });
}

/** nn.Linear. `weight`: [in, out] here, [out, in] in state dicts; `bias`: [out]. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(scope: Scope, inFeatures: number, outFeatures: number, init: WeightInit = 'torch-default') {
    this.weight = scope.register('weight', initWeight(init, [inFeatures, outFeatures], inFeatures, outFeatures, scope.rng), 'linear', true);
    this.bias = scope.register('bias', initBias(init, outFeatures, inFeatures, scope.rng), 'plain', true);
  }

  /** x: [batch, in] → [batch, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: this.weight as tf.Tensor2D, bias: this.bias }) as tf.Tensor2D;
  }
}

export interface PoolOptions {
  kernel: number;
  stride: number;
  padding?: number;
  /** PyTorch ceil_mode: keep a last, partial window. */
  ceilMode?: boolean;
}

/** PyTorch's pooled length for one spatial axis (pooling_output_shape, dilation 1). */
export function torchPoolLength(size: number, o: PoolOptions): number {
  const p = o.padding ?? 0;
  const extra = o.ceilMode ? o.stride - 1 : 0;
  let out = Math.floor((size + 2 * p - o.kernel + extra) / o.stride) + 1;
  // A window must start inside the input or its left padding.
  if (o.ceilMode && (out - 1) * o.stride >= size + p) out--;
  return out;
}

/** Leading and trailing padding that makes a 'valid' tfjs pool yield PyTorch's length. */
function axisPadding(size: number, o: PoolOptions): [number, number] {
  const p = o.padding ?? 0;
  const out = torchPoolLength(size, o);
  const needed = (out - 1) * o.stride + o.kernel;
  return [p, Math.max(p, needed - size - p)];
}

/**
 * nn.MaxPool2d on NHWC. Padded cells never win (tfjs skips out-of-range cells, like PyTorch's −∞ padding).
 * x: [batch, H, W, C] → [batch, H', W', C].
 */
export function maxPool2d(x: tf.Tensor4D, o: PoolOptions): tf.Tensor4D {
  const [, h, w] = x.shape;
  const ph = axisPadding(h, o);
  const pw = axisPadding(w, o);
  const y = tf.maxPool(x, o.kernel, o.stride, [[0, 0], ph, pw, [0, 0]]);
  assert(y.shape[1] === torchPoolLength(h, o) && y.shape[2] === torchPoolLength(w, o), 'maxPool2d: output size differs from PyTorch');
  return y;
}

/**
 * nn.AvgPool2d with count_include_pad=True (PyTorch's default): zero padding counts in the divisor, which
 * tfjs's padded avgPool does not do, so the zeros are added explicitly. Ceil-mode overhang beyond the padding
 * is not supported (not needed: BN-Inception's average pools have stride 1).
 */
export function avgPool2dIncludePad(x: tf.Tensor4D, o: PoolOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const p = o.padding ?? 0;
    const [, h, w] = x.shape;
    assert(axisPadding(h, o)[1] === p && axisPadding(w, o)[1] === p, 'avgPool2dIncludePad: ceil-mode overhang not supported');
    const padded =
      p > 0
        ? tf.pad(x, [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ])
        : x;
    return tf.avgPool(padded, o.kernel, o.stride, 'valid');
  });
}

/** Global average pool: [batch, H, W, C] → [batch, C] (torchvision's adaptive average pool to 1×1). */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * F.normalize(x, dim=1, eps): x / max(‖x‖₂, eps). The clamp is applied to the squared norm (same value,
 * and a zero gradient below eps instead of NaN). x: [batch, dim] → [batch, dim]. The one L2 normalisation with
 * gradient: the embedding heads, ProxyNCA and the adversarial term all use it.
 */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), eps * eps));
    return tf.div(x, norm) as tf.Tensor2D;
  });
}
