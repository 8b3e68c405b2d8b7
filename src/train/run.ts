// Port of: main.py top level (docs/porting.md#startup)
/**
 * One training run, start to finish, as named phases: checks that need no work, the dataset and the network
 * (`startup.ts`), the Shared task's initial surrogate labels, the run folder, losses and optimizer, then the
 * epoch loop and the closing summary. `--resume DIR` rebuilds the same run and continues from `DIR/last/`
 * (`resume.ts` checks it, `run-state.ts` reads and restores it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { sampleDefaultsLine, type RunConfig } from '../cli/config.ts';
import type { SavedRunConfig } from '../cli/parse.ts';
import { describeProfile } from '../backend/profile.ts';
import type { BackendReport } from '../backend/select.ts';
import type { BadImage } from '../data/image-check.ts';
import { decodeFailures, loaderStats } from '../data/loader.ts';
import { SharedClusters } from '../mic/shared-clusters.ts';
import { countDistinct } from '../mic/surrogate.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import { createRunFolder } from '../report/run-folder.ts';
import { writeRunInfo } from '../report/run-info.ts';
import { RunReporter } from '../report/run-reporter.ts';
import { runSummaryLines } from '../report/end-of-run.ts';
import { assert, UserError } from '../errors.ts';
import { Rng, rngFor } from '../rng.ts';
import { RunInterrupts } from './interrupts.ts';
import { PhaseProgress } from './phase-progress.ts';
import { preflight } from './preflight.ts';
import type { ProgressOptions } from '../progress.ts';
import { openResume, resumingLine, savedDescription } from './resume.ts';
import { restoreLastCheckpoint, STREAMS, type LiveRun, type PartialEpoch, type StreamName } from './run-state.ts';
import { buildTrainingParts, disposeTrainingParts, hasSharedTask } from './setup.ts';
import { columnsFor, prepareNetwork, readDataset, type RunData, type StartupContext } from './startup.ts';
import { autoMicroBatch } from './task-step.ts';
import { bestCheckpointChoices, Trainer } from './trainer.ts';
import { improvementLine, untrainedFigures, type UntrainedFigures } from './untrained.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** File in the run folder listing every image that could not be decoded, with the reason. */
const UNDECODABLE_LIST = 'undecodable_images.txt';

function writeUndecodableList(runDir: string, bad: readonly BadImage[]): void {
  fs.writeFileSync(path.join(runDir, UNDECODABLE_LIST), bad.map((b) => `${b.path}\t${b.reason}\n`).join(''));
}

/**
 * Train (or, with `cfg.resume`, continue) one run. `saved` is what `resolveRun` read from the resumed run's
 * hypa.json; required exactly when resuming.
 */
export async function runTraining(cfg: RunConfig, saved?: SavedRunConfig): Promise<void> {
  assert((cfg.resume !== undefined) === (saved !== undefined), 'runTraining: a resumed run needs its saved hypa.json (resolveRun)');
  // Ctrl-C is answered from the first moment on (see interrupts.ts); checks that need no work come first.
  const interrupts = new RunInterrupts({ log });
  interrupts.install();
  try {
    await train(cfg, saved, interrupts);
  } finally {
    interrupts.uninstall();
  }
}

async function train(cfg: RunConfig, saved: SavedRunConfig | undefined, interrupts: RunInterrupts): Promise<void> {
  const started = performance.now();
  preflight(cfg, log);
  const resume = saved ? openResume(cfg, saved) : null;
  if (cfg.dataset === 'sample' && !resume) log(sampleDefaultsLine(cfg));
  const s: StartupContext = { cfg, resume, interrupts, progress: { logEverySeconds: cfg.logEvery }, log };

  const data = await readDataset(s);
  const { backend, model } = await prepareNetwork(s);
  if (resume) {
    interrupts.setRunFolder(resume.runDir, false);
    interrupts.setSaved(savedDescription(resume.last.state));
  }
  const microBs = autoMicroBatch(backend.profile, cfg.inputSize, cfg.bs, cfg.microBs);
  const rngs = Object.fromEntries(STREAMS.map((name) => [name, rngFor(cfg.seed, name)])) as Record<StreamName, Rng>;
  const clusters = await sharedClusters(s, model, data);

  // A fresh run's folder is made only now, after the long start-up: an interrupted start leaves none behind.
  const runDir = resume ? resume.runDir : createRunFolder({ savePath: cfg.savePath, dataset: cfg.dataset, arch: cfg.arch, savename: cfg.savename });
  if (!resume) interrupts.setRunFolder(runDir, true);
  const numClasses: [number, number] = [countDistinct(classLabelsOf(data)), Math.max(clusters.numClusters, 1)];
  const parts = await buildTrainingParts(cfg, model, numClasses, { miner: rngs.miner, init: rngFor(cfg.seed, 'init.loss') });
  const live: LiveRun = {
    header: { format: 'mic-train', config: cfg },
    model,
    parts,
    rngs,
    clusters,
    reporter: new RunReporter(runDir, columnsFor(cfg, data)),
  };
  const start = startOrResume(s, live, runDir, { backend, microBs, data, numClasses });
  if (decodeFailures().length > 0) writeUndecodableList(runDir, decodeFailures());
  log(`run folder: ${runDir}`);
  if (microBs < cfg.bs) log(`micro-batches of ${microBs} images (exact full-batch gradients; --micro-bs to change)`);

  const trainer = new Trainer({
    ...live,
    cfg,
    model,
    ...data,
    runDir,
    microBs,
    log,
    progress: s.progress,
    stopRequested: () => interrupts.stopRequested,
    onPhase: (phase) => interrupts.setPhase(phase, true),
  });
  let untrained: UntrainedFigures | undefined;
  try {
    if (!resume) interrupts.setPhase('the evaluation of the untrained network', false);
    untrained = await untrainedFigures(() => trainer.evaluate(), resume?.last.state, live.header, log);
    await trainEpochs(trainer, cfg, start, interrupts);
  } finally {
    disposeTrainingParts(parts);
    model.dispose();
  }
  finishRun(runDir, data, live.reporter, { trainer, untrained, seconds: (performance.now() - started) / 1000 });
}

function classLabelsOf(data: RunData): Int32Array {
  return Int32Array.from(data.trainItems, (it) => it.label);
}

/**
 * The Shared task's surrogate labels: restored on resume, else the initial clustering (docs/porting.md#mic-clustering);
 * none at all without a Shared task (baseline mode). One object keeps them for the whole run (re-clustering too).
 */
async function sharedClusters({ cfg, resume, interrupts, progress }: StartupContext, model: EmbeddingNet, data: RunData): Promise<SharedClusters> {
  const { trainItems } = data;
  const clusters = new SharedClusters(
    {
      model,
      paths: trainItems.map((it) => it.path),
      classLabels: classLabelsOf(data),
      bs: cfg.bs,
      inputSize: cfg.inputSize,
      conv: model.input,
      concurrency: cfg.kernels,
    },
    {
      k: cfg.sharedNumClasses,
      iters: cfg.kmeansIters,
      maxPointsPerCentroid: cfg.kmeansMaxPoints,
      mode: cfg.clusterMode,
      updateFreq: cfg.clusterUpdateFreq,
      kmeansRng: () => rngFor(cfg.seed, 'kmeans'),
    },
  );
  if (resume) {
    clusters.restore(resume.last.state);
    return clusters;
  }
  if (!hasSharedTask(cfg)) return clusters;
  interrupts.setPhase('initial clustering', false);
  log(`initial clustering: layer1 features of ${trainItems.length} training images, then k-means with k = ${cfg.sharedNumClasses}`);
  const t = performance.now();
  const shown = new PhaseProgress('initial clustering', trainItems.length, progress);
  await clusters.makeInitial({ onProgress: (done) => shown.update(done), onWarning: (m) => log(`warning: k-means: ${m}`) });
  shown.end();
  const n = clusters.numClusters;
  log(`initial surrogate labels: ${n} clusters from layer1 features (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  if (n < cfg.sharedNumClasses) {
    log(
      `note: the Shared task has ${n} surrogate classes, not --shared_num_classes ${cfg.sharedNumClasses} (k-means found only ${n} distinct clusters in ${trainItems.length} images)`,
    );
  }
  return clusters;
}

/** Where the epoch loop starts: the first epoch not done, and the interrupted part of it (if any). */
interface StartPoint {
  epoch: number;
  partial?: PartialEpoch;
}

/** A resumed run takes `last/` back (and rewrites its CSVs from it); a fresh one writes its hypa.json and empty logs. */
function startOrResume(
  { cfg, resume }: StartupContext,
  live: LiveRun,
  runDir: string,
  facts: { backend: BackendReport; microBs: number; data: RunData; numClasses: [number, number] },
): StartPoint {
  if (resume) {
    restoreLastCheckpoint(resume.last, live);
    log(resumingLine(resume, cfg.nEpochs));
    const { epoch, partial } = resume.last.state;
    return { epoch: epoch + 1, partial: partial ?? undefined };
  }
  const { backend } = facts;
  const { model } = live;
  writeRunInfo(
    runDir,
    cfg,
    {
      backend: backend.name,
      backend_reason: backend.reason,
      device: backend.device,
      ...(backend.gpuWarning ? { gpu_warning: backend.gpuWarning } : {}),
      backend_profile: describeProfile(backend.profile),
      threads: backend.threads,
      ...(backend.gemm ? { gemm: backend.gemm } : {}),
      versions: backend.versions,
      micro_bs: facts.microBs,
      mean: model.input.mean,
      std: model.input.std,
      input_space: model.input.order,
      input_range: model.input.scale === 1 ? [0, 1] : [0, 255],
      samples_per_class: cfg.csPerBs[0],
      all_num_classes: [facts.numClasses[0], live.clusters.numClusters],
      source_path: path.resolve(cfg.sourcePath, cfg.dataset === 'folder' ? '' : cfg.dataset),
      save_path: runDir,
    },
    { dataFingerprint: facts.data.fingerprint },
  );
  live.reporter.start();
  return { epoch: 0 };
}

/** The epoch loop; a stop request ends it with exit code 130 once `last/` holds where it stopped. */
async function trainEpochs(trainer: Trainer, cfg: RunConfig, start: StartPoint, interrupts: RunInterrupts): Promise<void> {
  for (let epoch = start.epoch; epoch < cfg.nEpochs; epoch++) {
    const out = await trainer.runEpoch(epoch, start.partial?.epoch === epoch ? start.partial : undefined);
    interrupts.setSaved(
      out.stoppedAt ? `epoch ${epoch + 1} up to iteration ${out.stoppedAt.iters} of ${out.stoppedAt.total}` : `epoch ${epoch + 1} complete`,
    );
    if (out.stoppedAt) {
      throw new UserError(
        `interrupted during epoch ${epoch + 1} at iteration ${out.stoppedAt.iters} of ${out.stoppedAt.total}; saved in last/. ${interrupts.resumeHint()}`,
        130,
      );
    }
    if (interrupts.stopRequested && epoch + 1 < cfg.nEpochs) {
      throw new UserError(`stopped after epoch ${epoch + 1} of ${cfg.nEpochs} (saved in last/). ${interrupts.resumeHint()}`, 130);
    }
  }
}

/** The closing lines: images that could not be decoded, untrained → final, the chosen checkpoints, the time taken. */
function finishRun(
  runDir: string,
  { testItems, valItems }: RunData,
  reporter: RunReporter,
  run: { trainer: Trainer; untrained: UntrainedFigures | undefined; seconds: number },
): void {
  const failures = decodeFailures();
  if (failures.length > 0) {
    const stats = loaderStats();
    writeUndecodableList(runDir, failures);
    const note =
      `${failures.length} image file(s) could not be decoded (listed in ${UNDECODABLE_LIST}): ${stats.replaced} training slot(s) took another image of the same class instead, ` +
      `${run.trainer.evalLeftOut.size} evaluation image(s) were left out of the metrics\n`;
    fs.appendFileSync(path.join(runDir, 'Curr_Summary_Class.txt'), `----- data:\n${note}`);
    log(`warning: ${note.trim()}`);
  }
  const gain = improvementLine(run.untrained, reporter.history());
  if (gain) log(gain);
  const chosen = bestCheckpointChoices(testItems, valItems.length > 0);
  for (const line of runSummaryLines({ runDir, val: reporter.history().val, chosen, seconds: run.seconds })) log(line);
}
