/**
 * Conv2D and FusedConv2D for the wasm backend. First choice: our GEMM with implicit im2col (`gemm-conv.ts`), bias
 * and ReLU applied as the tiles are stored, wherever the measured route table (`gemm-routes.ts`) says it beats
 * XNNPACK for the shape. Otherwise XNNPACK, as below: for convolutions whose filter is larger than their input,
 * the transposed product.
 *
 * XNNPACK treats the filter as the GEMM operand it repacks, at only ~40–80 M values/s, and the stock kernel
 * keeps a packed filter only while the same filter tensor comes back. Ours never does: the frozen BN is
 * folded into a fresh filter on every forward (`models/layers.ts`), and training changes the weights every
 * step anyway. So each call repacks the whole filter — for ResNet-50's late stages at small inputs
 * (layer4 at 64 px: 32 output positions, filters of up to 2.4 M values) far more work than the convolution.
 *
 * Transposed, the product swaps operands: yᵀ[Cout, M] = Wᵀ[Cout, K] · colsᵀ[K, M] (M = N·Ho·Wo output
 * positions, K = kh·kw·Cin), so XNNPACK packs colsᵀ (K·M values) instead of W (K·Cout). W is transposed in
 * JavaScript (cache-blocked, several times faster than the packing) and the result transposed back with the
 * bias and activation applied on the way. Used where `preferTransposedConv` says; everything else,
 * including NCHW, dilations and activations other than linear/ReLU, goes to the stock kernel.
 *
 * Measured per call in a ResNet-50 forward at 64 px, batch 8 (wasm, 1 thread; stock → transposed, ms):
 * layer4 (M 32) 3×3 512→512 41 → 23, 1×1 1024→2048 stride 2 43 → 18, 1×1 512→2048 20 → 9,
 * 2048→512 19 → 10; layer3 (M 128) 3×3 256→256 12 → 17 and 1×1 256→1024 5.5 → 7.7 (stock wins there).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convWindow, gatherWindow, im2colTransposed, readsInputInPlace } from './heap-layout.ts';
import { nhwcConvInfo, withScope, type TensorInfo, type WasmScope } from './wasm-scope.ts';
import { gemmConv2d } from './gemm-conv.ts';
import { useOurGemm } from './gemm-routes.ts';
import { gemmFor } from './gemm.ts';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

export type ForwardConvStrategy = 'auto' | 'transposed' | 'stock' | 'gemm';
let strategy: ForwardConvStrategy = 'auto';
/** Benchmarks and tests: force one route. */
export function setForwardConvStrategy(s: ForwardConvStrategy): void {
  strategy = s;
}

/**
 * Filters already seen: the stock kernel keeps its packed copy of a filter for as long as that filter tensor
 * lives, so from its second use on (a cached BN fold in evaluation, `models/layers.ts`) the stock route only
 * pays for the convolution itself.
 */
const seenFilters = new WeakSet<object>();

/** True the first time `filter` comes by. */
function firstUse(filter: TensorInfo): boolean {
  if (seenFilters.has(filter.dataId)) return false;
  seenFilters.add(filter.dataId);
  return true;
}

/**
 * Whether the transposed product pays: it packs K·M values instead of K·Cout but transposes W, the input
 * and the output in JavaScript, which is not much cheaper per value than the packing. Measured on ResNet-50
 * at 64 px (see the module comment), it wins where the filter is large (≥ 512 K values) and at least four
 * times as many output channels as positions.
 */
export function preferTransposedConv(info: Conv2DInfo): boolean {
  if (strategy !== 'auto') return strategy === 'transposed';
  const m = info.batchSize * info.outHeight * info.outWidth;
  const filterSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  return 4 * m <= info.outChannels && filterSize >= 512 * 1024;
}

/**
 * Our GEMM where the measured route table says it beats XNNPACK for this shape, counting whether XNNPACK would
 * reuse a packed filter (evaluation) or pack a new one (training). `strategy` 'gemm' forces it.
 */
function ourGemmFor(info: Conv2DInfo, reused: boolean, backend: BackendWasm): boolean {
  if (strategy === 'gemm') return true;
  if (strategy !== 'auto' || !gemmFor(backend)) return false;
  return useOurGemm(reused ? 'forward-cached' : 'forward', info);
}

/** colsᵀ [K, M]: for each filter tap and input channel, the input value every output position meets. */
function colsTransposed(s: WasmScope, x: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, outHeight: ho, outWidth: wo, inChannels: cin, filterHeight: kh, filterWidth: kw } = info;
  const window = convWindow(info);
  if (kh === 1 && kw === 1) {
    const xs = readsInputInPlace(info) ? x : gatherWindow(s, x, window);
    return s.transpose(s.reshape(xs, [n * ho * wo, cin]), [1, 0]);
  }
  return im2colTransposed(s, s.transpose(x, [3, 0, 1, 2]), kh, kw, window);
}

/** y[M, Cout] = (yT[Cout, M])ᵀ + bias, then ReLU if asked (in place on the fresh transpose). */
function transposeBack(s: WasmScope, yT: TensorInfo, shape: number[], bias: TensorInfo | undefined, relu: boolean): TensorInfo {
  const y = s.reshape(s.transpose(yT, [1, 0]), shape);
  if (!bias && !relu) return y;
  const v = s.view(y);
  const b = bias ? s.view(bias) : undefined;
  const cout = yT.shape[0];
  for (let i = 0; i < v.length; i += cout) {
    for (let c = 0; c < cout; c++) {
      const x = v[i + c] + (b ? b[c] : 0);
      v[i + c] = relu && x < 0 ? 0 : x;
    }
  }
  return y;
}

function transposedConv(s: WasmScope, x: TensorInfo, filter: TensorInfo, info: Conv2DInfo, bias: TensorInfo | undefined, relu: boolean): TensorInfo {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = colsTransposed(s, x, info);
  const wT = s.transpose(s.reshape(filter, [k, info.outChannels]), [1, 0]);
  const yT = s.gemm(wT, cols);
  return transposeBack(s, yT, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], bias, relu);
}

function convInfo(x: TensorInfo, filter: TensorInfo, attrs: tf.NamedAttrMap): Conv2DInfo | null {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const dil = dilations ?? 1;
  if (format !== 'channelsLast' || !(dil === 1 || (Array.isArray(dil) && dil[0] === 1 && dil[1] === 1))) return null;
  return nhwcConvInfo(x.shape, filter.shape, strides, pad, dimRoundingMode);
}

/** Conv2D, replacing the stock kernel (which still runs whenever the transposed product does not pay). */
export function conv2dConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Conv2D',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: KernelArgs) => {
      const x = args.inputs.x as TensorInfo;
      const filter = args.inputs.filter as TensorInfo;
      const info = convInfo(x, filter, args.attrs);
      const reused = !firstUse(filter);
      if (info && ourGemmFor(info, reused, args.backend)) return withScope(args.backend, (s) => gemmConv2d(s, x, filter, info));
      if (!info || reused || !preferTransposedConv(info)) return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      return withScope(args.backend, (s) => transposedConv(s, x, filter, info, undefined, false));
    }) as unknown as tf.KernelFunc,
  };
}

/** FusedConv2D (conv + bias + linear/ReLU), replacing the stock kernel the same way. */
export function fusedConv2dConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'FusedConv2D',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: KernelArgs) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const activation = (args.attrs as unknown as tf.FusedConv2DAttrs).activation;
      const info = convInfo(x!, filter!, args.attrs);
      const simpleBias = !bias || (bias.shape.length === 1 && bias.shape[0] === info?.outChannels);
      const supported = info && simpleBias && !preluActivationWeights && (activation === 'linear' || activation === 'relu');
      const reused = !firstUse(filter!);
      if (supported && ourGemmFor(info, reused, args.backend))
        return withScope(args.backend, (s) => gemmConv2d(s, x!, filter!, info, bias, activation === 'relu'));
      if (!supported || reused || !preferTransposedConv(info)) return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      return withScope(args.backend, (s) => transposedConv(s, x!, filter!, info, bias, activation === 'relu'));
    }) as unknown as tf.KernelFunc,
  };
}
