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
import { BatchLoader, evalBatches, loaderStats, type LoadedBatch } from '../data/loader.ts';
import { ClassBalancedSampler, ClusterBalancedSampler, type BatchSpec } from '../data/samplers.ts';
import { drawTrainRandoms } from '../data/transforms.ts';
import { embedAll } from '../eval/embed.ts';
import { evaluateManifest, type EvaluationResult } from '../eval/evaluate.ts';
import { bestCheckpointName } from '../io/checkpoint.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import { drawRecoveries, recoveryRows } from '../report/recoveries.ts';
import { recoveriesFileName } from '../report/run-reporter.ts';
import { rngFor, type RngState } from '../rng.ts';
import { PhaseProgress } from './phase-progress.ts';
import type { ProgressOptions } from '../progress.ts';
import { EpochProgress } from './progress.ts';
import {
  EPOCH_STREAMS,
  epochStreamStates,
  saveBestCheckpoint,
  saveLastCheckpoint,
  type EpochStreamName,
  type LiveRun,
  type PartialEpoch,
} from './run-state.ts';
import { hasSharedTask } from './setup.ts';
import { taskStep } from './task-step.ts';

export interface TrainerContext extends LiveRun {
  cfg: RunConfig;
  model: EmbeddingNet;
  trainItems: ManifestItem[];
  /** Items evaluated every epoch (test split); `valItems` choose the checkpoint when --val-split is set. */
  testItems: ManifestItem[];
  valItems: ManifestItem[];
  runDir: string;
  microBs: number;
  log: (line: string) => void;
  /** Set by a signal handler: stop after the current step. */
  stopRequested: () => boolean;
  /** Told what the trainer is doing ("epoch 3 (training)", "epoch 3 (evaluation)"), for interrupt messages. */
  onPhase?: (phase: string) => void;
  /** Where and how often progress is shown (`--log-every`). */
  progress?: ProgressOptions;
}

export interface EpochOutcome {
  loss: number;
  metrics: Record<string, number>;
  /** Set when a stop request ended the epoch early: iterations done of the epoch's total (saved in `last/`). */
  stoppedAt?: { iters: number; total: number };
}

/** An epoch's batches and task decisions, drawn up front; with the iterations an interrupted run did already removed. */
interface EpochPlan {
  /** State of the epoch streams before anything was drawn (saved with a mid-epoch `last/`). */
  startRng: Record<EpochStreamName, RngState>;
  iters: number;
  /** Per iteration: [Class step?, Shared step?]. */
  runs: [boolean, boolean][];
  /** The batches still to load, per task, in step order. */
  classSpecs: BatchSpec[];
  sharedSpecs: BatchSpec[];
  /** Iterations already done (resume of an interrupted epoch). */
  skip: number;
}

/** The training part of an epoch: loss sums (continued across an interruption), iterations done, seconds. */
interface TrainedPart {
  lossSum: number;
  steps: number;
  doneIters: number;
  trainSeconds: number;
  interrupted: boolean;
}

type Batches = AsyncIterator<LoadedBatch>;

/** Column prefix used for validation metrics when --val-split is set. */
export const VAL_PREFIX = 'Val ';

/** A best checkpoint: the CSV column whose improvement saves it, its folder, and the test groups whose pictures go with it. */
export interface BestCheckpointChoice {
  column: string;
  folder: string;
  testGroups: number[];
}

/**
 * Which Recall@1 chooses which best checkpoint: without a validation split each test set chooses its own
 * (`checkpoint_Class/`; VehicleID `checkpoint_set1..3/` on `Set g Recall @ 1`); with one, `Val Recall @ 1`
 * chooses the one `checkpoint_Class/` (the validation split is a single set, whatever the test split has).
 */
export function bestCheckpointChoices(testItems: readonly ManifestItem[], hasVal: boolean): BestCheckpointChoice[] {
  const sets = [...new Set(testItems.map((it) => it.set))];
  const single = sets.includes(undefined);
  if (hasVal) return [{ column: `${VAL_PREFIX}Recall @ 1`, folder: bestCheckpointName(undefined), testGroups: sets.map((_, g) => g) }];
  return sets.map((_, g) => ({
    column: `${single ? '' : `Set ${g} `}Recall @ 1`,
    folder: bestCheckpointName(single ? undefined : g + 1),
    testGroups: [g],
  }));
}

export class Trainer {
  private readonly classSampler: ClassBalancedSampler;
  private readonly sharedSampler: ClusterBalancedSampler | null;
  private readonly warned = new Set<string>();
  /** Distinct evaluation images left out of the metrics because they could not be decoded. */
  readonly evalLeftOut = new Set<string>();
  /** Wall seconds of each whole epoch run by this process (for the run ETA). */
  private readonly epochSeconds: number[] = [];

  constructor(private readonly c: TrainerContext) {
    const { cfg } = c;
    const classLabels = Int32Array.from(c.trainItems, (it) => it.label);
    this.classSampler = new ClassBalancedSampler(classLabels, cfg.bs, cfg.csPerBs[0], c.rngs['sampler.class']);
    const shared = c.clusters.labels;
    this.sharedSampler =
      hasSharedTask(cfg) && shared
        ? new ClusterBalancedSampler(shared, cfg.bs, cfg.csPerBs[1], cfg.randomClusterPickP, c.rngs['sampler.shared'])
        : null;
  }

  /** Train and evaluate one epoch (0-based); `resume` continues an interrupted one. */
  async runEpoch(epoch: number, resume?: PartialEpoch): Promise<EpochOutcome> {
    const wall0 = performance.now();
    const plan = this.planEpoch(resume);
    this.c.onPhase?.(`epoch ${epoch + 1} (training)`);
    const secondsPerEpoch = this.epochSeconds.length ? this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length : undefined;
    const progress = new EpochProgress(epoch, this.c.cfg.nEpochs, plan.iters, this.c.progress, {
      laterEpochs: this.c.cfg.nEpochs - epoch - 1,
      secondsPerEpoch,
    });
    const part = await this.trainIterations(epoch, plan, progress, resume);
    // Mean over all steps of the epoch (0 when none happened), summed in step order across an interruption.
    const loss = part.steps > 0 ? part.lossSum / part.steps : 0;
    if (part.interrupted) {
      progress.done('interrupted');
      const { lossSum, steps, doneIters: iters, trainSeconds } = part;
      saveLastCheckpoint(this.c.runDir, this.c, epoch - 1, { epoch, iters, lossSum, steps, trainSeconds, startRng: plan.startRng });
      return { loss, metrics: {}, stoppedAt: { iters, total: plan.iters } };
    }
    this.c.reporter.logTrain(epoch, part.trainSeconds, loss);
    const metrics = await this.evaluateEpoch(epoch, progress);
    await this.reclusterIfDue(epoch);
    this.endEpoch(epoch);
    this.epochSeconds.push((performance.now() - wall0) / 1000);
    return { loss, metrics };
  }

  /** Draw the epoch's batches and task decisions (from the epoch's start state when resuming one). */
  private planEpoch(resume: PartialEpoch | undefined): EpochPlan {
    const { cfg, rngs } = this.c;
    if (resume) for (const s of EPOCH_STREAMS) rngs[s].setState(resume.startRng[s]);
    const startRng = epochStreamStates(rngs);
    const classBatches = this.classSampler.epoch();
    const sharedAll = this.sharedSampler?.epoch() ?? [];
    const iters = this.sharedSampler ? Math.min(classBatches.length, sharedAll.length) : classBatches.length;
    // Task decisions for the whole epoch, drawn in the original's order (Class then Shared per iteration), so
    // the Shared loader only loads the batches that will be used.
    const runs: [boolean, boolean][] = [];
    for (let i = 0; i < iters; i++) runs.push([rngs.task.bernoulli(cfg.taskP[0]), rngs.task.bernoulli(cfg.taskP[1])]);
    const plan: EpochPlan = {
      startRng,
      iters,
      runs,
      classSpecs: classBatches.slice(0, iters).filter((_, i) => runs[i][0]),
      sharedSpecs: this.sharedSampler ? sharedAll.slice(0, iters).filter((_, i) => runs[i][1]) : [],
      skip: resume?.iters ?? 0,
    };
    if (plan.skip > 0) this.skipDoneIterations(plan);
    return plan;
  }

  /** Replay the crops drawn for the iterations already done, so the augmentation streams continue exactly. */
  private skipDoneIterations(plan: EpochPlan): void {
    const { cfg, rngs } = this.c;
    const drawn = (specs: BatchSpec[], upTo: number) => specs.slice(0, upTo).reduce((n, b) => n + b.indices.length, 0);
    const classDone = plan.runs.slice(0, plan.skip).filter((r) => r[0]).length;
    const sharedDone = this.sharedSampler ? plan.runs.slice(0, plan.skip).filter((r) => r[1]).length : 0;
    for (let k = drawn(plan.classSpecs, classDone); k > 0; k--) drawTrainRandoms(rngs['augment.class'], cfg.cropStyle);
    for (let k = drawn(plan.sharedSpecs, sharedDone); k > 0; k--) drawTrainRandoms(rngs['augment.shared'], cfg.cropStyle);
    plan.classSpecs.splice(0, classDone);
    plan.sharedSpecs.splice(0, sharedDone);
  }

  /** The prefetching loaders of the two tasks (Class batches flipped, Shared batches with the surrogate labels). */
  private openLoaders(plan: EpochPlan): [Batches, Batches] {
    const { cfg, model, rngs, trainItems } = this.c;
    const train = { train: true, cropStyle: cfg.cropStyle } as const;
    const classIt = new BatchLoader(
      trainItems,
      plan.classSpecs,
      cfg.inputSize,
      model.input,
      { ...train, flip: true },
      rngs['augment.class'],
      cfg.kernels,
      { recycle: true },
    );
    const sharedIt = new BatchLoader(
      trainItems,
      plan.sharedSpecs,
      cfg.inputSize,
      model.input,
      { ...train, flip: false },
      rngs['augment.shared'],
      cfg.kernels,
      {
        replacementLabels: this.c.clusters.labels ?? undefined,
        recycle: true,
      },
    );
    return [classIt[Symbol.asyncIterator](), sharedIt[Symbol.asyncIterator]()];
  }

  /** The epoch's iterations (from `plan.skip`), until done or a stop request. */
  private async trainIterations(epoch: number, plan: EpochPlan, progress: EpochProgress, resume: PartialEpoch | undefined): Promise<TrainedPart> {
    const loaders = this.openLoaders(plan);
    const t0 = performance.now();
    const part: TrainedPart = { lossSum: resume?.lossSum ?? 0, steps: resume?.steps ?? 0, doneIters: plan.skip, trainSeconds: 0, interrupted: false };
    for (let i = plan.skip; i < plan.iters; i++) {
      const { losses, images } = await this.iteration(epoch, i, plan.runs[i], loaders);
      for (const l of losses) {
        part.lossSum += l;
        part.steps += 1;
      }
      progress.tick(images, losses);
      part.doneIters = i + 1;
      // When the next batch is already loaded, awaiting it never reaches the event loop, where signals are
      // delivered: give it a turn so a Ctrl-C is seen after this step, not at the next evaluation.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.c.stopRequested() && part.doneIters < plan.iters) {
        part.interrupted = true;
        break;
      }
    }
    for (const it of loaders) await it.return?.();
    part.trainSeconds = (resume?.trainSeconds ?? 0) + (performance.now() - t0) / 1000;
    return part;
  }

  /** One iteration: a Class step and a Shared step, each when its task decision says so. */
  private async iteration(
    epoch: number,
    i: number,
    run: [boolean, boolean],
    loaders: [Batches, Batches],
  ): Promise<{ losses: number[]; images: number }> {
    const { parts, model } = this.c;
    const losses: number[] = [];
    let images = 0;
    for (const task of [0, 1] as const) {
      if (!run[task]) continue;
      const next = await loaders[task].next();
      if (next.done) throw new Error(`loader for task ${task} ended early`);
      const b = next.value;
      const loss = parts.losses[task];
      if (!loss) continue;
      const r = taskStep({
        model,
        task,
        loss,
        adversarial: parts.adversarial,
        optimizer: parts.optimizer,
        images: b.images,
        n: b.n,
        size: this.c.cfg.inputSize,
        labels: b.labels,
        microBs: this.c.microBs,
      });
      if (!Number.isFinite(r.loss)) {
        throw new UserError(
          `training loss became ${r.loss} at epoch ${epoch + 1}, iteration ${i + 1} (task ${task === 0 ? 'Class' : 'Shared'}); try a lower --lr (last/ holds the last completed epoch)`,
        );
      }
      if (r.warning) this.warnOnce(r.warning);
      losses.push(r.loss);
      images += b.n;
    }
    return { losses, images };
  }

  /** Evaluate, log the metrics, keep the best checkpoints and recoveries, redraw the plot. */
  private async evaluateEpoch(epoch: number, progress: EpochProgress): Promise<Record<string, number>> {
    this.c.onPhase?.(`epoch ${epoch + 1} (evaluation)`);
    const e0 = performance.now();
    const { metrics, test } = await this.evaluate(`epoch ${epoch + 1}/${this.c.cfg.nEpochs} evaluation`);
    this.c.reporter.logVal(epoch, (performance.now() - e0) / 1000, metrics);
    progress.done(this.summaryLine(metrics));
    await this.afterEvaluation(epoch, test);
    await this.c.reporter.writePlot();
    return metrics;
  }

  /** Re-cluster the Shared embeddings when the counter says so (the counter moves every epoch). */
  private async reclusterIfDue(epoch: number): Promise<void> {
    const { clusters, cfg } = this.c;
    if (!clusters.dueAfterEpoch() || !this.sharedSampler) return;
    this.c.onPhase?.(`epoch ${epoch + 1} (re-clustering)`);
    const t = performance.now();
    const shown = new PhaseProgress(`epoch ${epoch + 1}/${cfg.nEpochs} re-clustering`, this.c.trainItems.length, this.c.progress);
    const labels = await clusters.recluster({ onProgress: (d) => shown.update(d), onWarning: (m) => this.warnOnce(`k-means: ${m}`) });
    shown.end();
    this.sharedSampler.setLabels(labels);
    this.c.log(`re-clustered the Shared embeddings into ${clusters.numClusters} clusters (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }

  /** The next epoch's learning rates, the summary file, and `last/` for `--resume`. */
  private endEpoch(epoch: number): void {
    const { parts } = this.c;
    parts.schedule.step(parts.optimizer);
    this.c.reporter.writeSummary();
    saveLastCheckpoint(this.c.runDir, this.c, epoch, null);
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
      if (fresh.length > 0)
        this.c.log(
          `warning: ${fresh.length} evaluation image(s) could not be decoded and are left out of the metrics: ${fresh
            .slice(0, 5)
            .map((i) => all[i].path)
            .join(', ')}${fresh.length > 5 ? ', …' : ''}`,
        );
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

  /**
   * Best checkpoints and recoveries pictures, when the Recall@1 that chooses them improved
   * (docs/porting.md#checkpoint-selection): one per test set, or with `--val-split` one checkpoint chosen on
   * the validation split and every test set's picture redrawn with it.
   */
  private async afterEvaluation(epoch: number, test: EvaluationResult & { items: ManifestItem[] }): Promise<void> {
    const { reporter, runDir } = this.c;
    for (const choice of bestCheckpointChoices(this.c.testItems, this.c.valItems.length > 0)) {
      if (!reporter.isNewBest(choice.column)) continue;
      saveBestCheckpoint(path.join(runDir, choice.folder), this.c, { epoch, chosenOn: choice.column, metrics: reporter.history().val });
      for (const g of choice.testGroups) await this.drawRecoveries(test, g);
    }
  }

  /** The sample-recoveries picture of test group `g` (its set's file for VehicleID). */
  private async drawRecoveries(test: EvaluationResult & { items: ManifestItem[] }, g: number): Promise<void> {
    const group = test.recoveries[g];
    const setNo = group.prefix ? g + 1 : undefined;
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
    const unreadable = await drawRecoveries(rows, path.join(this.c.runDir, recoveriesFileName(setNo)));
    const known = new Set(loaderStats().failedPaths);
    for (const p of unreadable) if (!known.has(p)) this.warnOnce(`recoveries picture: could not read ${p}`);
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
