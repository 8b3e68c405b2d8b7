import { flagKey } from './flags.ts';

/**
 * RunConfig: the resolved, validated, JSON-able configuration of one run. Field names are the camelCase
 * forms of the flag names (see `flags.ts`); list flags are arrays. Produced only by `resolveConfig`.
 */
import type { DatasetName } from '../data/datasets/index.ts';
import type { LossName, MinerName } from '../losses/registry.ts';
import type { ArchName } from '../models/registry.ts';

export interface RunConfig {
  dataset: DatasetName;
  arch: ArchName;
  notPretrained: boolean;
  /** Recall@k values (dataset default filled in). */
  kVals: number[];
  nEpochs: number;
  kernels: number;
  seed: number;
  scheduler: 'step' | 'exp' | 'none';
  gamma: number;
  decay: number;
  tau: number[];
  /** [Class, Shared] step probabilities. */
  taskP: number[];
  lr: number;
  bs: number;
  /** Per task; forced to 1 for proxynca tasks. */
  csPerBs: number[];
  embedSizes: number[];
  losses: LossName[];
  sampling: MinerName[];
  proxyLr: number[];
  beta: number[];
  betaLr: number[];
  nu: number[];
  margin: number[];
  adversarial: ('Class-Shared' | 'Shared-Class')[];
  advWeights: number[];
  advDim: number;
  sharedNumClasses: number;
  clusterUpdateFreq: number;
  clusterMode: 'mean' | 'mstd' | 'no_norm';
  randomClusterPickP: number;
  gpu: number;
  savename: string;
  makeGraph: boolean;
  /** Parent of dataset folders (dataset name NOT yet appended). */
  sourcePath: string;
  savePath: string;
  backend: 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  inputSize: number;
  /** RandomResizedCrop of torchvision ≥ 0.3 ('torchvision') or of 0.2.x, the paper's ('torchvision-0.2'). */
  cropStyle: 'torchvision' | 'torchvision-0.2';
  pretrained?: string;
  /** `--offline`: no automatic weight download. */
  offline: boolean;
  pretrainedFormat: 'torchvision' | 'keras';
  marginCount: 'terms' | 'triplets';
  kmeansIters: number;
  kmeansMaxPoints: number;
  nmiAverage: 'geometric' | 'arithmetic';
  valSplit: number;
  vehicleidProtocol: 'allvsall' | 'reid';
  splitMode: 'half' | 'file';
  microBs: number;
  threads: number;
  resume?: string;
  /** Seconds between progress lines when the output is not a terminal. */
  logEvery: number;
  /** Largest fraction of a split's images that may be undecodable before the run stops. */
  maxBadImages: number;
  dryRun: boolean;
  /** Task names, always ['Class', 'Shared'] (docs/porting.md#startup). */
  tasks: ['Class', 'Shared'];
}

/**
 * Defaults that differ for the embedded sample dataset, chosen so that `npx mic-train --dataset sample`
 * finishes in minutes on a 2-core CPU and visibly learns. Explicit flags and config files still win.
 *
 * Why these: a randomly initialised ResNet50 already separates the sample's 28×28 test classes well (128-d:
 * Recall@1 0.88), and with the MIC defaults training raised NMI but not Recall@1 on every seed tried. 32-d
 * embeddings, the Class task alone (`--task_p 1 0`: the Shared task's clusters of 500 tiny images did not help
 * within minutes) and 6 epochs with the learning rate × 0.7 each epoch raise both on seeds 1, 2, 3, each run's
 * best epoch being its last: Recall@1 0.806 → 0.848, 0.778 → 0.848, 0.776 → 0.790; NMI 0.545 → 0.564,
 * 0.530 → 0.554, 0.445 → 0.579 (≈ 215 s CPU each, 2 cores). The paper's recipes (`Result_Runs.sh`) show MIC itself.
 */
export const SAMPLE_DEFAULTS: Readonly<Record<string, unknown>> = {
  not_pretrained: true,
  'input-size': 32,
  n_epochs: 6,
  bs: 32,
  embed_sizes: [32, 32],
  task_p: [1, 0],
  scheduler: 'exp',
  gamma: 0.7,
  tau: [3],
  shared_num_classes: 8,
  cluster_update_freq: 1,
  adv_weights: [250],
  lr: 1e-4,
  kernels: 2,
};

/**
 * The start-up line of a sample run: every sample default with the value this run resolved it to (an explicit
 * flag may have changed it), e.g. `sample dataset defaults: --not_pretrained --input-size 32 --n_epochs 4 … (flags override them)`.
 */
export function sampleDefaultsLine(cfg: RunConfig): string {
  const values = Object.keys(SAMPLE_DEFAULTS).map((name) => {
    const v = (cfg as unknown as Record<string, unknown>)[flagKey(name)];
    if (typeof v === 'boolean') return v ? `--${name}` : '';
    return `--${name} ${Array.isArray(v) ? v.join(' ') : String(v)}`;
  });
  return `sample dataset defaults: ${values.filter(Boolean).join(' ')} (flags override them)`;
}
