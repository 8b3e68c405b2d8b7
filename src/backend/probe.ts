/**
 * What the machine offers a GPU run, found without loading anything into this process: which tfjs-node
 * packages are installed, the NVIDIA driver and GPUs (`/proc/driver/nvidia`, `nvidia-smi`), which CUDA
 * runtime and cuDNN libraries the loader can find, and — in a child process per package — what libtensorflow
 * itself reports when it starts (devices, libraries it could not open, op placement) plus a timed matmul.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTfLog, type TfLogFacts } from './tf-log.ts';

const require = createRequire(import.meta.url);

export const NATIVE_PACKAGES = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' } as const;

/** Installed version of a package, or undefined (resolves its package.json; loads nothing). */
export function installedVersion(pkg: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

export interface NvidiaGpu {
  name: string;
  memory?: string;
  computeCapability?: string;
}

export interface NvidiaInfo {
  /** First line of /proc/driver/nvidia/version, or undefined without a loaded NVIDIA driver. */
  driver?: string;
  gpus: NvidiaGpu[];
  /** How the GPUs were found. */
  source: 'nvidia-smi' | '/proc/driver/nvidia' | 'none';
}

/** The NVIDIA driver and its GPUs: nvidia-smi when it runs, else the driver's proc files. */
export function nvidiaInfo(): NvidiaInfo {
  let driver: string | undefined;
  try {
    driver = fs.readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0].trim();
  } catch {
    driver = undefined;
  }
  for (const fields of ['name,memory.total,compute_cap', 'name,memory.total']) {
    const r = spawnSync('nvidia-smi', [`--query-gpu=${fields}`, '--format=csv,noheader'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0 && r.stdout.trim()) {
      const gpus = r.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const [name, memory, cc] = l.split(',').map((s) => s.trim());
          return { name, memory, computeCapability: cc };
        });
      return { driver, gpus, source: 'nvidia-smi' };
    }
  }
  const gpus: NvidiaGpu[] = [];
  try {
    for (const d of fs.readdirSync('/proc/driver/nvidia/gpus').sort()) {
      const info = fs.readFileSync(path.join('/proc/driver/nvidia/gpus', d, 'information'), 'utf8');
      const m = /Model:\s*(.+)/.exec(info);
      if (m) gpus.push({ name: m[1].trim() });
    }
  } catch {
    // no driver
  }
  return { driver, gpus, source: gpus.length ? '/proc/driver/nvidia' : 'none' };
}

/** Directories the dynamic loader searches: LD_LIBRARY_PATH, the ldconfig cache's, CUDA's usual places. */
function libraryDirs(): string[] {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig']) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) continue;
    for (const m of r.stdout.matchAll(/=>\s*(\S+)/g)) dirs.push(path.dirname(m[1]));
    break;
  }
  dirs.push('/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib64');
  return [...new Set(dirs)];
}

/** Versioned files of `lib` (e.g. 'libcudart.so') the loader could find, as their file names. */
export function findLibraryVersions(libs: readonly string[], dirs = libraryDirs()): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(libs.map((l) => [l, [] as string[]]));
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const lib of libs) for (const n of names) if (n.startsWith(`${lib}.`) && !out[lib].includes(n)) out[lib].push(n);
  }
  for (const lib of libs) out[lib].sort();
  return out;
}

export interface NativeProbe {
  pkg: string;
  /** GPUs hidden from libtensorflow (CUDA_VISIBLE_DEVICES=-1) for a CPU comparison. */
  gpuHidden: boolean;
  loaded: boolean;
  error?: string;
  tfVersion?: string;
  onGpu?: boolean;
  matmul?: { n: number; firstMs: number; ms: number };
  log: TfLogFacts;
  /** The child exceeded its time limit (e.g. compiling PTX for a GPU newer than the library). */
  timedOut: boolean;
  seconds: number;
}

const CHILD = fileURLToPath(new URL('./native-probe-child.ts', import.meta.url));

/**
 * Load `pkg` in a child process with libtensorflow's logging on and time an n×n matmul there. `gpu` sets
 * CUDA_VISIBLE_DEVICES as `--gpu` does; `hideGpu` hides every GPU instead.
 */
export function probeNativePackage(pkg: string, o: { n: number; reps: number; hideGpu?: boolean; gpu?: number; timeoutMs: number }): NativeProbe {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '0', TF_CPP_VMODULE: 'execute=1' };
  if (o.hideGpu) env.CUDA_VISIBLE_DEVICES = '-1';
  else if (o.gpu !== undefined && env.CUDA_VISIBLE_DEVICES === undefined) env.CUDA_VISIBLE_DEVICES = String(o.gpu);
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, pkg, String(o.n), String(o.reps)], {
    encoding: 'utf8',
    env,
    timeout: o.timeoutMs,
    maxBuffer: 64 * 2 ** 20,
  });
  const seconds = (performance.now() - t) / 1000;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('MIC_PROBE '));
  const parsed = line ? (JSON.parse(line.slice('MIC_PROBE '.length)) as Partial<NativeProbe>) : {};
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const error =
    parsed.error ??
    (line
      ? undefined
      : timedOut
        ? `no answer within ${o.timeoutMs / 1000} s`
        : `the probe process ended with ${r.signal ?? `exit code ${r.status}`}`);
  return {
    pkg,
    gpuHidden: o.hideGpu ?? false,
    loaded: parsed.loaded ?? false,
    error,
    tfVersion: parsed.tfVersion,
    onGpu: parsed.onGpu,
    matmul: parsed.matmul,
    log: parseTfLog(r.stderr ?? ''),
    timedOut,
    seconds,
  };
}
