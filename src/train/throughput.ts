/**
 * Measured training speed on the current backend: the real task step of a run (its losses, adversarial term,
 * Adam groups and micro-batch size, from the same RunConfig the trainer gets) on synthetic images, and the
 * evaluation forward. Used by `mic-train doctor` for img/s and run-time estimates.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../cli/config.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import { activeProfile } from '../backend/profile.ts';
import { rngFor } from '../rng.ts';
import { buildTrainingParts, disposeTrainingParts } from './setup.ts';
import { autoMicroBatch, taskStep } from './task-step.ts';

export interface ThroughputOptions {
  /** Untimed steps first (kernel selection, packed filters, JIT). */
  warmup: number;
  /** Timed steps: at least one; more while the timed total stays under `budgetSeconds`. */
  steps: number;
  budgetSeconds: number;
}

export interface Throughput {
  /** Median seconds of one task step (forward + backward + Adam) on a batch of cfg.bs images. */
  stepSeconds: number;
  stepTimes: number[];
  /** Training images per second through task steps (bs / stepSeconds). */
  imagesPerSecond: number;
  /** Seconds per image of a steady-state evaluation forward (no tape, same weights as the previous batch). */
  evalSecondsPerImage: number;
  microBs: number;
  lastLoss: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Class-task batches as the sampler makes them: cs_per_bs images per class. */
function batchLabels(bs: number, perClass: number): Int32Array {
  return Int32Array.from({ length: bs }, (_, i) => Math.floor(i / perClass));
}

/**
 * Time task steps of `cfg` on `model` (which keeps its weights: the optimizer moves them) and an evaluation
 * forward. Leaves no tensors behind.
 */
export async function measureThroughput(cfg: RunConfig, model: EmbeddingNet, o: ThroughputOptions): Promise<Throughput> {
  const bs = cfg.bs;
  const size = cfg.inputSize;
  const numClasses = Math.max(2, Math.ceil(bs / cfg.csPerBs[0]));
  const parts = await buildTrainingParts(cfg, model, [numClasses, Math.max(2, cfg.sharedNumClasses)], {
    miner: rngFor(cfg.seed, 'miner'),
    init: rngFor(cfg.seed, 'init.loss'),
  });
  const microBs = autoMicroBatch(activeProfile(), size, bs, cfg.microBs);
  const rng = rngFor(cfg.seed, 'doctor.images');
  const images = Float32Array.from({ length: bs * size * size * 3 }, () => rng.normal());
  const labels = batchLabels(bs, cfg.csPerBs[0]);
  const loss = parts.losses[0]!;
  const step = () =>
    taskStep({ model, task: 0, loss, adversarial: parts.adversarial, optimizer: parts.optimizer, images, n: bs, size, labels, microBs }).loss;
  try {
    let lastLoss = NaN;
    for (let i = 0; i < o.warmup; i++) lastLoss = step();
    const stepTimes: number[] = [];
    let total = 0;
    while (stepTimes.length < Math.max(1, o.steps) && (stepTimes.length === 0 || total < o.budgetSeconds)) {
      const t = performance.now();
      lastLoss = step(); // reads the loss back: the step has finished on the device
      const s = (performance.now() - t) / 1000;
      stepTimes.push(s);
      total += s;
    }
    const stepSeconds = median(stepTimes);
    const evalSecondsPerImage = timeEvalForward(model, images, bs, size, microBs);
    return { stepSeconds, stepTimes, imagesPerSecond: bs / stepSeconds, evalSecondsPerImage, microBs, lastLoss };
  } finally {
    disposeTrainingParts(parts);
  }
}

/** Seconds per image of the second of two forwards with the same weights (the first packs/folds them). */
function timeEvalForward(model: EmbeddingNet, images: Float32Array, bs: number, size: number, chunk: number): number {
  const run = () => {
    for (let s = 0; s < bs; s += chunk) {
      const n = Math.min(chunk, bs - s);
      tf.tidy(() => {
        const x = tf.tensor4d(images.subarray(s * size * size * 3, (s + n) * size * size * 3), [n, size, size, 3]);
        model.forward(x).embeds[0].dataSync();
      });
    }
  };
  run();
  const t = performance.now();
  run();
  return (performance.now() - t) / 1000 / bs;
}
