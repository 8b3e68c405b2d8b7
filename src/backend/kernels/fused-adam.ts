/**
 * One Adam update per variable as a single pass of WebAssembly SIMD over the tensors where the tfjs wasm
 * backend keeps them (`adam.wat`, instantiated on the backend's own memory). The op-by-op tfjs version
 * runs ~10 elementwise kernels per variable, each allocating and writing a full-size tensor: 0.36 s per
 * ResNet-50 step (25.6 M parameters) on one core; this pass reads and writes each value once.
 *
 * Only for the single-threaded wasm build: its memory is a plain (non-shared) WebAssembly.Memory that a
 * second module can import. `fusedAdamAvailable()` says whether it applies to the current backend.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

interface AdamModule {
  adam(
    p: number, g: number, m: number, v: number, out: number, n: number, hasGrad: number,
    b1: number, c1: number, b2: number, c2: number, wd: number, s2: number, eps: number, lr: number,
  ): void;
}

/** Emscripten's module object of the wasm backend: its exports include the memory. */
interface EmscriptenWasm {
  asm?: { memory?: WebAssembly.Memory };
}

const instances = new WeakMap<WebAssembly.Memory, AdamModule>();
let compiled: WebAssembly.Module | undefined;

function wasmBackend(): BackendWasm | null {
  return tf.getBackend() === 'wasm' ? (tf.backend() as BackendWasm) : null;
}

function backendMemory(backend: BackendWasm): WebAssembly.Memory | null {
  const memory = (backend.wasm as unknown as EmscriptenWasm).asm?.memory;
  return memory instanceof WebAssembly.Memory && !(memory.buffer instanceof SharedArrayBuffer) ? memory : null;
}

/** The fused kernel bound to the current wasm backend's memory, or null (other backend, threaded build). */
function adamModule(): { backend: BackendWasm; kernel: AdamModule } | null {
  const backend = wasmBackend();
  const memory = backend && backendMemory(backend);
  if (!backend || !memory) return null;
  let kernel = instances.get(memory);
  if (!kernel) {
    compiled ??= new WebAssembly.Module(fs.readFileSync(new URL('./adam.wasm', import.meta.url)));
    kernel = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as AdamModule;
    instances.set(memory, kernel);
  }
  return { backend, kernel };
}

/** Whether `fusedAdamStep` can run on the current backend. */
export function fusedAdamAvailable(): boolean {
  return adamModule() !== null;
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
  const bound = adamModule();
  if (!bound) throw new Error('fusedAdamStep needs the single-threaded wasm backend');
  const { backend, kernel } = bound;
  const out = backend.makeOutput(param.shape, 'float32');
  // Offsets after the allocation: it may have grown (and so moved the views of) the heap.
  const at = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
  kernel.adam(
    at(param), grad ? at(grad) : 0, at(m), at(v), at(out), param.size, grad ? 1 : 0,
    k.beta1, 1 - k.beta1, k.beta2, 1 - k.beta2, k.weightDecay, k.sqrtBias2, k.eps, k.stepSize,
  );
  return tf.engine().makeTensorFromTensorInfo(out);
}
