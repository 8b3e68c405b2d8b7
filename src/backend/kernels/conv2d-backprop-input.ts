/**
 * Conv2DBackpropInput for the wasm backend, replacing the stock kernel (a plain loop at ~3 GFLOP/s) with
 * convolutions and products on our GEMM (where the measured route table says it beats XNNPACK) or XNNPACK.
 *
 * dx[i] = Σ_t dy[(i + padTop − t)/s] · W[t] over the taps t where that index is an integer. Split the
 * output rows by phase ρ = i mod s: within one phase only the taps t ≡ (ρ + padTop) mod s contribute, and
 * the sum is an ordinary stride-1 correlation of dy with those taps in reverse order. So a stride-s input
 * gradient is s_h·s_w small stride-1 convolutions (sub-filters of ⌈k/s⌉ taps; exactly the useful
 * multiply-adds, unlike zero-insertion which wastes (s²−1)/s² of them), whose outputs are interleaved into
 * dx. Stride 1 is the single-phase case: one convolution with the flipped filter.
 * A 1×1 filter is a GEMM with Wᵀ followed, when strided, by placing its rows on the stride grid.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { explicitPad, nhwcConvInfo, withScope, type ExplicitPad, type TensorInfo, type WasmScope } from './wasm-scope.ts';
import { col2imTransposedAdd, convWindow, gatherWindow, readsInputInPlace, scatterWindow } from './heap-layout.ts';
import { gemmConv2d, gemmMatmul } from './gemm-conv.ts';
import { useOurGemm } from './gemm-routes.ts';
import { gemmFor } from './gemm.ts';

/** The products a composition runs on: XNNPACK's (through the stock kernels) or ours. */
interface Products {
  gemm(s: WasmScope, a: TensorInfo, b: TensorInfo): TensorInfo;
  /** Stride-1 NHWC convolution, explicit padding or 'valid'. */
  conv(s: WasmScope, x: TensorInfo, filter: TensorInfo, pad: ExplicitPad | 'valid'): TensorInfo;
}

const XNNPACK: Products = {
  gemm: (s, a, b) => s.gemm(a, b),
  conv: (s, x, filter, pad) => s.conv2d(x, filter, [1, 1], pad),
};

const OURS: Products = {
  gemm: (s, a, b) => gemmMatmul(s, a, b),
  conv: (s, x, filter, pad) => gemmConv2d(s, x, filter, nhwcConvInfo(x.shape, filter.shape, [1, 1], pad)),
};

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** One axis of the phase decomposition. */
interface AxisPhase {
  /** Output rows i = Q·s + rho, Q ∈ [0, count). */
  rho: number;
  count: number;
  /** Taps used, in correlation order: taps[u] multiplies dy[Q + offset + u]. */
  taps: number[];
  offset: number;
}

/** Phases of one spatial axis: input size `n`, filter size `k`, stride `s`, leading pad `pad`. */
export function axisPhases(n: number, k: number, s: number, pad: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let rho = 0; rho < s && rho < n; rho++) {
    const count = Math.ceil((n - rho) / s);
    const r = (((rho + pad) % s) + s) % s;
    const base = (rho + pad - r) / s;
    const taps: number[] = [];
    for (let t = r; t < k; t += s) taps.unshift(t); // reversed: correlation order
    phases.push({ rho, count, taps, offset: base - taps.length + 1 });
  }
  return phases;
}

/** Sub-filter [Lh,Lw,Cout,Cin] from WT = W transposed to [kh,kw,Cout,Cin], taps picked per axis. */
function subFilter(s: WasmScope, wT: TensorInfo, tapsH: number[], tapsW: number[]): TensorInfo {
  const [, kw, cout, cin] = wT.shape;
  const block = cout * cin;
  const out = s.alloc([tapsH.length, tapsW.length, cout, cin]);
  const src = s.view(wT);
  const dst = s.view(out);
  let at = 0;
  for (const th of tapsH) {
    for (const tw of tapsW) {
      const from = (th * kw + tw) * block;
      dst.set(src.subarray(from, from + block), at);
      at += block;
    }
  }
  return out;
}

/** Stride-1 VALID-equivalent correlation of dy over rows [offH, offH + outH + Lh − 1), zero outside. */
function phaseConv(s: WasmScope, dy: TensorInfo, filt: TensorInfo, ph: AxisPhase, pw: AxisPhase, on: Products): TensorInfo {
  const [, ho, wo] = dy.shape;
  const lh = ph.taps.length;
  const lw = pw.taps.length;
  const padTop = -ph.offset;
  const padLeft = -pw.offset;
  const padBottom = ph.count - 1 + ph.offset + lh - 1 - (ho - 1);
  const padRight = pw.count - 1 + pw.offset + lw - 1 - (wo - 1);
  if (padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
    return on.conv(s, dy, filt, explicitPad(padTop, padBottom, padLeft, padRight));
  }
  // Some rows/columns of dy are never used by this phase: crop (and pad) in one copy.
  const win = gatherWindow(s, dy, {
    offH: ph.offset,
    offW: pw.offset,
    strideH: 1,
    strideW: 1,
    outH: ph.count + lh - 1,
    outW: pw.count + lw - 1,
  });
  return on.conv(s, win, filt, 'valid');
}

function inputGrad1x1(s: WasmScope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo, on: Products): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, inChannels: cin, outChannels: cout } = info;
  const m = n * ho * wo;
  let rows: TensorInfo;
  if (on === OURS && m * (cin + cout) < cin * cout) {
    // Few positions, a large filter: dxᵀ = W · dyᵀ reads W in place and transposes only dy and the result.
    const dxT = on.gemm(s, s.reshape(filter, [cin, cout]), s.transpose(s.reshape(dy, [m, cout]), [1, 0]));
    rows = s.reshape(s.transpose(dxT, [1, 0]), [n, ho, wo, cin]);
  } else {
    const wT = s.transpose(s.reshape(filter, [cin, cout]), [1, 0]);
    rows = s.reshape(on.gemm(s, s.reshape(dy, [m, cout]), wT), [n, ho, wo, cin]);
  }
  if (readsInputInPlace(info)) return rows;
  const dx = s.alloc([n, info.inHeight, info.inWidth, cin], true);
  scatterWindow(s, dx, rows, convWindow(info));
  return dx;
}

/**
 * dx via one GEMM on the filter's own layout and a scatter-add: colsᵀ[kh·kw·Cin, M] = W[kh·kw·Cin, Cout] ·
 * dyᵀ[Cout, M] (M = N·Ho·Wo), then col2im. XNNPACK packs only dyᵀ, and the filter is read once as is: at
 * small spatial sizes (late stages, small inputs) the filter is far larger than dy, and the convolution
 * route spends its time transposing, flipping and packing it.
 */
function inputGradGemm(s: WasmScope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo, on: Products): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, inChannels: cin, outChannels: cout, filterHeight: kh, filterWidth: kw } = info;
  const m = n * ho * wo;
  const dyT = s.transpose(s.reshape(dy, [m, cout]), [1, 0]);
  const colsT = on.gemm(s, s.reshape(filter, [kh * kw * cin, cout]), dyT);
  const dx = s.alloc([n, info.inHeight, info.inWidth, cin], true);
  col2imTransposedAdd(s, dx, colsT, kh, kw, convWindow(info));
  return dx;
}

function inputGradPhases(s: WasmScope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo, on: Products): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const phH = axisPhases(h, kh, sh, info.padInfo.top);
  const phW = axisPhases(w, kw, sw, info.padInfo.left);
  const wT = s.transpose(filter, [0, 1, 3, 2]);
  if (phH.length === 1 && phW.length === 1) {
    return phaseConv(s, dy, subFilter(s, wT, phH[0].taps, phW[0].taps), phH[0], phW[0], on);
  }
  const dx = s.alloc([n, h, w, cin], true);
  for (const ph of phH) {
    for (const pw of phW) {
      if (ph.taps.length === 0 || pw.taps.length === 0) continue; // no tap reaches these rows: stays 0
      const filt = subFilter(s, wT, ph.taps, pw.taps);
      const part = phaseConv(s, dy, filt, ph, pw, on);
      scatterWindow(s, dx, part, { offH: ph.rho, offW: pw.rho, strideH: sh, strideW: sw, outH: ph.count, outW: pw.count });
      s.free(part);
      s.free(filt);
    }
  }
  return dx;
}

/** 'gemm': XNNPACK GEMM + col2im; 'conv': XNNPACK convolutions; 'ours': our GEMM (1×1 product or phase convolutions). */
export type InputGradStrategy = 'auto' | 'gemm' | 'conv' | 'ours';
let strategy: InputGradStrategy = 'auto';
/** Benchmarks and tests: force one composition. */
export function setInputGradStrategy(s: InputGradStrategy): void {
  strategy = s;
}

/**
 * The GEMM route where the filter dominates the memory traffic: it moves dy about 3× plus a scatter-add of
 * kh·kw·|dx|, the conv route moves the filter about 4×. Measured on ResNet50 shapes (wasm, 1 thread): GEMM
 * wins from |filter| > 3·|dy| on (layer3/4 at 64 px, layer4 at 224 px), the conv route below.
 */
function preferGemm(info: Conv2DInfo): boolean {
  const dySize = info.batchSize * info.outHeight * info.outWidth * info.outChannels;
  const filterSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  return 3 * dySize < filterSize;
}

let stockInputGrad: tf.KernelConfig | undefined;
/** The kernel we replace; used for NCHW (which XNNPACK does not take) and kept for its setupFunc. */
export function setStockInputGrad(config: tf.KernelConfig): void {
  stockInputGrad = config;
}

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast' && stockInputGrad) {
    return stockInputGrad.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  }
  const info = nhwcConvInfo(inputShape, filter.shape, strides, pad, dimRoundingMode);
  const ours = strategy === 'ours' || (strategy === 'auto' && gemmFor(backend) !== null && useOurGemm('input-grad', info));
  const on = ours ? OURS : XNNPACK;
  const oneByOne = info.filterHeight === 1 && info.filterWidth === 1;
  return withScope(backend, (s) => {
    // A 1×1 filter on our GEMM has its own way of not copying a large filter (inputGrad1x1).
    if (strategy === 'gemm' || (strategy !== 'conv' && preferGemm(info) && !(ours && oneByOne))) return inputGradGemm(s, dy, filter, info, on);
    return oneByOne ? inputGrad1x1(s, dy, filter, info, on) : inputGradPhases(s, dy, filter, info, on);
  });
}

/** Registered over the stock kernel; `setupFunc` is the stock one so a re-initialised backend still works. */
export function conv2dBackpropInputConfig(stock: tf.KernelConfig | undefined): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    setupFunc: stock?.setupFunc,
    kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
  };
}
