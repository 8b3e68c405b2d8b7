/**
 * Choosing and initialising the tfjs backend. `auto` tries tensorflow-gpu → tensorflow → wasm → cpu and
 * says in one line which one it took and why. The tfjs-node packages are optionalDependencies that cannot
 * install without network, so they are loaded at run time with `createRequire` (a static import would break
 * type-checking where they are absent).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { forcedProfile, PROFILE_ENV, profileFor, type BackendProfile } from './profile.ts';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface BackendReport {
  /** What was asked for. */
  requested: BackendChoice;
  /** The backend in use ('tensorflow-gpu' and 'tensorflow' both register tfjs's 'tensorflow'). */
  name: BackendName;
  /** tfjs's own backend name (tf.getBackend()). */
  tfName: string;
  /** One line saying what was chosen and why the earlier candidates were not. */
  reason: string;
  threads: number;
  /** Where the kernels run: 'CPU', or 'GPU' plus the device name where it can be found. */
  device: string;
  /** Set when tensorflow-gpu loaded but libtensorflow runs on the CPU: what to tell the user, loudly. */
  gpuWarning?: string;
  /** What the training code does on this backend (`backend/profile.ts`). */
  profile: BackendProfile;
  /** The matrix-product engine of a wasm backend (ours or XNNPACK's, variant, threads, blocking). */
  gemm?: string;
  versions: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** Injected by tests to simulate which native packages exist. */
export interface BackendEnv {
  requireModule(name: string): unknown;
}
const defaultEnv: BackendEnv = { requireModule: (name) => require(name) };

function loadNative(pkg: string, env: BackendEnv): { ok: true } | { ok: false; why: string } {
  try {
    env.requireModule(pkg);
    return { ok: true };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND') {
      return { ok: false, why: `${pkg} not installed` };
    }
    const first = String(err.message ?? err).split('\n')[0];
    return { ok: false, why: `${pkg} failed to load (${first})` };
  }
}

/**
 * Most threads `--threads 0` takes: the size of the threaded tfjs build's pthread pool. How far the work scales
 * past 2 cores is not measured (the development machine has 2), so more is not taken by default.
 */
export const MAX_WASM_THREADS = 8;

/** Threads for the wasm backend: `--threads 0` = every core (available parallelism, at most MAX_WASM_THREADS); none given = 1. */
export function wasmThreadsFor(requested: number | undefined): number {
  if (requested === undefined) return 1;
  return requested > 0 ? requested : Math.max(1, Math.min(os.availableParallelism(), MAX_WASM_THREADS));
}

let wasmPathsSet = false;
async function initWasm(threads: number): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    // Load the .wasm binaries from node_modules, never from a CDN.
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dir + path.sep);
    wasmPathsSet = true;
  }
  // tfjs 4.22 ignores setThreadsCount under Node; the custom loader starts the threaded build instead.
  if (threads > 1) {
    const { enableWasmThreads } = await import('./wasm-threads.ts');
    await enableWasmThreads(threads);
    const { wasmThreadsEnabled } = await import('./wasm-threads.ts');
    wasmThreads = Math.max(1, wasmThreadsEnabled());
    const { setGemmThreads } = await import('./kernels/gemm.ts');
    setGemmThreads(wasmThreads);
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
  // The stock wasm backend cannot train a conv net (no filter gradient); fill in its missing kernels.
  const { installWasmTrainingKernels } = await import('./wasm-kernels.ts');
  installWasmTrainingKernels();
}

/**
 * Select and initialise a backend. Throws UserError when an explicitly requested backend is unavailable.
 * `gpu` sets CUDA_VISIBLE_DEVICES before the GPU package loads (libtensorflow reads it once).
 */
export async function selectBackend(
  requested: BackendChoice,
  opts: { gpu?: number; threads?: number; env?: BackendEnv; log?: (line: string) => void } = {},
): Promise<BackendReport> {
  const env = opts.env ?? defaultEnv;
  const skipped: string[] = [];
  const forced = forcedProfile();
  const order: BackendName[] = requested === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [requested];
  if (requested === 'wasm') profileFor('wasm'); // refuses the test switch before the backend is set up
  for (const name of order) {
    if (requested === 'auto' && name === 'wasm' && forced) {
      skipped.push(`wasm skipped (${PROFILE_ENV}=${forced})`);
      continue;
    }
    const attempt = await tryBackend(name, env, opts);
    if (attempt.ok) {
      const because = skipped.length ? ` (${skipped.join('; ')})` : '';
      const reason = requested === 'auto' ? `backend: ${name}${because}` : `backend: ${name} (requested)`;
      const report = await makeReport(requested, name, reason, env);
      opts.log?.(report.reason);
      if (report.gemm) {
        const every = opts.threads === 0 && report.threads > 1 ? ' (--threads 0: every core)' : '';
        opts.log?.(`wasm: ${report.threads} thread${report.threads > 1 ? 's' : ''}${every}; GEMM: ${report.gemm}`);
      }
      return report;
    }
    if (requested !== 'auto') {
      throw new UserError(`--backend ${name}: not available: ${attempt.why}. Use --backend auto to fall back.`);
    }
    skipped.push(attempt.why);
  }
  throw new UserError(`--backend auto: no backend could be initialised (${skipped.join('; ')})`);
}

async function tryBackend(
  name: BackendName,
  env: BackendEnv,
  opts: { gpu?: number; threads?: number },
): Promise<{ ok: true } | { ok: false; why: string }> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    if (name === 'tensorflow-gpu' && opts.gpu !== undefined && process.env.CUDA_VISIBLE_DEVICES === undefined) {
      process.env.CUDA_VISIBLE_DEVICES = String(opts.gpu);
    }
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    const r = loadNative(pkg, env);
    if (!r.ok) return r;
    try {
      if (!(await tf.setBackend('tensorflow'))) return { ok: false, why: `${pkg} loaded but its backend did not initialise` };
      await tf.ready();
      return { ok: true };
    } catch (e) {
      return { ok: false, why: `${pkg} backend failed (${(e as Error).message.split('\n')[0]})` };
    }
  }
  if (name === 'wasm') {
    try {
      await initWasm(wasmThreadsFor(opts.threads));
      return { ok: true };
    } catch (e) {
      return { ok: false, why: `wasm backend failed (${(e as Error).message.split('\n')[0]})` };
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { ok: true };
}

let wasmThreads = 1;
function wasmThreadCount(): number {
  return wasmThreads;
}

function pkgVersion(name: string, env: BackendEnv): string | undefined {
  try {
    return (env.requireModule(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

async function makeReport(requested: BackendChoice, name: BackendName, reason: string, env: BackendEnv): Promise<BackendReport> {
  const versions: Record<string, string> = { node: process.versions.node, 'tfjs-core': tf.version_core };
  for (const p of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'sharp']) {
    const v = pkgVersion(p, env);
    if (v) versions[p] = v;
  }
  const native = nativeBackendInfo();
  if (native.tfVersion) versions.libtensorflow = native.tfVersion;
  let actualThreads = 1;
  if (name === 'wasm') {
    actualThreads = wasmThreadCount();
  } else if (name !== 'cpu') {
    actualThreads = os.availableParallelism();
  }
  const report: BackendReport = {
    requested,
    name,
    tfName: tf.getBackend(),
    reason,
    threads: actualThreads,
    device: 'CPU',
    profile: profileFor(tf.getBackend()),
    versions,
  };
  if (name === 'tensorflow-gpu') {
    if (native.onGpu === false) {
      report.gpuWarning =
        'tensorflow-gpu loaded, but libtensorflow found no usable GPU and runs on the CPU; `npx mic-train doctor --backend tensorflow-gpu` says why';
      report.reason += ', device: CPU (no usable GPU)';
    } else {
      const model = gpuDeviceName();
      report.device = model ? `GPU: ${model}` : 'GPU';
      report.reason += `, device: ${report.device}`;
    }
  }
  if (name === 'wasm') {
    const { gemmEngine } = await import('./kernels/gemm-routes.ts');
    report.gemm = gemmEngine(tf.backend() as never);
  }
  return report;
}

/**
 * What the tfjs-node binding says about itself: libtensorflow's version and whether it placed the backend on a
 * GPU device (the binding picks a GPU when libtensorflow lists one, else the CPU). Empty for other backends.
 */
export function nativeBackendInfo(): { tfVersion?: string; onGpu?: boolean } {
  if (tf.getBackend() !== 'tensorflow') return {};
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: string } };
  return { tfVersion: b.binding?.TF_Version, onGpu: b.isUsingGpuDevice };
}

/** Best-effort GPU name from the NVIDIA driver's proc file (no extra dependencies). */
function gpuDeviceName(): string | undefined {
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const dir = '/proc/driver/nvidia/gpus';
    const first = fs.readdirSync(dir)[0];
    const info = fs.readFileSync(path.join(dir, first, 'information'), 'utf8');
    const m = /Model:\s*(.+)/.exec(info);
    return m?.[1].trim();
  } catch {
    return undefined;
  }
}
