// Port of: main.py top level (spec §2.1 start-up order)
/**
 * One training run, start to finish: backend, dataset, network, run folder, initial surrogate labels, losses and
 * optimizer, then the epoch loop. `--resume DIR` rebuilds the same run and continues from `DIR/last/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../cli/config.ts';
import { flagKey } from '../cli/flags.ts';
import { readConfigFile, resumeConflicts } from '../cli/parse.ts';
import { selectBackend, type BackendReport } from '../backend/select.ts';
import { applyValSplit, loadManifest, manifestCounts, splitItems } from '../data/datasets/index.ts';
import { loaderStats } from '../data/loader.ts';
import type { ManifestItem } from '../data/manifest.ts';
import { metricColumns } from '../eval/evaluate.ts';
import { findCheckpoint, loadCheckpoint } from '../io/checkpoint.ts';
import { initialSurrogateLabels } from '../mic/clustering.ts';
import { countDistinct, ReclusterSchedule } from '../mic/surrogate.ts';
import { buildModel } from '../models/registry.ts';
import { createRunFolder } from '../report/run-folder.ts';
import { writeRunInfo } from '../report/run-info.ts';
import { RunReporter } from '../report/run-reporter.ts';
import { UserError } from '../errors.ts';
import { Rng, rngFor, type RngState } from '../rng.ts';
import { restore } from './checkpointing.ts';
import { buildTrainingParts, disposeTrainingParts, hasSharedTask } from './setup.ts';
import { autoMicroBatch } from './task-step.ts';
import { STREAMS, Trainer, VAL_PREFIX, type PartialEpoch, type StreamName } from './trainer.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function initBackend(cfg: RunConfig): Promise<BackendReport> {
  return selectBackend(cfg.backend, { gpu: cfg.gpu, threads: cfg.threads, log });
}

/** Metric columns of log_val_Class.csv: per VehicleID-style set a `Set g ` prefix; validation columns last. */
function columnsFor(cfg: RunConfig, testItems: ManifestItem[], valItems: ManifestItem[]): string[] {
  const sets = [...new Set(testItems.map((it) => it.set))];
  const cols = sets.includes(undefined) ? metricColumns(cfg.kVals) : sets.flatMap((_, g) => metricColumns(cfg.kVals, `Set ${g} `));
  if (valItems.length > 0) cols.push(...metricColumns(cfg.kVals, VAL_PREFIX));
  return cols;
}

export async function runTraining(cfg: RunConfig): Promise<void> {
  const resuming = cfg.resume !== undefined;
  let resumeCk: ReturnType<typeof loadCheckpoint> | null = null;
  if (resuming) {
    const saved = readConfigFile(path.join(cfg.resume!, 'hypa.json'));
    const asConfig = Object.fromEntries(Object.entries(saved).map(([k, v]) => [flagKey(k), v]));
    const conflicts = resumeConflicts(asConfig, cfg);
    if (conflicts.length) throw new UserError(`--resume ${cfg.resume}: the run was made with a different configuration: ${conflicts.join('; ')}`);
    if (!findCheckpoint(path.join(cfg.resume!, 'last'))) {
      throw new UserError(`--resume ${cfg.resume}: no last/ checkpoint yet (the run stopped before its first epoch ended); start it again instead`);
    }
    resumeCk = loadCheckpoint(path.join(cfg.resume!, 'last'));
  }
  if (cfg.dataset === 'sample' && !resuming) {
    log(`sample dataset defaults: --input-size ${cfg.inputSize} --n_epochs ${cfg.nEpochs} --bs ${cfg.bs} --lr ${cfg.lr} --shared_num_classes ${cfg.sharedNumClasses}${cfg.notPretrained ? ' --not_pretrained' : ''} (flags override them)`);
  }

  const backend = await initBackend(cfg);
  let manifest = await loadManifest(cfg);
  if (cfg.valSplit > 0) manifest = applyValSplit(manifest, cfg.valSplit, rngFor(cfg.seed, 'valsplit'));
  const trainItems = splitItems(manifest, 'train');
  const testItems = splitItems(manifest, 'test');
  const valItems = splitItems(manifest, 'val');
  const counts = manifestCounts(manifest);
  log(
    `dataset ${cfg.dataset}: ${trainItems.length} train images / ${counts.train?.classes ?? 0} classes, ` +
      `${testItems.length} test images / ${counts.test?.classes ?? 0} classes` +
      (valItems.length ? `, ${valItems.length} validation images / ${counts.val?.classes ?? 0} classes` : ''),
  );
  if (trainItems.length < cfg.bs) {
    throw new UserError(`--bs ${cfg.bs}: the training split has only ${trainItems.length} images; use a smaller --bs`);
  }

  const model = await buildModel({
    arch: cfg.arch,
    embedSizes: cfg.embedSizes,
    // On resume every weight comes from the checkpoint: skip reading ImageNet weights.
    notPretrained: cfg.notPretrained || resuming,
    pretrained: resuming ? undefined : cfg.pretrained,
    pretrainedFormat: cfg.pretrainedFormat,
    rng: rngFor(cfg.seed, 'init'),
    log,
  });

  const runDir = resuming ? path.resolve(cfg.resume!) : createRunFolder({ savePath: cfg.savePath, dataset: cfg.dataset, arch: cfg.arch, savename: cfg.savename });
  const microBs = autoMicroBatch(backend.name, cfg.inputSize, cfg.bs, cfg.microBs);
  const rngs = Object.fromEntries(STREAMS.map((s) => [s, rngFor(cfg.seed, s)])) as Record<StreamName, Rng>;
  const classLabels = Int32Array.from(trainItems, (it) => it.label);
  const numTrainClasses = countDistinct(classLabels);

  // Initial surrogate labels (spec §3.2) — skipped entirely without a Shared task (baseline mode).
  let sharedLabels: Int32Array | null = null;
  let numClusters = 0;
  const recluster = new ReclusterSchedule(cfg.clusterUpdateFreq);
  if (resumeCk) {
    const st = resumeCk.state as { sharedLabels: number[] | null; numClusters: number };
    sharedLabels = st.sharedLabels ? Int32Array.from(st.sharedLabels) : null;
    numClusters = st.numClusters;
  } else if (hasSharedTask(cfg)) {
    const t = performance.now();
    sharedLabels = await initialSurrogateLabels(
      { model, paths: trainItems.map((it) => it.path), bs: cfg.bs, inputSize: cfg.inputSize, conv: model.input, concurrency: cfg.kernels },
      classLabels,
      cfg.clusterMode,
      { k: cfg.sharedNumClasses, iters: cfg.kmeansIters, maxPointsPerCentroid: cfg.kmeansMaxPoints, rng: rngFor(cfg.seed, 'kmeans'), onWarning: (m) => log(`warning: k-means: ${m}`) },
    );
    numClusters = countDistinct(sharedLabels);
    log(`initial surrogate labels: ${numClusters} clusters from layer1 features (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }

  const parts = buildTrainingParts(cfg, model, [numTrainClasses, Math.max(numClusters, 1)], { miner: rngs.miner, init: rngFor(cfg.seed, 'init.loss') });
  const reporter = new RunReporter(runDir, columnsFor(cfg, testItems, valItems));
  let startEpoch = 0;
  let partial: PartialEpoch | undefined;
  if (resumeCk) {
    restore(resumeCk, model, parts, resumeCk.path);
    const st = resumeCk.state as {
      epoch: number; rng: Record<string, RngState>; reclusterCounter: number; history: Parameters<RunReporter['restore']>[0]; partial: PartialEpoch | null;
    };
    for (const s of STREAMS) rngs[s].setState(st.rng[s]);
    recluster.counter = st.reclusterCounter;
    reporter.restore(st.history, st.epoch, resumeCk.path);
    startEpoch = st.epoch + 1;
    partial = st.partial ?? undefined;
    const where = partial ? `at iteration ${partial.iters} of epoch ${partial.epoch}` : `after epoch ${st.epoch}`;
    log(`resuming ${runDir} ${where} (${startEpoch}/${cfg.nEpochs} epochs done)`);
  } else {
    writeRunInfo(runDir, cfg, {
      backend: backend.name,
      backend_reason: backend.reason,
      device: backend.device ?? (backend.name === 'tensorflow-gpu' ? 'GPU (name unknown)' : 'CPU'),
      threads: backend.threads,
      ...(backend.gemm ? { gemm: backend.gemm } : {}),
      versions: backend.versions,
      micro_bs: microBs,
      mean: model.input.mean,
      std: model.input.std,
      input_space: model.input.order,
      input_range: model.input.scale === 1 ? [0, 1] : [0, 255],
      samples_per_class: cfg.csPerBs[0],
      all_num_classes: [numTrainClasses, numClusters],
      source_path: path.resolve(cfg.sourcePath, cfg.dataset === 'folder' ? '' : cfg.dataset),
      save_path: runDir,
    });
    reporter.start();
  }
  log(`run folder: ${runDir}`);
  if (microBs < cfg.bs) log(`micro-batches of ${microBs} images (exact full-batch gradients; --micro-bs to change)`);

  let stop = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop) process.exit(130);
    stop = true;
    log(`\n${sig}: stopping after the current step (press again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const trainer = new Trainer({
    cfg, model, parts, trainItems, testItems, valItems, reporter, runDir, rngs, sharedLabels, numClusters, recluster, microBs, log,
    stopRequested: () => stop,
    checkpointMeta: { format: 'mic-train', config: cfg },
  });
  try {
    for (let epoch = startEpoch; epoch < cfg.nEpochs; epoch++) {
      const out = await trainer.runEpoch(epoch, partial?.epoch === epoch ? partial : undefined);
      if (!out.interrupted && stop && epoch + 1 < cfg.nEpochs) {
        throw new UserError(`stopped after epoch ${epoch} (saved in last/). Continue with: npx mic-train --resume ${runDir}`, 130);
      }
      if (out.interrupted) {
        throw new UserError(`interrupted during epoch ${epoch}; saved in last/. Continue with: npx mic-train --resume ${runDir}`, 130);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    disposeTrainingParts(parts);
    model.dispose();
  }
  const stats = loaderStats();
  if (stats.failedFiles > 0) {
    const note = `${stats.failedFiles} image file(s) could not be decoded and were skipped (${stats.replaced} training slots replaced, ${stats.zeroFilled} evaluation slots zero-filled): ${stats.failedPaths.slice(0, 5).join(', ')}${stats.failedFiles > 5 ? ', …' : ''}\n`;
    fs.appendFileSync(path.join(runDir, 'Curr_Summary_Class.txt'), `----- data:\n${note}`);
    log(`warning: ${note.trim()}`);
  }
  log(`done: ${runDir}`);
}
