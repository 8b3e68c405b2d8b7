/**
 * Identity without a copy. The stock wasm kernel copies the whole buffer, and tfjs calls Identity for every
 * gradient it passes through unchanged (~900 calls and 90 ms per ResNet-50 step at 64 px). Like the cpu
 * backend's (and wasm's own Reshape), this shares the data and counts the extra reference; no kernel of
 * ours writes into an input, and the fused Adam update, which writes its moments in place, checks that
 * nothing shares them (`fused-adam.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type ShareArgs = { inputs: { x: tf.TensorInfo }; attrs: { dtype?: tf.DataType }; backend: BackendWasm };

/** Kernel `kernelName` answering with x's own data (one more reference) where `shares` says so, else the stock kernel. */
function sharingConfig(kernelName: string, stock: tf.KernelConfig, shares: (args: ShareArgs) => boolean): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: ShareArgs) => {
      const { x } = args.inputs;
      if (x.dtype === 'string' || !shares(args)) return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }) as unknown as tf.KernelFunc,
  };
}

export function identityConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return sharingConfig('Identity', stock, () => true);
}

/**
 * Cast to the dtype a tensor already has, without a copy. tfjs's ReLU gradient is dy·cast(step(x), 'float32'),
 * and step already returns float32: the stock kernel copied every ReLU's activation once more per step
 * (~0.18 s of a ResNet50 step at 224 px). Other casts go to the stock kernel.
 */
export function sameTypeCastConfig(stock: tf.KernelConfig): tf.KernelConfig {
  return sharingConfig('Cast', stock, (args) => args.attrs.dtype === args.inputs.x.dtype);
}
