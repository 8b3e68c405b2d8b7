/**
 * MaxPoolGrad for the wasm backend: the stock kernel took ~0.45 s per call (process CPU) for ResNet50's stem pool
 * at 224 px, batch 8 (8×112×112×64 in), ~4 % of a train step; this one walks each window once per output
 * position, four channels at a time in WebAssembly SIMD (`heap-kernels.wat`; JavaScript where the channel count
 * is not a multiple of 4).
 *
 * dx[argmax of the window] += dy for every output position; the argmax is the first maximum in row-major window
 * order (strictly greater replaces), as the cpu backend picks it. NHWC, no dilation.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapKernels, heapOffset } from './heap-kernels.ts';
import { withScope, type TensorInfo } from './wasm-scope.ts';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

export function maxPoolGradConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'MaxPoolGrad',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: KernelArgs) => {
      const dy = args.inputs.dy as TensorInfo;
      const x = args.inputs.input as TensorInfo;
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
      if (x.dtype !== 'float32' || x.shape.length !== 4) return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      return withScope(args.backend, (s) => {
        const dx = s.alloc(x.shape, true);
        const heap = heapKernels(s.backend);
        if (heap && info.inChannels % 4 === 0) {
          const at = (t: TensorInfo) => heapOffset(s.backend, t);
          const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
          heap.kernels.maxPoolGrad(
            at(x),
            at(dy),
            at(dx),
            batchSize,
            inHeight,
            inWidth,
            inChannels,
            outHeight,
            outWidth,
            filterHeight,
            filterWidth,
            strideHeight,
            strideWidth,
            info.padInfo.top,
            info.padInfo.left,
          );
          return dx;
        }
        // Channels not a multiple of 4: the same walk in JavaScript.
        const xv = s.view(x);
        const dyv = s.view(dy);
        const dxv = s.view(dx);
        const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
        const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
        const top = info.padInfo.top;
        const left = info.padInfo.left;
        const best = new Float32Array(c);
        const arg = new Int32Array(c);
        let out = 0;
        for (let b = 0; b < n; b++) {
          for (let i = 0; i < ho; i++) {
            const r0 = i * sh - top;
            for (let j = 0; j < wo; j++, out += c) {
              const c0 = j * sw - left;
              best.fill(Number.NEGATIVE_INFINITY);
              arg.fill(-1);
              for (let r = Math.max(r0, 0); r < Math.min(r0 + fh, h); r++) {
                for (let col = Math.max(c0, 0); col < Math.min(c0 + fw, w); col++) {
                  const base = ((b * h + r) * w + col) * c;
                  for (let ch = 0; ch < c; ch++) {
                    const v = xv[base + ch];
                    if (v > best[ch]) {
                      best[ch] = v;
                      arg[ch] = base + ch;
                    }
                  }
                }
              }
              for (let ch = 0; ch < c; ch++) if (arg[ch] >= 0) dxv[arg[ch]] += dyv[out + ch];
            }
          }
        }
        return dx;
      });
    }) as unknown as tf.KernelFunc,
  };
}
