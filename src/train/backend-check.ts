/**
 * What `mic-train doctor` runs on the chosen backend: a forward + backward against a reference backend on the
 * same weights and input (`backend-parity.ts`), then the measured training speed of the real task step
 * (`throughput.ts`) and the paper runs' estimated durations (`eta.ts`). One network is built on the backend
 * and one on the reference, nothing else.
 */
import * as tf from '@tensorflow/tfjs';
import {
  compareSides,
  forwardBackward,
  loadWeights,
  PARITY_TOLERANCE,
  PARITY_TOLERANCE_GPU,
  snapshotWeights,
  type ParityResult,
} from './backend-parity.ts';
import { selectBackend, type BackendReport } from '../backend/select.ts';
import { parseArgv, resolveConfig } from '../cli/parse.ts';
import { buildModel } from '../models/build-model.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import { rngFor } from '../rng.ts';
import { estimateRun, formatDuration, PAPER_RUNS } from './eta.ts';
import { measureThroughput, type Throughput } from './throughput.ts';

export interface CheckOptions {
  arch: string;
  size: number;
  bs: number;
  backend: BackendReport;
  threads: number;
  print: (line?: string) => void;
}

/** Batch of the paper's runs, used for iterations per epoch in the estimates. */
export const PAPER_BS = 112;
const SEED = 0;

function build(arch: string): Promise<EmbeddingNet> {
  return buildModel({ arch, embedSizes: [128, 128], notPretrained: true, pretrainedFormat: 'torchvision', rng: rngFor(SEED, 'init') });
}

/** The reference engine: the cpu backend (plain JavaScript kernels), or wasm when cpu itself is checked. */
async function onReference(o: CheckOptions, fn: () => Promise<void>): Promise<string> {
  const reference = o.backend.tfName === 'cpu' ? 'wasm' : 'cpu';
  if (reference === 'wasm') await selectBackend('wasm', { threads: o.threads });
  else await tf.setBackend('cpu');
  try {
    await fn();
  } finally {
    await tf.setBackend(o.backend.tfName);
  }
  return reference;
}

export async function checkAndMeasure(o: CheckOptions): Promise<{ parity: ParityResult; speed: Throughput }> {
  const model = await build(o.arch);
  try {
    // Fewer images at large sizes: the reference's plain-JavaScript convolutions are slow.
    const images = o.size <= 64 ? 2 : 1;
    const mine = forwardBackward(model, images, o.size, SEED);
    const weights = snapshotWeights(model);
    let refSide: ReturnType<typeof forwardBackward> | undefined;
    const reference = await onReference(o, async () => {
      const ref = await build(o.arch);
      try {
        loadWeights(ref, weights);
        refSide = forwardBackward(ref, images, o.size, SEED);
      } finally {
        ref.dispose();
      }
    });
    const onGpu = o.backend.device.startsWith('GPU');
    const parity = compareSides(mine, refSide!, { reference, images, size: o.size, tolerance: onGpu ? PARITY_TOLERANCE_GPU : PARITY_TOLERANCE });
    o.print(
      `forward + backward, ${images} image${images > 1 ? 's' : ''} at ${o.size} px, against ${reference} on the same weights: ` +
        `embeddings ${parity.embedError.toExponential(1)}, gradients ${parity.gradError.toExponential(1)} (worst: ${parity.worst}; ` +
        `${parity.compared.length} parameters from the first conv to the heads) → ${parity.pass ? 'pass' : 'FAIL'} (tolerance ${parity.tolerance}; ` +
        `${parity.seconds.backend.toFixed(1)} s here, ${parity.seconds.reference.toFixed(1)} s on ${reference})`,
    );
    if (!parity.pass) return { parity, speed: emptySpeed() };

    // Batches of classes with 4 images each, as in the paper's runs; 2 each when the batch is too small for that.
    const perClass = o.bs >= 8 && o.bs % 4 === 0 ? 4 : 2;
    const cfg = resolveConfig(
      parseArgv([
        '--arch',
        o.arch,
        '--input-size',
        String(o.size),
        '--bs',
        String(o.bs),
        '--cs_per_bs',
        String(perClass),
        String(perClass),
        '--not_pretrained',
        '--threads',
        String(o.threads),
      ]),
    );
    const cpuEngine = o.backend.tfName === 'cpu';
    const speed = await measureThroughput(cfg, model, { warmup: cpuEngine ? 0 : 1, steps: cpuEngine ? 1 : 5, budgetSeconds: 20 });
    const steps = speed.stepTimes.length;
    o.print(
      `training speed: ${speed.stepSeconds.toFixed(speed.stepSeconds < 1 ? 3 : 2)} s per task step of ${o.bs} images = ${speed.imagesPerSecond < 1 ? speed.imagesPerSecond.toPrecision(2) : speed.imagesPerSecond.toFixed(1)} img/s ` +
        `(${speed.microBs < o.bs ? `micro-batches of ${speed.microBs}, ` : ''}median of ${steps} step${steps > 1 ? 's' : ''}${cpuEngine ? '' : ' after a warm-up'}); ` +
        `evaluation forward ${(speed.evalSecondsPerImage * 1000).toFixed(1)} ms per image`,
    );
    printEstimates(o, speed);
    return { parity, speed };
  } finally {
    model.dispose();
  }
}

function emptySpeed(): Throughput {
  return { stepSeconds: NaN, stepTimes: [], imagesPerSecond: NaN, evalSecondsPerImage: NaN, microBs: 0, lastLoss: NaN };
}

function printEstimates(o: CheckOptions, speed: Throughput): void {
  const measured = { stepSeconds: speed.stepSeconds, bs: o.bs, evalSecondsPerImage: speed.evalSecondsPerImage };
  const scale224 = (224 / o.size) ** 2;
  const extra = o.size !== 224;
  o.print(`estimated time of the paper's runs (Result_Runs.sh, batch ${PAPER_BS}) at this speed:`);
  const head = ['dataset', 'train imgs', 'epochs', `epoch @${o.size}px`, `run @${o.size}px`, ...(extra ? ['epoch @224px*', 'run @224px*'] : [])];
  const rows = PAPER_RUNS.map((run) => {
    const at = estimateRun(run, measured, PAPER_BS);
    const cells = [run.dataset, String(run.train), String(run.epochs), formatDuration(at.epochSeconds), formatDuration(at.runSeconds)];
    if (extra) {
      const big = estimateRun(run, measured, PAPER_BS, scale224);
      cells.push(formatDuration(big.epochSeconds), formatDuration(big.runSeconds));
    }
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) o.print(`  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
  o.print(
    '  per epoch: the task steps (task_p[0] + task_p[1] per iteration), one evaluation and the re-clustering share; per run also the initial clustering;' +
      ' not counted: image loading (overlapped by the decode workers, `npm run bench:data` for its rate), k-means and nearest-neighbour search.',
  );
  if (extra) o.print(`  * scaled by pixel count from the ${o.size} px measurement (an estimate; measure with --input-size 224 for the real figure)`);
}
