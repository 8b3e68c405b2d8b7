/**
 * Reads libtensorflow's own log (its stderr with TF_CPP_MIN_LOG_LEVEL=0, and TF_CPP_VMODULE=execute=1 for
 * op placement) for what `doctor` must report: which CUDA libraries it could not open, the GPU devices it
 * created (memory, compute capability), whether it compiles kernels from PTX at start-up, and on which
 * device it ran each op. Only the message text is matched, so both log prefixes work
 * (`2024-05-06 00:05:33.767399: W tensorflow/…/dso_loader.cc:64] …` and absl's `W0000 00:00:… gpu_device.cc:2431] …`).
 */

export interface TfDevice {
  /** e.g. /job:localhost/replica:0/task:0/device:GPU:0 */
  name: string;
  memoryMb: number;
  gpuName?: string;
  pciBusId?: string;
  computeCapability?: string;
}

export interface TfLogFacts {
  devices: TfDevice[];
  /** Libraries libtensorflow tried to dlopen and could not, with the loader's reason. */
  missingLibraries: { library: string; error: string }[];
  openedLibraries: string[];
  /** libtensorflow said it skips registering GPU devices (missing libraries). */
  skippedGpu: boolean;
  /** cuInit failed (no device, driver mismatch …): its message. */
  cuInitError?: string;
  /** Compute capabilities for which libtensorflow has no kernel binaries and JIT-compiles PTX. */
  ptxJit: string[];
  /** First placement of each op libtensorflow logged. */
  placements: { op: string; device: string }[];
}

export function parseTfLog(text: string): TfLogFacts {
  const facts: TfLogFacts = { devices: [], missingLibraries: [], openedLibraries: [], skippedGpu: false, ptxJit: [], placements: [] };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /Could not load dynamic library '([^']+)'; dlerror: ([^;]*)/.exec(line))) {
      if (!facts.missingLibraries.some((x) => x.library === m![1])) facts.missingLibraries.push({ library: m[1], error: m[2].trim() });
    } else if ((m = /Successfully opened dynamic library (\S+)/.exec(line))) {
      if (!facts.openedLibraries.includes(m[1])) facts.openedLibraries.push(m[1]);
    } else if ((m = /Created device (\S+) with (\d+) MB memory:\s*->\s*(.*)$/.exec(line))) {
      const desc = m[3];
      const device: TfDevice = { name: m[1], memoryMb: Number(m[2]) };
      const name = /name: (.*?)(?:, pci bus id: |$)/.exec(desc);
      if (name) device.gpuName = name[1].trim();
      const pci = /pci bus id: ([^,]+)/.exec(desc);
      if (pci) device.pciBusId = pci[1].trim();
      const cc = /compute capability: (\S+)/.exec(desc);
      if (cc) device.computeCapability = cc[1];
      facts.devices.push(device);
    } else if (/Skipping registering GPU devices/.test(line)) {
      facts.skippedGpu = true;
    } else if ((m = /failed call to cuInit: (.*)$/.exec(line))) {
      facts.cuInitError = m[1].trim();
    } else if ((m = /not built with CUDA kernel binaries compatible with compute capability (\S+?)\.(?:\s|$)/.exec(line))) {
      if (!facts.ptxJit.includes(m[1])) facts.ptxJit.push(m[1]);
    } else if ((m = /Executing op (\S+) in device (\S+)/.exec(line))) {
      if (!facts.placements.some((p) => p.op === m![1])) facts.placements.push({ op: m[1], device: m[2] });
    }
  }
  return facts;
}

/** Whether a TF device name is a GPU (`…/device:GPU:0`). */
export function isGpuDevice(name: string): boolean {
  return /device:GPU:\d+$/.test(name);
}
