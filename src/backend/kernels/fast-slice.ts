/**
 * Slice and SplitV for the wasm backend without the whole-input copy: the stock kernels call
 * `readSync(x)` (a copy of all of x out of the heap) for every slice, so the gradient of a pad (a slice)
 * or of a concat (a split into k parts: k full copies) costs far more than the data it moves. These read
 * x through a heap view and copy only the selected rows. Strings go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from './wasm-scope.ts';

type HeapArray = Float32Array | Int32Array | Uint8Array;
let stockSlice: tf.KernelConfig | undefined;
let stockSplitV: tf.KernelConfig | undefined;

/** Copy the box [begin, begin+size) of x (any rank) into a new tensor. */
function sliceInfo(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  const xv = backend.typedArrayFromHeap(x) as HeapArray;
  const ov = backend.typedArrayFromHeap(out) as HeapArray;
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  // Merge the trailing dimensions that are taken whole into one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner--;
  const run = inner === rank - 1 ? size[rank - 1] : size[inner] * (strides[inner] ?? 1);
  if (rank === 0 || (inner === 0 && run === total)) {
    const from = rank === 0 ? 0 : begin[0] * (strides[0] ?? 1);
    ov.set(xv.subarray(from, from + total));
    return out;
  }
  // Odometer over the dimensions before `inner`.
  const idx = new Array<number>(inner).fill(0);
  const innerFrom = begin[inner] * (inner === rank - 1 ? 1 : strides[inner]);
  for (let at = 0; at < total; at += run) {
    let from = innerFrom;
    for (let d = 0; d < inner; d++) from += (begin[d] + idx[d]) * strides[d];
    ov.set(xv.subarray(from, from + run), at);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function slice(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string' && stockSlice) return stockSlice.kernelFunc(args as never) as TensorInfo;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
  return sliceInfo(backend, x, begin, size);
}

function splitV(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string' && stockSplitV) return stockSplitV.kernelFunc(args as never) as TensorInfo[];
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = x.shape.slice();
    size[axis] = n;
    const part = sliceInfo(backend, x, begin.slice(), size);
    begin[axis] += n;
    return part;
  });
}

export function fastSliceConfigs(stock: { slice?: tf.KernelConfig; splitV?: tf.KernelConfig }): tf.KernelConfig[] {
  stockSlice = stock.slice;
  stockSplitV = stock.splitV;
  return [
    { kernelName: 'Slice', backendName: 'wasm', kernelFunc: slice as unknown as tf.KernelFunc },
    { kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitV as unknown as tf.KernelFunc },
  ];
}
