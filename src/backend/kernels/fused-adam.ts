/**
 * One Adam update per variable as a single pass of WebAssembly SIMD over the tensors where the tfjs wasm
 * backend keeps them (`adam.wat`, instantiated on the backend's own memory). The op-by-op tfjs version
 * runs ~10 elementwise kernels per variable, each allocating and writing a full-size tensor: 0.36 s per
 * ResNet-50 step (25.6 M parameters) on one core; this pass reads and writes each value once.
 *
 * The threaded wasm build's memory is shared, and a module importing it must declare that: `adam-shared.wasm`
 * is the same source compiled that way. `fusedAdamAvailable()` says whether the backend's memory was found.
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

/** Emscripten's module object of the wasm backend: the single-threaded build exports its memory, the threaded one hands it over as `wasmMemory`. */
interface EmscriptenWasm {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const instances = new WeakMap<WebAssembly.Memory, AdamModule>();
const compiled = new Map<string, WebAssembly.Module>();

function wasmBackend(): BackendWasm | null {
  return tf.getBackend() === 'wasm' ? (tf.backend() as BackendWasm) : null;
}

function backendMemory(backend: BackendWasm): WebAssembly.Memory | null {
  const wasm = backend.wasm as unknown as EmscriptenWasm;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** The fused kernel bound to the current wasm backend's memory, or null (another backend). */
function adamModule(): { backend: BackendWasm; kernel: AdamModule } | null {
  const backend = wasmBackend();
  const memory = backend && backendMemory(backend);
  if (!backend || !memory) return null;
  let kernel = instances.get(memory);
  if (!kernel) {
    const file = memory.buffer instanceof SharedArrayBuffer ? './adam-shared.wasm' : './adam.wasm';
    let module = compiled.get(file);
    if (!module) compiled.set(file, (module = new WebAssembly.Module(fs.readFileSync(new URL(file, import.meta.url)))));
    kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as AdamModule;
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
  if (!bound) throw new Error('fusedAdamStep needs the wasm backend');
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
