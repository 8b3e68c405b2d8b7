/**
 * One Adam update per variable as a single pass of WebAssembly SIMD over the tensors where the tfjs wasm
 * backend keeps them (`adam` in `heap-kernels.wat`). The op-by-op tfjs version runs ~10 elementwise kernels
 * per variable, each allocating and writing a full-size tensor: 0.36 s per ResNet-50 step (25.6 M
 * parameters) on one core; this pass reads and writes each value once (0.05 s).
 */
import * as tf from '@tensorflow/tfjs';
import { heapKernels, heapOffset } from './heap-kernels.ts';

/** Whether `fusedAdamStep` can run on the current backend. */
export function fusedAdamAvailable(): boolean {
  return heapKernels() !== null;
}

/** Adam's constants for one step, as the optimizer computes them. */
export interface AdamScalars {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t). */
  sqrtBias2: number;
}

/**
 * Update `m` and `v` in place and return the new parameter values as a fresh tensor (the caller assigns it
 * to the variable and disposes it). `grad` undefined = zero gradient. All float32, same size.
 */
export function fusedAdamStep(param: tf.Tensor, grad: tf.Tensor | undefined, m: tf.Tensor, v: tf.Tensor, k: AdamScalars): tf.Tensor {
  const bound = heapKernels();
  if (!bound) throw new Error('fusedAdamStep needs the wasm backend');
  const { backend, kernels } = bound;
  // m and v are written in place: nothing else may hold their buffers.
  if (backend.refCount(m.dataId) !== 1 || backend.refCount(v.dataId) !== 1)
    throw new Error('fusedAdamStep: the moments share their buffers with other tensors');
  const out = backend.makeOutput(param.shape, 'float32');
  // Offsets after the allocation: it may have grown (and so moved the views of) the heap.
  const at = (t: tf.TensorInfo) => heapOffset(backend, t);
  kernels.adam(
    at(param),
    grad ? at(grad) : 0,
    at(m),
    at(v),
    at(out),
    param.size,
    grad ? 1 : 0,
    k.beta1,
    1 - k.beta1,
    k.beta2,
    1 - k.beta2,
    k.weightDecay,
    k.sqrtBias2,
    k.eps,
    k.stepSize,
  );
  return tf.engine().makeTensorFromTensorInfo(out);
}
