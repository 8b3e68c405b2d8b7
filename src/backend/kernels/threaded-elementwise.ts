/**
 * Add, Multiply, Relu and Step for the wasm backend on every thread. The stock kernels run on XNNPACK, whose
 * own thread pool we keep at one thread (its idle threads spin after every operation; `wasm-threads.ts`), so
 * on `--threads 2` these activation-sized passes — the residual sums, the ReLUs and their gradients
 * dy·step(x), the bias adds, about 1.2 s of a 6.3 s ResNet50 step at 224 px — ran on one core while the other waited.
 * Here they go to the GEMM's worker threads (`Gemm.elementwise`).
 *
 * Only where it pays and means the same: float32 tensors of at least `PARALLEL_ELEMENTS` values, both operands
 * of one shape or the smaller one a row broadcast over the larger (a bias over an activation, a BN scale over a
 * filter), Step with alpha 0, and more than one thread; everything else, and every call on one thread, goes
 * to the stock kernel. Each value is computed as the cpu backend computes it
 * (IEEE sums and products; ReLU max(0, x) and step x > 0 ? 1 : 0, NaN kept), so a run's numbers do not
 * depend on the thread count.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmFor, PARALLEL_ELEMENTS, type ElementwiseOp, type Gemm } from './gemm.ts';
import { heapOffset } from './heap-kernels.ts';
import type { TensorInfo } from './wasm-scope.ts';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

/** The GEMM's thread pool for a float32 tensor of `size` values, or null when the stock kernel should run. */
function threadedGemm(backend: BackendWasm, x: TensorInfo): Gemm | null {
  if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) < PARALLEL_ELEMENTS) return null;
  const g = gemmFor(backend);
  return g && g.threads > 1 ? g : null;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Shortest row `small` may be broadcast as (shorter rows: too many calls per value to pay). */
const MIN_ROW = 16;

/**
 * Length of `small` as one row broadcast over `big` (its shape, leading 1s aside, is big's trailing dims —
 * a bias [C] over [N, H, W, C], a BN scale over a filter), or 0.
 */
function rowBroadcast(big: number[], small: number[]): number {
  let first = 0;
  while (first < small.length && small[first] === 1) first++;
  const row = small.slice(first);
  if (row.length === 0 || row.length > big.length || !sameShape(row, big.slice(big.length - row.length))) return 0;
  const inner = tf.util.sizeFromShape(row);
  return inner >= MIN_ROW && small.length <= big.length ? inner : 0;
}

/** Kernel `kernelName` running `ours`, or the stock kernel wherever `ours` returns null. */
function withFallback(kernelName: string, stock: tf.KernelConfig, ours: (args: KernelArgs) => TensorInfo | null): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: ((args: KernelArgs) => ours(args) ?? stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0])) as unknown as tf.KernelFunc,
  };
}

function binaryConfig(kernelName: 'Add' | 'Multiply', op: ElementwiseOp, stock: tf.KernelConfig): tf.KernelConfig {
  return withFallback(kernelName, stock, (args) => {
    let a = args.inputs.a as TensorInfo;
    let b = args.inputs.b as TensorInfo;
    // Both ops commute: the larger operand first.
    if (tf.util.sizeFromShape(b.shape) > tf.util.sizeFromShape(a.shape)) [a, b] = [b, a];
    const rowOfB = sameShape(a.shape, b.shape) ? 0 : rowBroadcast(a.shape, b.shape);
    const usable = b.dtype === 'float32' && (rowOfB > 0 || sameShape(a.shape, b.shape));
    const g = usable ? threadedGemm(args.backend, a) : null;
    if (!g) return null;
    const out = args.backend.makeOutput(a.shape, 'float32');
    const at = (t: TensorInfo) => heapOffset(args.backend, t);
    g.elementwise(op, at(a), at(b), at(out), tf.util.sizeFromShape(a.shape), { rowOfB });
    return out;
  });
}

function unaryConfig(kernelName: 'Relu' | 'Step', op: ElementwiseOp, stock: tf.KernelConfig): tf.KernelConfig {
  return withFallback(kernelName, stock, (args) => {
    const x = args.inputs.x as TensorInfo;
    const alpha = kernelName === 'Step' ? ((args.attrs as { alpha?: number }).alpha ?? 0) : 0;
    const g = alpha === 0 ? threadedGemm(args.backend, x) : null;
    if (!g) return null;
    const out = args.backend.makeOutput(x.shape, 'float32');
    const at = (t: TensorInfo) => heapOffset(args.backend, t);
    const xAt = at(x);
    g.elementwise(op, xAt, xAt, at(out), tf.util.sizeFromShape(x.shape));
    return out;
  });
}

/** The threaded kernels, each falling back to the stock one it replaces (absent stock kernels: none). */
export function threadedElementwiseConfigs(stock: {
  add?: tf.KernelConfig;
  multiply?: tf.KernelConfig;
  relu?: tf.KernelConfig;
  step?: tf.KernelConfig;
}): tf.KernelConfig[] {
  const configs: tf.KernelConfig[] = [];
  if (stock.add) configs.push(binaryConfig('Add', 'add', stock.add));
  if (stock.multiply) configs.push(binaryConfig('Multiply', 'multiply', stock.multiply));
  if (stock.relu) configs.push(unaryConfig('Relu', 'relu', stock.relu));
  if (stock.step) configs.push(unaryConfig('Step', 'step', stock.step));
  return configs;
}
