/**
 * How long a training run takes, estimated from measured speeds and a table of the paper's runs
 * (`Result_Runs.sh`) with the standard image counts of each dataset — no dataset needs to be present.
 *
 * Per epoch: floor(train / bs) iterations, each taking task_p[0] + task_p[1] task steps on average (a step is a
 * whole-network forward + backward of one batch); one evaluation forward over the test images; every
 * (cluster_update_freq + 1) epochs a forward over the training images to re-cluster. Once per run: the initial
 * clustering (counted as a full forward over the training images, an upper bound: it stops at layer1).
 * Not counted: image loading (overlapped with training by the decode workers), k-means, nearest-neighbour
 * search and metrics.
 */

export interface PaperRun {
  dataset: string;
  /** Training images (standard split). */
  train: number;
  /** Images embedded by each evaluation (test split; In-Shop query + gallery; VehicleID the three test sets). */
  evaluated: number;
  /** Where the counts come from. */
  countsNote: string;
  epochs: number;
  taskP: [number, number];
  clusterUpdateFreq: number;
}

/** The five runs of `Result_Runs.sh` (epochs, task_p, cluster_update_freq as there; a test checks them). */
export const PAPER_RUNS: readonly PaperRun[] = [
  {
    dataset: 'cub200',
    train: 5864,
    evaluated: 5924,
    countsNote: 'CUB200-2011, first 100 classes train',
    epochs: 100,
    taskP: [1, 0.8],
    clusterUpdateFreq: 3,
  },
  {
    dataset: 'cars196',
    train: 8054,
    evaluated: 8131,
    countsNote: 'CARS196, first 98 classes train',
    epochs: 110,
    taskP: [1, 0.8],
    clusterUpdateFreq: 3,
  },
  {
    dataset: 'online_products',
    train: 59551,
    evaluated: 60502,
    countsNote: 'Ebay_train.txt / Ebay_test.txt',
    epochs: 45,
    taskP: [1, 0.5],
    clusterUpdateFreq: 3,
  },
  {
    dataset: 'in-shop',
    train: 25882,
    evaluated: 14218 + 12612,
    countsNote: 'train; query + gallery',
    epochs: 70,
    taskP: [1, 0.8],
    clusterUpdateFreq: 3,
  },
  {
    dataset: 'vehicle_id',
    train: 110178,
    evaluated: 7332 + 12995 + 20038,
    countsNote: 'train as in the paper; test sets 800/1600/2400',
    epochs: 45,
    taskP: [1, 0.5],
    clusterUpdateFreq: 3,
  },
];

export interface MeasuredSpeed {
  /** Seconds of one task step (forward + backward + optimizer) on a batch of `bs` images. */
  stepSeconds: number;
  bs: number;
  /** Seconds per image of an evaluation forward (no gradient tape). */
  evalSecondsPerImage: number;
}

export interface RunEstimate {
  run: PaperRun;
  itersPerEpoch: number;
  /** Seconds of the first epoch (includes the initial clustering) and of a typical epoch. */
  epochSeconds: number;
  runSeconds: number;
}

/**
 * Estimate a paper run at batch `bs` from the measured speed, assuming the cost per image of a step stays what
 * it was at the measured batch (true for the micro-batched CPU engines; on a GPU a larger batch is cheaper per
 * image, so measure at the batch you will train with). `pixelScale` multiplies every compute time (e.g.
 * (224 / measured size)² to go from a small measured crop to the paper's 224 px).
 */
export function estimateRun(run: PaperRun, speed: MeasuredSpeed, bs: number, pixelScale = 1): RunEstimate {
  const itersPerEpoch = Math.floor(run.train / bs);
  const stepSeconds = (speed.stepSeconds / speed.bs) * bs * pixelScale;
  const evalPerImage = speed.evalSecondsPerImage * pixelScale;
  const train = itersPerEpoch * (run.taskP[0] + run.taskP[1]) * stepSeconds;
  const evaluate = run.evaluated * evalPerImage;
  const hasShared = run.taskP[1] > 0;
  // Re-clustering embeds the training images once every (freq + 1) epochs.
  const recluster = hasShared ? (run.train * evalPerImage) / (run.clusterUpdateFreq + 1) : 0;
  const epochSeconds = train + evaluate + recluster;
  const initial = hasShared ? run.train * evalPerImage : 0;
  return { run, itersPerEpoch, epochSeconds, runSeconds: initial + run.epochs * epochSeconds };
}

/** "42 s", "3.5 min", "7.2 h", "12.3 days", "2.1 years": the unit a person would say. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 90 * 60) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds < 730 * 86400) return `${(seconds / 86400).toFixed(1)} days`;
  return `${(seconds / (365 * 86400)).toFixed(1)} years`;
}
