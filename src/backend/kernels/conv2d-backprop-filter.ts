/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none, so no conv net can train
 * on it). dW[kh,kw,Cin,Cout] = Σ over batch and output positions of x(tap) ⊗ dy, as GEMMs: on our GEMM
 * (`filterGradOurs`) where the measured route table says it beats XNNPACK, else on XNNPACK:
 *
 * - 1×1 filters: the (strided) input pixels are already the GEMM operand: dW = xᵀ·dy.
 * - k×k filters: transposed im2col of x ([kh·kw·Cin, N·Ho·Wo], row copies on the heap after one
 *   channels-first transpose) times dy ([N·Ho·Wo, Cout]);
 * - or, on large stride-1 maps and for very few input channels (the stem), a forward convolution of
 *   xᵀ [Cin,H,W,N] with dyᵀ [Ho,Wo,N,Cout] as the filter, dilation = stride (docs/engine.md#kernel-filter-gradient), which spares
 *   the im2col copy but loses on small maps and with stride 2 (a huge dilated filter).
 *
 * Process CPU ms, ResNet50 shapes at 224 px, batch 8, 1 thread (forward conv for scale in brackets):
 * im2col / dilated — layer1 3×3 138 / 139 (84), layer2 3×3 143 / 123 (81), layer3 3×3 126 / 123 (106),
 * layer4 3×3 97 / 128 (116), stride-2 3×3 129 / 180 (80), stem 7×7 66 / 48 (26).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { explicitPad, nhwcConvInfo, withScope, type TensorInfo, type WasmScope } from './wasm-scope.ts';
import { convWindow, gatherWindow, im2colTransposed, readsInputInPlace } from './heap-layout.ts';
import { cpuFallback } from './cpu-fallback.ts';
import { gemmMatmul } from './gemm-conv.ts';
import { useOurGemm } from './gemm-routes.ts';
import { gemmFor } from './gemm.ts';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** 'im2col', 'dilated-conv': on XNNPACK (k×k filters; 1×1 always a product); 'ours': products on our GEMM. */
export type FilterGradStrategy = 'auto' | 'im2col' | 'dilated-conv' | 'ours';

let strategy: FilterGradStrategy = 'auto';
/** Benchmarks only: force one composition for k×k filters. */
export function setFilterGradStrategy(s: FilterGradStrategy): void {
  strategy = s;
}

/** dW for a 1×1 filter: [Cin,Cout] = x_sᵀ · dy with x_s the strided input pixels. */
function filterGrad1x1(s: WasmScope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, inChannels: cin, outChannels: cout } = info;
  const xs = readsInputInPlace(info) ? x : gatherWindow(s, x, convWindow(info));
  const m = n * ho * wo;
  const x2 = s.reshape(xs, [m, cin]);
  const dy2 = s.reshape(dy, [m, cout]);
  // XNNPACK repacks the GEMM's weight operand at ~40–80 M values/s, slower than the GEMM itself for
  // narrow layers, so the narrower of x and dy is the packed operand and the wider one is transposed.
  let dw: TensorInfo;
  if (cin <= cout) {
    dw = s.transpose(s.gemm(s.transpose(dy2, [1, 0]), x2), [1, 0]);
  } else {
    dw = s.gemm(s.transpose(x2, [1, 0]), dy2);
  }
  return s.reshape(dw, [1, 1, cin, cout]);
}

/**
 * dW on our GEMM, which reads its left operand in place and packs the right one: [Cin, Cout] = x_sᵀ · dy for
 * 1×1 filters, [kh·kw·Cin, Cout] = colsᵀ · dy (transposed im2col) otherwise.
 */
function filterGradOurs(s: WasmScope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, inChannels: cin, outChannels: cout, filterHeight: kh, filterWidth: kw } = info;
  const m = n * ho * wo;
  let left: TensorInfo;
  if (kh === 1 && kw === 1) {
    const xs = readsInputInPlace(info) ? x : gatherWindow(s, x, convWindow(info));
    left = s.transpose(s.reshape(xs, [m, cin]), [1, 0]);
  } else {
    const xT = s.transpose(x, [3, 0, 1, 2]);
    left = im2colTransposed(s, xT, kh, kw, convWindow(info));
    s.free(xT);
  }
  return s.reshape(gemmMatmul(s, left, s.reshape(dy, [m, cout])), [kh, kw, cin, cout]);
}

function filterGradIm2col(s: WasmScope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, inChannels: cin, outChannels: cout } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const xT = s.transpose(x, [3, 0, 1, 2]);
  const cols = im2colTransposed(s, xT, kh, kw, convWindow(info));
  s.free(xT);
  const dw = s.gemm(cols, s.reshape(dy, [n * ho * wo, cout]));
  return s.reshape(dw, [kh, kw, cin, cout]);
}

/** dW as a forward convolution: input xᵀ [Cin,H,W,N], filter dyᵀ [Ho,Wo,N,Cout], dilation = stride. */
function filterGradDilatedConv(s: WasmScope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const xT = s.transpose(x, [3, 1, 2, 0]);
  const dyT = s.transpose(dy, [1, 2, 0, 3]);
  const r = s.conv2d(xT, dyT, [1, 1], explicitPad(top, bottom, left, right), [info.strideHeight, info.strideWidth]);
  const crop = r.shape[1] === kh && r.shape[2] === kw ? r : gatherWindow(s, r, { offH: 0, offW: 0, strideH: 1, strideW: 1, outH: kh, outW: kw });
  return s.transpose(crop, [1, 2, 0, 3]);
}

/** See the module comment for the measurements behind the thresholds. */
function preferDilatedConv(info: Conv2DInfo): boolean {
  const stride1 = info.strideHeight === 1 && info.strideWidth === 1;
  return (stride1 && info.outHeight * info.outWidth >= 28 * 28) || info.inChannels <= 4;
}

function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') return cpuFallback(args, 'Conv2DBackpropFilter');
  const info = nhwcConvInfo(x.shape, filterShape, strides, pad, dimRoundingMode);
  const ours = strategy === 'ours' || (strategy === 'auto' && gemmFor(backend) !== null && useOurGemm('filter-grad', info));
  return withScope(backend, (s) => {
    if (ours) return filterGradOurs(s, x, dy, info);
    if (info.filterHeight === 1 && info.filterWidth === 1) return filterGrad1x1(s, x, dy, info);
    const useConv = strategy === 'dilated-conv' || (strategy === 'auto' && preferDilatedConv(info));
    return useConv ? filterGradDilatedConv(s, x, dy, info) : filterGradIm2col(s, x, dy, info);
  });
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
