/**
 * Multi-threaded wasm backend under Node (`--threads`; every core by default).
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build but never uses it under Node (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag returns false there, tfjs issue #3830), so `setThreadsCount` has no
 * effect. This loader instantiates the threaded build itself: the pthread worker script (which the package
 * only carries as a string meant for a Blob URL, which Node's Worker cannot load) is written to a file, the
 * emscripten factory gets file paths, and the resulting module replaces the factory registered under the
 * backend name 'wasm'. The stock kernels and ours work unchanged on it.
 *
 * The C++ side sizes its pool from the logical core count read once at start-up and never uses more than
 * half of it, so `os.cpus()` is widened while the module starts to let it reach the pool size asked for.
 * What runs in parallel: our GEMM (convolutions, their gradients, matrix products) on `threads` threads, and
 * XNNPACK's own operations on its pool (one thread by default, see enableWasmThreads); everything else stays on
 * the main thread.
 *
 * Call before the wasm backend is first initialised (before `selectBackend('wasm')`).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';

const require = createRequire(import.meta.url);

interface NodeWorkerLike {
  unref?(): void;
}
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: unknown[]) => unknown;
  PThread?: { terminateAllThreads(): void; runningWorkers: NodeWorkerLike[]; unusedWorkers: NodeWorkerLike[] };
  tfjs?: Record<string, unknown>;
}

let enabledWith = 0;

/** Whether `enableWasmThreads` replaced the backend factory, and with how many threads. */
export function wasmThreadsEnabled(): number {
  return enabledWith;
}

/** Prefix of the private folders that hold the worker script: `mic-train-wasm-<pid>-<random>`. */
const WORKER_DIR_PREFIX = 'mic-train-wasm-';

let workerDir: string | null = null;

/** The private folder of this process's worker script while the threaded backend runs (tests look at it). */
export function wasmWorkerDir(): string | null {
  return workerDir;
}

/** Remove worker folders of ours whose process is gone (a killed run cannot clean up after itself). */
function removeStaleWorkerDirs(tmp: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const n of names) {
    const m = new RegExp(`^${WORKER_DIR_PREFIX}(\\d+)-`).exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    const dir = path.join(tmp, n);
    try {
      const st = fs.lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Writes the pthread worker script into a fresh private folder (`mkdtemp`: an unpredictable name, mode
 * 0700, so no other user can plant or swap the code we run) and removes the folder when the process exits.
 */
function workerScriptPath(): string {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  const tmp = os.tmpdir();
  removeStaleWorkerDirs(tmp);
  const dir = fs.mkdtempSync(path.join(tmp, `${WORKER_DIR_PREFIX}${process.pid}-`));
  workerDir = dir;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'worker.cjs');
  // The string holds raw newlines where the script has "\n" escapes (tfjs escapes them the same way for its Blob).
  fs.writeFileSync(file, wasmWorkerContents.replace(/\n/g, '\\n'), { flag: 'wx', mode: 0o600 });
  return file;
}

/** Start the threaded SIMD build with the given pool size; resolves to the emscripten module. */
async function startThreadedModule(threads: number): Promise<EmscriptenModule> {
  const factoryPath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const wasmPath = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm');
  const factory = require(factoryPath) as (cfg: Record<string, unknown>) => Promise<EmscriptenModule>;
  const workerPath = workerScriptPath();
  const module = await factory({
    locateFile: (p: string, prefix: string) => (p.endsWith('.worker.js') ? workerPath : p.endsWith('.wasm') ? wasmPath : prefix + p),
    mainScriptUrlOrBlob: factoryPath,
  });
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * Replace the 'wasm' backend factory with the threaded build using `threads` threads. Returns the thread
 * count the backend reports after initialisation happens (read it with `getThreadsCount()` later).
 */
export async function enableWasmThreads(threads: number, opts: { xnnpackThreads?: number } = {}): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1) throw new UserError(`--threads: expected a positive integer, got ${threads}`);
  // XNNPACK's own pool: one thread unless asked. Our GEMM (kernels/gemm.ts) runs the convolutions and products on
  // `threads` worker threads of its own over the same memory, and XNNPACK's idle pool threads spin for
  // milliseconds after every operation, taking the cores those workers need. Measured (ResNet50 64 px train step,
  // --threads 2, 2 cores): XNNPACK pool 2 → 1 cut the step's CPU time 1.7–1.9 s → 1.3–1.65 s and its wall time
  // 3.6–4.2 s → 2.8–3.3 s.
  const xnnpackThreads = opts.xnnpackThreads ?? 1;
  if (enabledWith === threads) return;
  if (tf.engine().registry.wasm) {
    // Replacing a running backend would strand every tensor on it.
    throw new UserError(
      `--threads ${threads}: the wasm backend is already running with ${enabledWith || 1} thread(s); threads must be set before it starts`,
    );
  }
  const wasmPkg = await import('@tensorflow/tfjs-backend-wasm');
  const realCpus = os.cpus;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      // The pool size is decided when the backend object is constructed (init_with_threads_count), capped at
      // half the reported cores: report enough of them for that moment only.
      (os as { cpus: typeof os.cpus }).cpus = () => {
        const real = realCpus();
        const need = 2 * xnnpackThreads;
        return Array.from({ length: Math.max(real.length, need) }, (_, i) => real[i % real.length]);
      };
      try {
        const module = await startThreadedModule(xnnpackThreads);
        wasmPkg.setThreadsCount(xnnpackThreads);
        const backend = new wasmPkg.BackendWasm(module as unknown as ConstructorParameters<typeof wasmPkg.BackendWasm>[0]);
        // The pool's threads live as long as the backend and emscripten keeps them referenced, which would
        // keep Node from exiting when the program is done: let the event loop ignore them.
        for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) w.unref?.();
        return backend;
      } finally {
        (os as { cpus: typeof os.cpus }).cpus = realCpus;
      }
    },
    2,
  );
  enabledWith = threads;
}
