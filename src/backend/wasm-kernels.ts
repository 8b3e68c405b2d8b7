/**
 * Makes the wasm backend (@tensorflow/tfjs-backend-wasm 4.22.0) a training engine: registers the kernels
 * it lacks for the gradients of our models and losses, and replaces stock kernels that are too slow for
 * training, each composed from wasm's own fast (XNNPACK) kernels.
 *
 * | kernel | why |
 * |---|---|
 * | Conv2DBackpropFilter | missing: the filter gradient of every conv |
 * | Conv2DBackpropInput | stock one is a naive loop; ours is XNNPACK convolutions (phase decomposition when strided) |
 * | Conv2D, FusedConv2D | where the filter outweighs the input, the transposed product (XNNPACK repacks the smaller operand) |
 * | Identity | the stock one copies the buffer; ours shares it (tfjs calls it for every pass-through gradient) |
 * | MaxPoolGrad | the stock one took ~0.45 s for ResNet50's stem pool at 224 px (batch 8); ours one pass over the windows |
 * | Conv2D, FusedConv2D, both conv gradients, BatchMatMul | on our GEMM (kernels/gemm.wat) where the measured route table (kernels/gemm-routes.ts) says it beats XNNPACK |
 * | Slice, SplitV | stock ones copy the whole input out of the heap per slice (gradients of pad and concat) |
 * | Sum | over leading axes (conv bias gradients) without the stock kernel's full transpose |
 * | DepthwiseConv2dNativeBackpropFilter/Input | missing; cpu fallback (no architecture of ours uses depthwise convs) |
 *
 * Call `installWasmTrainingKernels()` once, after `tf.setBackend('wasm')` (calling it before also works).
 */
import * as tf from '@tensorflow/tfjs';
// Registers the stock wasm kernels, which the compositions below call.
import '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilterConfig } from './kernels/conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig, setStockInputGrad } from './kernels/conv2d-backprop-input.ts';
import { fastSliceConfigs } from './kernels/fast-slice.ts';
import { cpuFallback } from './kernels/cpu-fallback.ts';
import { captureStockKernel } from './kernels/wasm-scope.ts';
import { leadingAxesSumConfig } from './kernels/leading-axes-sum.ts';
import { conv2dConfig, fusedConv2dConfig } from './kernels/conv2d-forward.ts';
import { identityConfig, sameTypeCastConfig } from './kernels/identity.ts';
import { batchMatMulConfig } from './kernels/batch-matmul.ts';
import { maxPoolGradConfig } from './kernels/max-pool-grad.ts';
import { threadedElementwiseConfigs } from './kernels/threaded-elementwise.ts';

let installed = false;

function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

function cpuFallbackConfig(kernelName: string): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ((args: Parameters<typeof cpuFallback>[0]) => cpuFallback(args, kernelName)) as unknown as tf.KernelFunc,
  };
}

/**
 * Register the training kernels for 'wasm'. Idempotent. The wasm backend package must have been imported
 * (its stock kernels are captured here so that compositions can still call them).
 */
export function installWasmTrainingKernels(): void {
  if (installed) return;
  const stockInput = captureStockKernel('Conv2DBackpropInput');
  const stockSlice = captureStockKernel('Slice');
  const stockSplitV = captureStockKernel('SplitV');
  const stockSum = captureStockKernel('Sum');
  const stockConv = captureStockKernel('Conv2D');
  const stockFusedConv = captureStockKernel('FusedConv2D');
  const stockIdentity = captureStockKernel('Identity');
  const stockCast = captureStockKernel('Cast');
  const stockBatchMatMul = captureStockKernel('BatchMatMul');
  const stockMaxPoolGrad = captureStockKernel('MaxPoolGrad');
  const stockElementwise = {
    add: captureStockKernel('Add'),
    multiply: captureStockKernel('Multiply'),
    relu: captureStockKernel('Relu'),
    step: captureStockKernel('Step'),
  };
  setStockInputGrad(stockInput as tf.KernelConfig);
  replaceKernel(conv2dBackpropFilterConfig);
  replaceKernel(conv2dBackpropInputConfig(stockInput));
  replaceKernel(leadingAxesSumConfig(stockSum));
  if (stockConv) replaceKernel(conv2dConfig(stockConv));
  if (stockFusedConv) replaceKernel(fusedConv2dConfig(stockFusedConv));
  if (stockIdentity) replaceKernel(identityConfig(stockIdentity));
  if (stockCast) replaceKernel(sameTypeCastConfig(stockCast));
  if (stockBatchMatMul) replaceKernel(batchMatMulConfig(stockBatchMatMul));
  if (stockMaxPoolGrad) replaceKernel(maxPoolGradConfig(stockMaxPoolGrad));
  for (const config of fastSliceConfigs({ slice: stockSlice, splitV: stockSplitV })) replaceKernel(config);
  for (const config of threadedElementwiseConfigs(stockElementwise)) replaceKernel(config);
  for (const name of ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel(cpuFallbackConfig(name));
  }
  installed = true;
}
