/**
 * The backends of `--backend auto`'s order as this machine offers them, each with why it would be taken or
 * skipped, and for tensorflow-gpu the evidence of a real GPU: the devices libtensorflow created, where it ran
 * a matmul (its own placement log) and how fast against the same library with the GPU hidden.
 * Native packages are probed in child processes (`probe.ts`), so this process loads neither.
 */
import { forcedProfile, PROFILE_ENV } from './profile.ts';
import {
  findLibraryVersions,
  installedVersion,
  NATIVE_PACKAGES,
  nvidiaInfo,
  probeNativePackage,
  type NativeProbe,
  type NvidiaInfo,
} from './probe.ts';
import type { BackendChoice, BackendName } from './select.ts';
import { isGpuDevice } from './tf-log.ts';

export const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** What tfjs-node-gpu 4.22.0's libtensorflow 2.9.1 opens (as its own log names them when they are missing). */
export const LIBTENSORFLOW_291_NEEDS = { 'libcudart.so': 'libcudart.so.11.0', 'libcudnn.so': 'libcudnn.so.8' } as const;

export interface BackendRow {
  name: BackendName;
  usable: boolean;
  /** Why it is usable or not, in a few words. */
  why: string;
  /** tensorflow-gpu only: libtensorflow loaded but placed the backend on the CPU. */
  onCpuOnly?: boolean;
  /** Native backends: whether their package is installed at all. */
  installed?: boolean;
}

export interface GpuEvidence {
  nvidia: NvidiaInfo;
  /** Versioned libcudart / libcudnn files the loader can find. */
  libraries: Record<string, string[]>;
  probe?: NativeProbe;
  /** The same library with every GPU hidden (only when the GPU was used). */
  cpuProbe?: NativeProbe;
  /** Lines for the report. */
  lines: string[];
  /** Why no GPU is used, in one line; undefined when libtensorflow runs on a GPU. */
  problem?: string;
}

export interface Survey {
  rows: BackendRow[];
  /** What `auto` would take. */
  autoChoice: BackendName;
  gpu: GpuEvidence;
  /** Probes of installed native packages, by package. */
  probes: Map<string, NativeProbe>;
}

export interface SurveyOptions {
  gpu?: number;
  /** n of the n×n matmul timed on each side. */
  matmulSize?: number;
  timeoutMs?: number;
  /** Injected by tests. */
  probeFn?: typeof probeNativePackage;
  versionFn?: (pkg: string) => string | undefined;
  nvidiaFn?: () => NvidiaInfo;
  librariesFn?: (libs: readonly string[]) => Record<string, string[]>;
}

/** The first reason libtensorflow gives for not using a GPU, from its log. */
function whyNoGpu(p: NativeProbe, nvidia: NvidiaInfo, libs: Record<string, string[]>): string {
  const missing = p.log.missingLibraries.map((m) => m.library);
  if (missing.length) {
    const found = Object.values(libs).flat();
    return (
      `libtensorflow ${p.tfVersion ?? ''} could not open ${missing.join(', ')}`.replace('  ', ' ') +
      (found.length ? ` (found: ${found.join(', ')})` : '')
    );
  }
  if (p.log.cuInitError) return `CUDA initialisation failed: ${p.log.cuInitError}`;
  if (nvidia.source === 'none' && !nvidia.driver) return 'no NVIDIA driver or GPU visible on this machine';
  if (p.log.skippedGpu) return 'libtensorflow skipped registering GPU devices';
  return 'libtensorflow created no GPU device';
}

export function gpuEvidence(
  p: NativeProbe | undefined,
  cpu: NativeProbe | undefined,
  nvidia: NvidiaInfo,
  libs: Record<string, string[]>,
  pkgInstalled: boolean,
): GpuEvidence {
  const lines: string[] = [];
  lines.push(`NVIDIA driver: ${nvidia.driver ?? 'none loaded'}`);
  if (nvidia.gpus.length) {
    for (const g of nvidia.gpus)
      lines.push(
        `GPU (${nvidia.source}): ${g.name}${g.memory ? `, ${g.memory}` : ''}${g.computeCapability ? `, compute capability ${g.computeCapability}` : ''}`,
      );
  } else {
    lines.push('GPUs: none found (no nvidia-smi answer, no /proc/driver/nvidia/gpus)');
  }
  const libLine = Object.entries(libs)
    .map(([l, v]) => `${l}: ${v.length ? v.join(' ') : 'none'}`)
    .join('; ');
  lines.push(
    `CUDA libraries the loader can find: ${libLine} (libtensorflow 2.9.1 of tfjs-node-gpu 4.22 opens ${Object.values(LIBTENSORFLOW_291_NEEDS).join(' and ')})`,
  );
  if (!pkgInstalled)
    return { nvidia, libraries: libs, lines, problem: `${NATIVE_PACKAGES['tensorflow-gpu']} not installed (scripts/install-gpu.sh installs it)` };
  if (!p || !p.loaded)
    return { nvidia, libraries: libs, probe: p, lines, problem: `${NATIVE_PACKAGES['tensorflow-gpu']} failed to load: ${p?.error ?? 'not probed'}` };
  lines.push(`libtensorflow ${p.tfVersion ?? '(version unknown)'} loaded in ${p.seconds.toFixed(1)} s`);
  for (const d of p.log.devices) {
    lines.push(
      `libtensorflow device ${d.name}: ${d.gpuName ?? '?'}, ${d.memoryMb} MB, compute capability ${d.computeCapability ?? '?'}${d.pciBusId ? `, PCI ${d.pciBusId}` : ''}`,
    );
  }
  for (const m of p.log.missingLibraries) lines.push(`libtensorflow could not open ${m.library}: ${m.error}`);
  for (const cc of p.log.ptxJit) {
    lines.push(
      `libtensorflow has no kernel binaries for compute capability ${cc}: the driver compiles PTX at start-up (slow first run; a CUDA_CACHE_MAXSIZE of a few GB keeps the result)`,
    );
  }
  const matmulOn = p.log.placements.find((x) => x.op === 'MatMul');
  if (matmulOn) lines.push(`libtensorflow ran MatMul on ${matmulOn.device}`);
  if (p.matmul) {
    const gflops = (ms: number) => ((2 * p.matmul!.n ** 3) / (ms / 1000) / 1e9).toFixed(0);
    let line = `${p.matmul.n}×${p.matmul.n} matmul: ${p.matmul.ms.toFixed(2)} ms (${gflops(p.matmul.ms)} GFLOP/s; first call ${p.matmul.firstMs.toFixed(0)} ms)`;
    if (cpu?.matmul)
      line += `; with the GPU hidden ${cpu.matmul.ms.toFixed(1)} ms (${gflops(cpu.matmul.ms)} GFLOP/s): ${(cpu.matmul.ms / p.matmul.ms).toFixed(1)}× faster on the GPU`;
    lines.push(line);
  }
  if (p.timedOut)
    return {
      nvidia,
      libraries: libs,
      probe: p,
      cpuProbe: cpu,
      lines,
      problem: `libtensorflow did not finish within ${p.seconds.toFixed(0)} s (compiling PTX for a newer GPU?)`,
    };
  if (!p.onGpu)
    return { nvidia, libraries: libs, probe: p, cpuProbe: cpu, lines, problem: `libtensorflow runs on the CPU: ${whyNoGpu(p, nvidia, libs)}` };
  if (matmulOn && !isGpuDevice(matmulOn.device)) {
    return { nvidia, libraries: libs, probe: p, cpuProbe: cpu, lines, problem: `libtensorflow has a GPU but placed MatMul on ${matmulOn.device}` };
  }
  return { nvidia, libraries: libs, probe: p, cpuProbe: cpu, lines };
}

/** Survey every backend of the auto order. Takes seconds (plus libtensorflow's start-up when installed). */
export function surveyBackends(o: SurveyOptions = {}): Survey {
  const probe = o.probeFn ?? probeNativePackage;
  const version = o.versionFn ?? installedVersion;
  const n = o.matmulSize ?? 2048;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const probes = new Map<string, NativeProbe>();
  const rows: BackendRow[] = [];
  const forced = forcedProfile();

  const gpuPkg = NATIVE_PACKAGES['tensorflow-gpu'];
  const gpuInstalled = version(gpuPkg) !== undefined;
  let gpuProbe: NativeProbe | undefined;
  let cpuProbe: NativeProbe | undefined;
  if (gpuInstalled) {
    gpuProbe = probe(gpuPkg, { n, reps: 5, gpu: o.gpu, timeoutMs });
    probes.set(gpuPkg, gpuProbe);
    if (gpuProbe.loaded && gpuProbe.onGpu) cpuProbe = probe(gpuPkg, { n, reps: 2, hideGpu: true, timeoutMs });
  }
  const gpu = gpuEvidence(
    gpuProbe,
    cpuProbe,
    (o.nvidiaFn ?? nvidiaInfo)(),
    (o.librariesFn ?? findLibraryVersions)(Object.keys(LIBTENSORFLOW_291_NEEDS)),
    gpuInstalled,
  );
  const installed = { installed: gpuInstalled };
  if (!gpuInstalled) rows.push({ name: 'tensorflow-gpu', usable: false, why: `${gpuPkg} not installed`, ...installed });
  else if (!gpuProbe?.loaded)
    rows.push({ name: 'tensorflow-gpu', usable: false, why: `${gpuPkg} failed to load (${gpuProbe?.error})`, ...installed });
  else if (!gpuProbe.onGpu)
    rows.push({ name: 'tensorflow-gpu', usable: true, onCpuOnly: true, why: `loads, but ${gpu.problem ?? 'runs on the CPU'}`, ...installed });
  else
    rows.push({
      name: 'tensorflow-gpu',
      usable: true,
      why: `on ${gpuProbe.log.devices[0]?.gpuName ?? 'a GPU'}${gpu.problem ? `, but ${gpu.problem}` : ''}`,
      ...installed,
    });

  const cpuPkg = NATIVE_PACKAGES.tensorflow;
  if (version(cpuPkg) === undefined) rows.push({ name: 'tensorflow', usable: false, why: `${cpuPkg} not installed`, installed: false });
  else {
    const p = probe(cpuPkg, { n: Math.min(n, 1024), reps: 2, timeoutMs });
    probes.set(cpuPkg, p);
    rows.push(
      p.loaded
        ? { name: 'tensorflow', usable: true, installed: true, why: `libtensorflow ${p.tfVersion ?? ''} on the CPU` }
        : { name: 'tensorflow', usable: false, installed: true, why: `${cpuPkg} failed to load (${p.error})` },
    );
  }
  rows.push(
    forced
      ? { name: 'wasm', usable: false, why: `skipped by ${PROFILE_ENV}=${forced}` }
      : { name: 'wasm', usable: true, why: 'always available (WebAssembly, XNNPACK)' },
  );
  rows.push({ name: 'cpu', usable: true, why: 'always available (plain JavaScript, slow)' });
  const autoChoice = rows.find((r) => r.usable)!.name;
  return { rows, autoChoice, gpu, probes };
}

/**
 * The one-line reason a GPU was wanted but is not used, or undefined. Wanted: `--backend tensorflow-gpu`, or
 * `auto` with tfjs-node-gpu installed (nobody installs it to train on the CPU).
 */
export function gpuVerdict(requested: BackendChoice, s: Survey): string | undefined {
  const gpuRow = s.rows.find((r) => r.name === 'tensorflow-gpu')!;
  const wantsGpu = requested === 'tensorflow-gpu' || (requested === 'auto' && gpuRow.installed === true);
  if (!wantsGpu || !s.gpu.problem) return undefined;
  return `GPU requested but not used: ${s.gpu.problem}`;
}
