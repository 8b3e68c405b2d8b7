/**
 * Running the wasm backend's own kernels from inside another kernel.
 *
 * A kernel registered for 'wasm' that is built out of other kernels must call their `kernelFunc`
 * directly, not `tf.*` ops: ops would be recorded on the gradient tape and tracked by the engine,
 * while a kernel's intermediates are invisible to both and only the returned TensorInfo becomes a
 * tensor. `WasmScope` does that bookkeeping: every TensorInfo it hands out is owned by the scope and
 * freed by `dispose()`, except the ones passed to `keep()`.
 *
 * Heap views: `view()` returns a Float32Array over the wasm heap. Any allocation may grow the heap
 * and detach earlier views, so take views only after the last allocation of a step.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors.ts';
import { heapKernels, heapOffset } from './heap-kernels.ts';
import { gemmFor } from './gemm.ts';

/** Values per transpose call shared out over the threads. */
const TRANSPOSE_BLOCK = 65536;

export type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
type KernelFunc = (params: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs?: Attrs }) => TensorInfo | TensorInfo[];

/** Stock kernels captured before any of ours replaces them (e.g. Conv2DBackpropInput). */
const stockKernels = new Map<string, KernelFunc>();

/** Remember the wasm kernelFunc currently registered under `name` as the stock one (first call wins). */
export function captureStockKernel(name: string): tf.KernelConfig | undefined {
  const config = tf.getKernel(name, 'wasm');
  if (config && !stockKernels.has(name)) stockKernels.set(name, config.kernelFunc as unknown as KernelFunc);
  return config;
}

function kernelFunc(name: string): KernelFunc {
  const stock = stockKernels.get(name);
  if (stock) return stock;
  const config = tf.getKernel(name, 'wasm');
  assert(config, `wasm kernel ${name} is not registered`);
  return config.kernelFunc as unknown as KernelFunc;
}

/** tfjs's Conv2DInfo of an NHWC convolution without dilation (the layout our compositions handle). */
export function nhwcConvInfo(
  inShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.backend_util.Conv2DInfo {
  type Shape4 = [number, number, number, number];
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    strides,
    1,
    pad as never,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Explicit conv padding [[0,0],[top,bottom],[left,right],[0,0]] as tfjs accepts it. */
export type ExplicitPad = [[0, 0], [number, number], [number, number], [0, 0]];

export function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPad {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * perm = [0..prefix−1, at..r−1, prefix..at−1] (a swap of the blocks [prefix, at) and [at, r)), or null.
 */
function blockSwap(perm: number[]): { prefix: number; at: number } | null {
  const r = perm.length;
  let prefix = 0;
  while (prefix < r && perm[prefix] === prefix) prefix++;
  if (prefix >= r - 1) return null;
  const at = perm[prefix];
  for (let i = prefix; i < r; i++) {
    const want = i < prefix + (r - at) ? at + (i - prefix) : prefix + (i - prefix - (r - at));
    if (perm[i] !== want) return null;
  }
  return { prefix, at };
}

export class WasmScope {
  private owned: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Run a registered wasm kernel (the stock one where ours replaced it); the output is owned by the scope. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs = {}): TensorInfo {
    const out = kernelFunc(name)({ inputs, backend: this.backend, attrs });
    assert(!Array.isArray(out), `wasm kernel ${name} returned several outputs`);
    this.owned.push(out);
    return out;
  }

  /** A fresh float32 tensor on the heap (contents undefined unless `zero`). */
  alloc(shape: number[], zero = false): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.owned.push(out);
    if (zero) this.view(out).fill(0);
    return out;
  }

  /** Float32 view of a tensor's heap memory. Invalidated by the next allocation. */
  view(t: TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  /** Hand `t` to the caller: the scope will not free it. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(t);
    if (i >= 0) this.owned.splice(i, 1);
    return t;
  }

  /** Free an intermediate early (peak heap matters for large activations). */
  free(t: TensorInfo): void {
    const i = this.owned.lastIndexOf(t);
    if (i >= 0) {
      this.owned.splice(i, 1);
      this.backend.disposeData(t.dataId);
    }
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned = [];
  }

  // ---- thin wrappers over the wasm kernels used by the compositions ----

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /**
   * Transpose. Permutations that swap two blocks of axes after an unchanged prefix (the only ones the
   * compositions use: [1,0], [3,0,1,2], [0,1,3,2], …) run as 2-D transposes with our SIMD kernel on the heap
   * (`heap-kernels.wat`; 4×4 register blocks), ~3× the JavaScript tiles that did this before and 4-5× the
   * stock kernel's generic loop, in blocks of rows shared out over the GEMM's threads where there are several;
   * other permutations (and a backend whose memory was not found) go to the stock kernel.
   */
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    const split = blockSwap(perm);
    const heap = heapKernels(this.backend);
    if (!split || x.dtype !== 'float32' || !heap) return this.run('Transpose', { x }, { perm });
    const { prefix, at } = split;
    const shape = x.shape;
    const batch = shape.slice(0, prefix).reduce((a, b) => a * b, 1);
    const rows = shape.slice(prefix, at).reduce((a, b) => a * b, 1);
    const cols = shape.slice(at).reduce((a, b) => a * b, 1);
    const out = this.alloc(perm.map((p) => shape[p]));
    const src = heapOffset(this.backend, x);
    const dst = heapOffset(this.backend, out);
    const g = gemmFor(this.backend);
    if (!g || g.threads === 1) {
      for (let b = 0; b < batch; b++) heap.kernels.transpose(src + b * rows * cols * 4, dst + b * rows * cols * 4, rows, cols, cols, rows);
      return out;
    }
    // On several threads: blocks of rows (a multiple of 4, ~64 K values each), each written to its own columns.
    const block = Math.max(4, Math.ceil(TRANSPOSE_BLOCK / cols / 4) * 4);
    const calls: number[][] = [];
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < rows; i += block) {
        const at = b * rows * cols * 4;
        calls.push([src + at + i * cols * 4, dst + at + i * 4, Math.min(block, rows - i), cols, cols, rows]);
      }
    }
    g.heapCalls('transpose', calls);
    return out;
  }

  /** NHWC convolution on XNNPACK. `pad` explicit or 'valid'. */
  conv2d(x: TensorInfo, filter: TensorInfo, strides: [number, number], pad: ExplicitPad | 'valid', dilations: [number, number] = [1, 1]): TensorInfo {
    return this.run('Conv2D', { x, filter }, { strides, pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined as unknown as string });
  }

  /**
   * a[m,k] · b[k,n] → [m,n], run as a 1×1 convolution on XNNPACK (input a as m pixels of k channels, b as the
   * filter). XNNPACK repacks its weight operand on every call (a new tensor each time) at only ~40–80 M
   * values/s, so callers pass the *smaller* operand as b. The convolution route packs from a contiguous
   * layout; the fully-connected route (BatchMatMul) packs b transposed and was up to 2× slower for tall b.
   */
  gemm(a: TensorInfo, b: TensorInfo): TensorInfo {
    const [m, k] = a.shape;
    const [k2, n] = b.shape;
    assert(k === k2, `gemm inner sizes ${k} vs ${k2}`);
    const out = this.conv2d(this.reshape(a, [1, m, 1, k]), this.reshape(b, [1, 1, k, n]), [1, 1], 'valid');
    return this.reshape(out, [m, n]);
  }
}

/**
 * Run `body` in a fresh scope and return its result as the kernel's output; every other intermediate is
 * freed, also when `body` throws.
 */
export function withScope(backend: BackendWasm, body: (s: WasmScope) => TensorInfo): TensorInfo {
  const scope = new WasmScope(backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
