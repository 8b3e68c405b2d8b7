/**
 * Convolutions and matrix products on our GEMM (`gemm.ts`), as compositions inside a wasm kernel (`WasmScope`).
 *
 * - forward: implicit im2col. x is copied once into a zero-padded buffer when the convolution pads, so that
 *   each filter row's taps are one contiguous run of kw·Cin input floats (long inner loops, no zero rows).
 * - matmul: C = A·B (+ bias, ReLU) on row-major tensors; A is read in place, B packed.
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../../errors.ts';
import { gemmFor, type Gemm } from './gemm.ts';
import { heapOffset } from './heap-kernels.ts';
import { gatherWindow } from './heap-layout.ts';
import type { TensorInfo, WasmScope } from './wasm-scope.ts';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

function gemmOf(s: WasmScope): Gemm {
  const g = gemmFor(s.backend);
  assert(g, 'our GEMM: the wasm backend memory was not found');
  return g;
}

/** NHWC convolution (dilation 1) on our GEMM: [N, outH, outW, Cout], + bias[Cout], then ReLU if asked. */
export function gemmConv2d(s: WasmScope, x: TensorInfo, filter: TensorInfo, info: Conv2DInfo, bias?: TensorInfo, relu = false): TensorInfo {
  const { top, bottom, left, right } = info.padInfo;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: cout } = info;
  // Only the rows and columns a window can reach need to exist: crop what strides skip, pad with zeros.
  const needH = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  const copy = top > 0 || left > 0 || needH > h + top || needW > w + left || bottom < 0 || right < 0;
  const xp = copy ? gatherWindow(s, x, { offH: -top, offW: -left, strideH: 1, strideW: 1, outH: Math.max(needH, 1), outW: Math.max(needW, 1) }) : x;
  const y = s.alloc([n, info.outHeight, info.outWidth, cout]);
  const at = (t: TensorInfo) => heapOffset(s.backend, t);
  gemmOf(s).conv(
    {
      n,
      h: xp.shape[1],
      w: xp.shape[2],
      c,
      kh: info.filterHeight,
      kw: info.filterWidth,
      offH: 0,
      offW: 0,
      sH: info.strideHeight,
      sW: info.strideWidth,
      outH: info.outHeight,
      outW: info.outWidth,
      cout,
    },
    at(xp),
    at(filter),
    at(y),
    { bias: bias ? at(bias) : undefined, relu },
  );
  if (xp !== x) s.free(xp);
  return y;
}

/** a[m, k] · b[k, n] → [m, n] (+ bias[n], then ReLU if asked), both row-major. */
export function gemmMatmul(s: WasmScope, a: TensorInfo, b: TensorInfo, opts: { bias?: TensorInfo; relu?: boolean } = {}): TensorInfo {
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  assert(k === k2, `gemm inner sizes ${k} vs ${k2}`);
  const c = s.alloc([m, n]);
  const at = (t: TensorInfo) => heapOffset(s.backend, t);
  if (k === 0) {
    s.view(c).fill(0);
    return c;
  }
  gemmOf(s).matmul(at(a), k, m, k, at(b), n, n, at(c), n, { bias: opts.bias ? at(opts.bias) : undefined, relu: opts.relu });
  return c;
}
