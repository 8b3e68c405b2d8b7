/**
 * Identity without a copy. The stock wasm kernel copies the whole buffer, and tfjs calls Identity for every
 * gradient it passes through unchanged (~900 calls and 90 ms per ResNet-50 step at 64 px). Like the cpu
 * backend's (and wasm's own Reshape), this shares the data and counts the extra reference; no kernel of
 * ours writes into an input, and the fused Adam update, which writes its moments in place, checks that
 * nothing shares them (`fused-adam.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function identityConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Identity',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: { inputs: { x: tf.TensorInfo }; backend: BackendWasm }) => {
      const { x } = args.inputs;
      if (x.dtype === 'string') return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }) as unknown as tf.KernelFunc,
  };
}

/**
 * Cast to the dtype a tensor already has, without a copy. tfjs's ReLU gradient is dy·cast(step(x), 'float32'),
 * and step already returns float32: the stock kernel copied every ReLU's activation once more per step
 * (~0.18 s of a ResNet50 step at 224 px). Other casts go to the stock kernel.
 */
export function sameTypeCastConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Cast',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: { inputs: { x: tf.TensorInfo }; attrs: { dtype?: tf.DataType }; backend: BackendWasm }) => {
      const { x } = args.inputs;
      if (x.dtype === 'string' || args.attrs.dtype !== x.dtype) return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }) as unknown as tf.KernelFunc,
  };
}
