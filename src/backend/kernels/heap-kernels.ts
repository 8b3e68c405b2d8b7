/**
 * Our WebAssembly kernels (`heap-kernels.wat`) instantiated on the tfjs wasm backend's own memory, so they
 * read and write tensors where the backend keeps them, without copies: the fused Adam update
 * (`fused-adam.ts`), the matrix transpose of `wasm-scope.ts`, the im2col of `heap-layout.ts` and the max-pool
 * gradient of `max-pool-grad.ts`.
 *
 * The threaded wasm build's memory is shared, and a module importing it must declare that:
 * `heap-kernels-shared.wasm` is the same source compiled that way.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export interface HeapKernels {
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    out: number,
    n: number,
    hasGrad: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    wd: number,
    s2: number,
    eps: number,
    lr: number,
  ): void;
  transpose(src: number, dst: number, rows: number, cols: number, srcStride: number, dstStride: number): void;
  im2col(
    xT: number,
    cols: number,
    c: number,
    n: number,
    h: number,
    w: number,
    kh: number,
    kw: number,
    offH: number,
    offW: number,
    sH: number,
    sW: number,
    outH: number,
    outW: number,
  ): void;
  maxPoolGrad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
}

/** Emscripten's module object: the single-threaded build exports its memory, the threaded one hands it over as `wasmMemory`. */
interface EmscriptenWasm {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const instances = new WeakMap<WebAssembly.Memory, HeapKernels>();
const compiled = new Map<string, WebAssembly.Module>();

/** The compiled module, for a single-threaded backend's memory or a threaded one's shared memory. */
export function heapKernelsModule(shared: boolean): WebAssembly.Module {
  const file = shared ? './heap-kernels-shared.wasm' : './heap-kernels.wasm';
  let module = compiled.get(file);
  if (!module) compiled.set(file, (module = new WebAssembly.Module(fs.readFileSync(new URL(file, import.meta.url)))));
  return module;
}

/** The memory of a wasm backend, or null if it cannot be found (another tfjs build). */
export function backendMemory(backend: BackendWasm): WebAssembly.Memory | null {
  const wasm = backend.wasm as unknown as EmscriptenWasm;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** The kernels bound to `backend`'s memory (the current backend if omitted, if it is wasm), or null. */
export function heapKernels(backend?: BackendWasm): { backend: BackendWasm; kernels: HeapKernels } | null {
  const b = backend ?? (tf.getBackend() === 'wasm' ? (tf.backend() as BackendWasm) : null);
  const memory = b && backendMemory(b);
  if (!b || !memory) return null;
  let kernels = instances.get(memory);
  if (!kernels) {
    const module = heapKernelsModule(memory.buffer instanceof SharedArrayBuffer);
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HeapKernels;
    instances.set(memory, kernels);
  }
  return { backend: b, kernels };
}

/** Byte offset of a tensor's data in the backend's memory (valid until the next allocation grows it). */
export function heapOffset(backend: BackendWasm, t: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}
