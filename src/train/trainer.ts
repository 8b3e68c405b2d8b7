// Port of: main.py's epoch loop and train_one_epoch (docs/porting.md#epoch-loop)
/**
 * The epoch loop: per iteration a Class step (p = task_p[0]) and a Shared step (p = task_p[1]); after each
 * epoch the evaluation, the checkpoint/recoveries when Recall@1 improves, the plot, the re-clustering when the
 * counter says so, the LR schedule, the summary and the `last/` checkpoint for `--resume`.
 */
import path from 'node:path';
import type { RunConfig } from '../cli/config.ts';
import { UserError } from '../errors.ts';
import type { ManifestItem } from '../data/manifest.ts';
import { BatchLoader, evalBatches, loaderStats } from '../data/loader.ts';
import { ClassBalancedSampler, ClusterBalancedSampler, type BatchSpec } from '../data/samplers.ts';
import { drawTrainRandoms } from '../data/transforms.ts';
import { embedAll } from '../eval/embed.ts';
import { evaluateManifest, type EvaluationResult } from '../eval/evaluate.ts';
import { bestCheckpointName, saveCheckpoint } from '../io/checkpoint.ts';
import { reclusterSharedLabels, type ClusteringInputs } from '../mic/clustering.ts';
import type { ReclusterSchedule } from '../mic/surrogate.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import { drawRecoveries, recoveryRows } from '../report/recoveries.ts';
import { recoveriesFileName, type RunReporter } from '../report/run-reporter.ts';
import { Rng, rngFor, type RngState } from '../rng.ts';
import { modelTensors, snapshot } from './checkpointing.ts';
import { PhaseProgress } from './phase-progress.ts';
import type { ProgressOptions } from '../progress.ts';
import { EpochProgress } from './progress.ts';
import { hasSharedTask, type TrainingParts } from './setup.ts';
import { taskStep } from './task-step.ts';

/** Named RNG streams whose state is checkpointed (k-means and evaluation use fresh fixed-seed streams). */
export const STREAMS = ['sampler.class', 'sampler.shared', 'augment.class', 'augment.shared', 'miner', 'task', 'recoveries'] as const;
export type StreamName = (typeof STREAMS)[number];

export interface TrainerContext {
  cfg: RunConfig;
  model: EmbeddingNet;
  parts: TrainingParts;
  trainItems: ManifestItem[];
  /** Items evaluated every epoch (test split); `valItems` choose the checkpoint when --val-split is set. */
  testItems: ManifestItem[];
  valItems: ManifestItem[];
  reporter: RunReporter;
  runDir: string;
  rngs: Record<StreamName, Rng>;
  /** Shared-task labels (surrogate clusters); null in baseline mode. */
  sharedLabels: Int32Array | null;
  numClusters: number;
  recluster: ReclusterSchedule;
  microBs: number;
  log: (line: string) => void;
  /** Set by a signal handler: stop after the current step. */
  stopRequested: () => boolean;
  /** Told what the trainer is doing ("epoch 3 (training)", "epoch 3 (evaluation)"), for interrupt messages. */
  onPhase?: (phase: string) => void;
  /** Where and how often progress is shown (`--log-every`). */
  progress?: ProgressOptions;
  /** Extra JSON for checkpoints (config, backend …). */
  checkpointMeta: Record<string, unknown>;
}

/** Streams whose epoch-start state lets an interrupted epoch be replayed exactly (batches, decisions, crops). */
const EPOCH_STREAMS = ['sampler.class', 'sampler.shared', 'task', 'augment.class', 'augment.shared'] as const;

/** Where an interrupted epoch stopped (saved in `last/` by a Ctrl-C / SIGTERM). */
export interface PartialEpoch {
  epoch: number;
  /** Iterations completed. */
  iters: number;
  /** Running sums of the epoch so far, continued unchanged so the logged mean loss is bit-identical. */
  lossSum: number;
  steps: number;
  trainSeconds: number;
  /** State of the epoch streams when the epoch began. */
  startRng: Record<string, RngState>;
}

export interface EpochOutcome {
  loss: number;
  metrics: Record<string, number>;
  /** Set when a stop request ended the epoch early: iterations done of the epoch's total (saved in `last/`). */
  stoppedAt?: { iters: number; total: number };
}

/** Column prefix used for validation metrics when --val-split is set. */
export const VAL_PREFIX = 'Val ';

export class Trainer {
  private readonly classSampler: ClassBalancedSampler;
  private readonly sharedSampler: ClusterBalancedSampler | null;
  private readonly classLabels: Int32Array;
  private readonly warned = new Set<string>();
  /** Distinct evaluation images left out of the metrics because they could not be decoded. */
  readonly evalLeftOut = new Set<string>();
  /** Wall seconds of each whole epoch run by this process (for the run ETA). */
  private readonly epochSeconds: number[] = [];

  constructor(private readonly c: TrainerContext) {
    const { cfg } = c;
    this.classLabels = Int32Array.from(c.trainItems, (it) => it.label);
    this.classSampler = new ClassBalancedSampler(this.classLabels, cfg.bs, cfg.csPerBs[0], c.rngs['sampler.class']);
    this.sharedSampler =
      hasSharedTask(cfg) && c.sharedLabels
        ? new ClusterBalancedSampler(c.sharedLabels, cfg.bs, cfg.csPerBs[1], cfg.randomClusterPickP, c.rngs['sampler.shared'])
        : null;
  }

  /** Train and evaluate one epoch (0-based). */
  async runEpoch(epoch: number, resume?: PartialEpoch): Promise<EpochOutcome> {
    const { cfg, parts, model } = this.c;
    const wall0 = performance.now();
    if (resume) for (const s of EPOCH_STREAMS) this.c.rngs[s].setState(resume.startRng[s]);
    const startRng: Record<string, RngState> = {};
    for (const s of EPOCH_STREAMS) startRng[s] = this.c.rngs[s].getState();
    const classBatches = this.classSampler.epoch();
    const sharedAll = this.sharedSampler?.epoch() ?? [];
    const iters = this.sharedSampler ? Math.min(classBatches.length, sharedAll.length) : classBatches.length;
    // Task decisions for the whole epoch, drawn in the original's order (Class then Shared per iteration), so
    // the Shared loader only loads the batches that will be used.
    const runs: [boolean, boolean][] = [];
    for (let i = 0; i < iters; i++) runs.push([this.c.rngs.task.bernoulli(cfg.taskP[0]), this.c.rngs.task.bernoulli(cfg.taskP[1])]);
    const classSpecs = classBatches.slice(0, iters).filter((_, i) => runs[i][0]);
    const sharedSpecs: BatchSpec[] = this.sharedSampler ? sharedAll.slice(0, iters).filter((_, i) => runs[i][1]) : [];
    const skip = resume?.iters ?? 0;
    if (skip > 0) {
      // Replay the crops drawn for the iterations already done, so the augmentation streams continue exactly.
      const drawn = (specs: BatchSpec[], upTo: number) => specs.slice(0, upTo).reduce((n, b) => n + b.indices.length, 0);
      const classDone = runs.slice(0, skip).filter((r) => r[0]).length;
      const sharedDone = this.sharedSampler ? runs.slice(0, skip).filter((r) => r[1]).length : 0;
      for (let k = drawn(classSpecs, classDone); k > 0; k--) drawTrainRandoms(this.c.rngs['augment.class'], cfg.cropStyle);
      for (let k = drawn(sharedSpecs, sharedDone); k > 0; k--) drawTrainRandoms(this.c.rngs['augment.shared'], cfg.cropStyle);
      classSpecs.splice(0, classDone);
      sharedSpecs.splice(0, sharedDone);
    }
    const size = cfg.inputSize;
    const conv = model.input;
    const classIt = new BatchLoader(this.c.trainItems, classSpecs, size, conv, { train: true, flip: true, cropStyle: cfg.cropStyle }, this.c.rngs['augment.class'], cfg.kernels, { recycle: true })[Symbol.asyncIterator]();
    const sharedIt = new BatchLoader(this.c.trainItems, sharedSpecs, size, conv, { train: true, flip: false, cropStyle: cfg.cropStyle }, this.c.rngs['augment.shared'], cfg.kernels, { replacementLabels: this.c.sharedLabels ?? undefined, recycle: true })[Symbol.asyncIterator]();

    this.c.onPhase?.(`epoch ${epoch + 1} (training)`);
    const secondsPerEpoch = this.epochSeconds.length ? this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length : undefined;
    const progress = new EpochProgress(epoch, cfg.nEpochs, iters, this.c.progress, { laterEpochs: cfg.nEpochs - epoch - 1, secondsPerEpoch });
    const t0 = performance.now();
    let interrupted = false;
    let lossSum = resume?.lossSum ?? 0;
    let steps = resume?.steps ?? 0;
    let doneIters = skip;
    for (let i = skip; i < iters; i++) {
      const stepLosses: number[] = [];
      let images = 0;
      for (const task of [0, 1] as const) {
        if (!runs[i][task]) continue;
        const next = await (task === 0 ? classIt : sharedIt).next();
        if (next.done) throw new Error(`loader for task ${task} ended early`);
        const b = next.value;
        const loss = parts.losses[task];
        if (!loss) continue;
        const r = taskStep({
          model, task, loss, adversarial: parts.adversarial, optimizer: parts.optimizer,
          images: b.images, n: b.n, size, labels: b.labels, microBs: this.c.microBs,
        });
        if (!Number.isFinite(r.loss)) {
          throw new UserError(`training loss became ${r.loss} at epoch ${epoch + 1}, iteration ${i + 1} (task ${task === 0 ? 'Class' : 'Shared'}); try a lower --lr (last/ holds the last completed epoch)`);
        }
        if (r.warning) this.warnOnce(r.warning);
        stepLosses.push(r.loss);
        lossSum += r.loss;
        steps += 1;
        images += b.n;
      }
      progress.tick(images, stepLosses);
      doneIters = i + 1;
      // When the next batch is already loaded, awaiting it never reaches the event loop, where signals are
      // delivered: give it a turn so a Ctrl-C is seen after this step, not at the next evaluation.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.c.stopRequested() && doneIters < iters) {
        interrupted = true;
        break;
      }
    }
    await classIt.return?.();
    await sharedIt.return?.();
    const trainSeconds = (resume?.trainSeconds ?? 0) + (performance.now() - t0) / 1000;
    // Mean over all steps of the epoch (0 when none happened), summed in step order across an interruption.
    const loss = steps > 0 ? lossSum / steps : 0;
    if (interrupted) {
      progress.done('interrupted');
      this.saveLast(epoch - 1, { epoch, iters: doneIters, lossSum, steps, trainSeconds, startRng });
      return { loss, metrics: {}, stoppedAt: { iters: doneIters, total: iters } };
    }

    this.c.reporter.logTrain(epoch, trainSeconds, loss);
    this.c.onPhase?.(`epoch ${epoch + 1} (evaluation)`);
    const e0 = performance.now();
    const { metrics, test } = await this.evaluate(`epoch ${epoch + 1}/${cfg.nEpochs} evaluation`);
    const evalSeconds = (performance.now() - e0) / 1000;
    this.c.reporter.logVal(epoch, evalSeconds, metrics);
    progress.done(this.summaryLine(metrics));

    await this.afterEvaluation(epoch, test);
    await this.c.reporter.writePlot();

    if (this.sharedSampler && this.c.recluster.afterEpoch()) {
      this.c.onPhase?.(`epoch ${epoch + 1} (re-clustering)`);
      const t = performance.now();
      const shown = new PhaseProgress(`epoch ${epoch + 1}/${cfg.nEpochs} re-clustering`, this.c.trainItems.length, this.c.progress);
      const labels = await reclusterSharedLabels({ ...this.clusteringInputs(), onProgress: (d) => shown.update(d) }, this.kmeansSettings());
      shown.end();
      this.sharedSampler.setLabels(labels);
      this.c.sharedLabels = labels;
      this.c.log(`re-clustered the Shared embeddings into ${this.c.numClusters} clusters (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    } else if (!this.sharedSampler) {
      this.c.recluster.afterEpoch();
    }
    parts.schedule.step(parts.optimizer);
    this.c.reporter.writeSummary();
    this.saveLast(epoch);
    this.epochSeconds.push((performance.now() - wall0) / 1000);
    return { loss, metrics };
  }

  clusteringInputs(): ClusteringInputs {
    const { cfg, model } = this.c;
    return { model, paths: this.c.trainItems.map((it) => it.path), classLabels: this.classLabels, bs: cfg.bs, inputSize: cfg.inputSize, conv: model.input, concurrency: cfg.kernels };
  }

  kmeansSettings() {
    return {
      k: this.c.numClusters,
      iters: this.c.cfg.kmeansIters,
      maxPointsPerCentroid: this.c.cfg.kmeansMaxPoints,
      rng: rngFor(this.c.cfg.seed, 'kmeans'),
      onWarning: (m: string) => this.warnOnce(`k-means: ${m}`),
    };
  }

  /** Embed and evaluate the test split (and the validation split when set). `test.items` are the items evaluated. */
  async evaluate(label = 'evaluation'): Promise<{ metrics: Record<string, number>; test: EvaluationResult & { items: ManifestItem[] } }> {
    const test = await this.evaluateItems(this.c.testItems, label);
    const metrics = { ...test.metrics };
    if (this.c.valItems.length > 0) {
      const val = await this.evaluateItems(this.c.valItems, `${label} (validation split)`);
      for (const [k, v] of Object.entries(val.metrics)) metrics[VAL_PREFIX + k] = v;
    }
    return { metrics, test };
  }

  /**
   * Metrics of `items`; images that cannot be decoded are left out of them (a zero image would be a wrong
   * neighbour of everything) and counted.
   */
  private async evaluateItems(all: ManifestItem[], label: string): Promise<EvaluationResult & { items: ManifestItem[] }> {
    const { cfg, model } = this.c;
    const paths = all.map((it) => it.path);
    const failed = new Set<number>();
    async function* tracked() {
      for await (const b of evalBatches(paths, cfg.bs, cfg.inputSize, model.input, { concurrency: cfg.kernels, recycle: true })) {
        for (const i of b.failed) failed.add(i);
        yield b;
      }
    }
    const shown = new PhaseProgress(label, paths.length, this.c.progress);
    let emb = await embedAll(model, tracked(), paths.length, 0, { onProgress: (d) => shown.update(d) });
    shown.end();
    let items = all;
    if (failed.size > 0) {
      const dim = emb.length / all.length;
      const keep = all.map((_, i) => i).filter((i) => !failed.has(i));
      const kept = new Float32Array(keep.length * dim);
      keep.forEach((i, r) => kept.set(emb.subarray(i * dim, (i + 1) * dim), r * dim));
      emb = kept;
      items = keep.map((i) => all[i]);
      const fresh = [...failed].filter((i) => !this.evalLeftOut.has(all[i].path));
      for (const i of failed) this.evalLeftOut.add(all[i].path);
      if (fresh.length > 0) this.c.log(`warning: ${fresh.length} evaluation image(s) could not be decoded and are left out of the metrics: ${fresh.slice(0, 5).map((i) => all[i].path).join(', ')}${fresh.length > 5 ? ', …' : ''}`);
    }
    const result = evaluateManifest(emb, items, {
      kVals: cfg.kVals,
      nmiAverage: cfg.nmiAverage,
      rng: rngFor(cfg.seed, 'eval'),
      // --vehicleid-protocol applies to multi-set test splits (VehicleID) only.
      protocol: cfg.vehicleidProtocol === 'reid' && items.some((it) => it.set !== undefined) ? 'reid' : 'allvsall',
    });
    return { ...result, items };
  }

  /** Best-checkpoint and recoveries picture per evaluated group, when its Recall@1 improved (docs/porting.md#checkpoint-selection). */
  private async afterEvaluation(epoch: number, test: EvaluationResult & { items: ManifestItem[] }): Promise<void> {
    const { reporter, runDir } = this.c;
    const choose = this.c.valItems.length > 0 ? VAL_PREFIX : '';
    for (const [g, group] of test.recoveries.entries()) {
      const setNo = group.prefix ? g + 1 : undefined;
      const column = `${choose}${group.prefix}Recall @ 1`;
      if (!reporter.isNewBest(column)) continue;
      saveCheckpoint(path.join(runDir, bestCheckpointName(setNo)), {
        tensors: modelTensors(this.c.model),
        extraTensors: new Map(),
        state: { ...this.c.checkpointMeta, epoch, chosenOn: column, metrics: reporter.history().val },
      });
      const items = test.items;
      const rows = recoveryRows(
        {
          queryPaths: Array.from(group.queryRows, (r) => items[r].path),
          queryLabels: Array.from(group.queryRows, (r) => items[r].label),
          galleryPaths: items.map((it) => it.path),
          galleryLabels: items.map((it) => it.label),
          neighbours: group.neighbours,
          k: group.keep,
          selfIncluded: false,
        },
        this.c.rngs.recoveries,
      );
      const unreadable = await drawRecoveries(rows, path.join(runDir, recoveriesFileName(setNo)));
      const known = new Set(loaderStats().failedPaths);
      for (const p of unreadable) if (!known.has(p)) this.warnOnce(`recoveries picture: could not read ${p}`);
    }
  }

  /** Write `last/`: everything needed to continue after `epoch` (and, when interrupted, within the next one). */
  saveLast(epoch: number, partial?: PartialEpoch): void {
    const rngStates: Record<string, RngState> = {};
    for (const s of STREAMS) rngStates[s] = this.c.rngs[s].getState();
    const ck = snapshot(this.c.model, this.c.parts, {
      ...this.c.checkpointMeta,
      epoch,
      rng: rngStates,
      sharedLabels: this.c.sharedLabels ? Array.from(this.c.sharedLabels) : null,
      numClusters: this.c.numClusters,
      reclusterCounter: this.c.recluster.counter,
      history: this.c.reporter.history(),
      partial: partial ?? null,
    });
    saveCheckpoint(path.join(this.c.runDir, 'last'), ck);
  }

  private summaryLine(m: Record<string, number>): string {
    const keys = Object.keys(m).filter((k) => /(^|Set \d |Val )(NMI|Recall @ 1)$/.test(k));
    return keys.map((k) => `${k} ${m[k].toFixed(3)}`).join(', ');
  }

  private warnOnce(msg: string): void {
    const key = msg.replace(/\d+/g, '#');
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.c.log(`warning: ${msg} (further warnings like this are not repeated)`);
  }
}
