/**
 * UnsortedSegmentSum for the wasm backend: out[segmentIds[i], …] += x[i, …]. tfjs dispatches the gradient
 * of `tf.gather` to it, so every loss that gathers embeddings by mined indices needs it to train.
 * A single pass over x on the heap (the cpu backend's version is one masked sum per segment).
 * Ids outside [0, numSegments) are dropped, as on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { cpuFallback } from './cpu-fallback.ts';
import type { TensorInfo } from './wasm-scope.ts';

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const numSegments = attrs.numSegments as number;
  if (ids.shape.length !== 1 || (x.dtype !== 'float32' && x.dtype !== 'int32')) {
    return cpuFallback(args, 'UnsortedSegmentSum');
  }
  const rows = ids.shape[0];
  const inner = rows === 0 ? 0 : tf.util.sizeFromShape(x.shape) / rows;
  const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
  // Views only after the last allocation (allocation can move the heap).
  const outV = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const xV = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const idV = backend.typedArrayFromHeap(ids) as Int32Array;
  outV.fill(0);
  for (let i = 0; i < rows; i++) {
    const seg = idV[i];
    if (seg < 0 || seg >= numSegments) continue;
    const from = i * inner;
    const to = seg * inner;
    for (let k = 0; k < inner; k++) outV[to + k] += xV[from + k];
  }
  return out;
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
