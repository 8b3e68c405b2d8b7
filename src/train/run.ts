// Port of: main.py top level (docs/porting.md#startup)
/**
 * One training run, start to finish: checks that need no work, dataset (and a decode of every image), backend,
 * network, initial surrogate labels, run folder, losses and optimizer, then the epoch loop and the summary.
 * `--resume DIR` rebuilds the same run and continues from `DIR/last/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sampleDefaultsLine, type RunConfig } from '../cli/config.ts';
import { flagKey } from '../cli/flags.ts';
import { readConfigFile, resumeConflicts } from '../cli/parse.ts';
import { describeProfile } from '../backend/profile.ts';
import { selectBackend, type BackendReport } from '../backend/select.ts';
import { applyValSplit, loadManifest, manifestCounts, splitItems } from '../data/datasets/index.ts';
import { datasetFingerprint, storedFingerprint, type DataFingerprint } from '../data/fingerprint.ts';
import { findUndecodable, judgeUndecodable, type BadImage } from '../data/image-check.ts';
import { IMAGENET_RGB } from '../data/image-convention.ts';
import { decodeFailures, loaderStats } from '../data/loader.ts';
import type { Manifest, ManifestItem } from '../data/manifest.ts';
import { metricColumns } from '../eval/evaluate.ts';
import { bestCheckpointName, findCheckpoint, loadCheckpoint } from '../io/checkpoint.ts';
import { readUserText } from '../io/safe-read.ts';
import { initialSurrogateLabels } from '../mic/clustering.ts';
import { countDistinct, ReclusterSchedule } from '../mic/surrogate.ts';
import { withInterruptSignal } from '../io/download.ts';
import { offlineByEnv } from '../io/sources.ts';
import { resolvePretrainedWeights } from '../models/fetch-weights.ts';
import { buildModel } from '../models/build-model.ts';
import { createRunFolder } from '../report/run-folder.ts';
import { writeRunInfo } from '../report/run-info.ts';
import { RunReporter } from '../report/run-reporter.ts';
import { runSummaryLines } from '../report/end-of-run.ts';
import { UserError } from '../errors.ts';
import { Rng, rngFor, type RngState } from '../rng.ts';
import { restore } from './checkpointing.ts';
import { RunInterrupts } from './interrupts.ts';
import { PhaseProgress } from './phase-progress.ts';
import { preflight } from './preflight.ts';
import type { ProgressOptions } from '../progress.ts';
import { buildTrainingParts, disposeTrainingParts, hasSharedTask } from './setup.ts';
import { autoMicroBatch } from './task-step.ts';
import { STREAMS, Trainer, VAL_PREFIX, type PartialEpoch, type StreamName } from './trainer.ts';
import { improvementLine, untrainedFigures } from './untrained.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * `--resume` must continue on the dataset the run was made with: the file list (and sizes) recorded in its
 * hypa.json must match what `--source_path` points at now.
 */
function checkSameDataset(runDir: string, now: DataFingerprint): void {
  const file = path.join(runDir, 'hypa.json');
  const saved = storedFingerprint(JSON.parse(readUserText(file, 'config', '--resume')));
  if (saved === undefined) {
    log(`warning: ${file} records no dataset fingerprint (a run of an older mic-train): cannot check that the dataset is the one the run was made with`);
    return;
  }
  if (saved.sha256 !== now.sha256) {
    const counts = saved.images === now.images ? `both have ${now.images} images, but other files, labels or sizes` : `${saved.images} images then, ${now.images} now`;
    throw new UserError(`--resume ${runDir}: the dataset is not the one the run was made with (${counts}); point --source_path at the run's dataset`);
  }
}

/** File in the run folder listing every image that could not be decoded, with the reason. */
const UNDECODABLE_LIST = 'undecodable_images.txt';

function writeUndecodableList(runDir: string, bad: readonly BadImage[]): void {
  fs.writeFileSync(path.join(runDir, UNDECODABLE_LIST), bad.map((b) => `${b.path}\t${b.reason}\n`).join(''));
}

/**
 * Decodes every image once before the run starts (see image-check.ts): stops with the list when a class has
 * no decodable image or too many cannot be decoded; otherwise names each bad file once.
 */
async function checkImages(cfg: RunConfig, manifest: Manifest, interrupts: RunInterrupts, progress: ProgressOptions): Promise<void> {
  interrupts.setPhase('start-up (checking the images)', false);
  const t = performance.now();
  const paths = manifest.items.map((it) => it.path);
  const shown = new PhaseProgress('image check', new Set(paths).size, progress);
  const bad = await findUndecodable(paths, IMAGENET_RGB, { concurrency: cfg.kernels, onProgress: (done) => shown.update(done) });
  shown.end();
  const secs = ((performance.now() - t) / 1000).toFixed(1);
  for (const b of bad.slice(0, 100)) log(`warning: cannot decode image '${b.path}': ${b.reason}`);
  if (bad.length > 100) log(`warning: … and ${bad.length - 100} more image(s) that cannot be decoded`);
  const notes = judgeUndecodable(manifest, bad, cfg.maxBadImages);
  log(`image check: ${shown.total} files decoded in ${secs} s${bad.length ? `, ${bad.length} cannot be decoded` : ''}`);
  for (const n of notes) log(`warning: ${n}`);
}

/** What a `last/` checkpoint's state holds, in the words interrupt messages use (epochs 1-based). */
function savedDescription(st: { epoch: number; partial: PartialEpoch | null }): string {
  return st.partial ? `epoch ${st.partial.epoch + 1} up to iteration ${st.partial.iters}` : `epoch ${st.epoch + 1} complete`;
}

async function initBackend(cfg: RunConfig): Promise<BackendReport> {
  const backend = await selectBackend(cfg.backend, { gpu: cfg.gpu, threads: cfg.threads, log });
  // A GPU run that silently trains on the CPU would take weeks: say so where nobody can miss it.
  if (backend.gpuWarning) log(`\n*** WARNING: ${backend.gpuWarning} ***\n`);
  return backend;
}

/** Metric columns of log_val_Class.csv: per VehicleID-style set a `Set g ` prefix; validation columns last. */
function columnsFor(cfg: RunConfig, testItems: ManifestItem[], valItems: ManifestItem[]): string[] {
  const sets = [...new Set(testItems.map((it) => it.set))];
  const cols = sets.includes(undefined) ? metricColumns(cfg.kVals) : sets.flatMap((_, g) => metricColumns(cfg.kVals, `Set ${g} `));
  if (valItems.length > 0) cols.push(...metricColumns(cfg.kVals, VAL_PREFIX));
  return cols;
}

export async function runTraining(cfg: RunConfig): Promise<void> {
  // Ctrl-C is answered from the first moment on (see interrupts.ts); checks that need no work come first.
  const interrupts = new RunInterrupts({ log });
  interrupts.install();
  try {
    await train(cfg, interrupts);
  } finally {
    interrupts.uninstall();
  }
}

async function train(cfg: RunConfig, interrupts: RunInterrupts): Promise<void> {
  const started = performance.now();
  preflight(cfg, log);
  const progress: ProgressOptions = { logEverySeconds: cfg.logEvery };
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
    log(sampleDefaultsLine(cfg));
  }

  interrupts.setPhase('start-up (reading the dataset)', false);
  let manifest = await loadManifest(cfg);
  const fingerprint = datasetFingerprint(manifest);
  if (resuming) checkSameDataset(cfg.resume!, fingerprint);
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
  await checkImages(cfg, manifest, interrupts, progress);
  if (hasSharedTask(cfg) && !resuming && cfg.sharedNumClasses > trainItems.length) {
    log(`note: --shared_num_classes ${cfg.sharedNumClasses} is more than the ${trainItems.length} training images: at most ${trainItems.length} clusters are made`);
  }

  // On resume every weight comes from the checkpoint: skip reading ImageNet weights.
  interrupts.setPhase('start-up (pretrained weights)', false);
  const notPretrained = cfg.notPretrained || resuming;
  const pretrained = await withInterruptSignal((signal) =>
    resolvePretrainedWeights({ arch: cfg.arch, format: cfg.pretrainedFormat, notPretrained, pretrained: cfg.pretrained, offline: cfg.offline || offlineByEnv(), log, signal }),
  );

  interrupts.setPhase('start-up (backend)', false);
  const backend = await initBackend(cfg);

  interrupts.setPhase('start-up (building the network)', false);
  const model = await buildModel({
    arch: cfg.arch,
    embedSizes: cfg.embedSizes,
    notPretrained,
    pretrained: resuming ? undefined : pretrained,
    pretrainedFormat: cfg.pretrainedFormat,
    rng: rngFor(cfg.seed, 'init'),
    log,
  });

  if (resumeCk) {
    interrupts.setRunFolder(path.resolve(cfg.resume!), false);
    interrupts.setSaved(savedDescription(resumeCk.state as { epoch: number; partial: PartialEpoch | null }));
  }
  const microBs = autoMicroBatch(backend.profile, cfg.inputSize, cfg.bs, cfg.microBs);
  const rngs = Object.fromEntries(STREAMS.map((s) => [s, rngFor(cfg.seed, s)])) as Record<StreamName, Rng>;
  const classLabels = Int32Array.from(trainItems, (it) => it.label);
  const numTrainClasses = countDistinct(classLabels);

  // Initial surrogate labels (docs/porting.md#mic-clustering) — skipped entirely without a Shared task (baseline mode).
  let sharedLabels: Int32Array | null = null;
  let numClusters = 0;
  const recluster = new ReclusterSchedule(cfg.clusterUpdateFreq);
  if (resumeCk) {
    const st = resumeCk.state as { sharedLabels: number[] | null; numClusters: number };
    sharedLabels = st.sharedLabels ? Int32Array.from(st.sharedLabels) : null;
    numClusters = st.numClusters;
  } else if (hasSharedTask(cfg)) {
    interrupts.setPhase('initial clustering', false);
    log(`initial clustering: layer1 features of ${trainItems.length} training images, then k-means with k = ${cfg.sharedNumClasses}`);
    const t = performance.now();
    const shown = new PhaseProgress('initial clustering', trainItems.length, progress);
    sharedLabels = await initialSurrogateLabels(
      {
        model, paths: trainItems.map((it) => it.path), classLabels, bs: cfg.bs, inputSize: cfg.inputSize, conv: model.input, concurrency: cfg.kernels,
        onProgress: (done) => shown.update(done),
      },
      classLabels,
      cfg.clusterMode,
      { k: cfg.sharedNumClasses, iters: cfg.kmeansIters, maxPointsPerCentroid: cfg.kmeansMaxPoints, rng: rngFor(cfg.seed, 'kmeans'), onWarning: (m) => log(`warning: k-means: ${m}`) },
    );
    shown.end();
    numClusters = countDistinct(sharedLabels);
    log(`initial surrogate labels: ${numClusters} clusters from layer1 features (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    if (numClusters < cfg.sharedNumClasses) {
      log(`note: the Shared task has ${numClusters} surrogate classes, not --shared_num_classes ${cfg.sharedNumClasses} (k-means found only ${numClusters} distinct clusters in ${trainItems.length} images)`);
    }
  }

  // A fresh run's folder is made only now, after the long start-up: an interrupted start leaves none behind.
  const runDir = resuming ? path.resolve(cfg.resume!) : createRunFolder({ savePath: cfg.savePath, dataset: cfg.dataset, arch: cfg.arch, savename: cfg.savename });
  if (!resuming) interrupts.setRunFolder(runDir, true);
  const parts = await buildTrainingParts(cfg, model, [numTrainClasses, Math.max(numClusters, 1)], { miner: rngs.miner, init: rngFor(cfg.seed, 'init.loss') });
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
    const where = partial ? `at iteration ${partial.iters} of epoch ${partial.epoch + 1}` : `after epoch ${st.epoch + 1}`;
    log(`resuming ${runDir} ${where} (${startEpoch}/${cfg.nEpochs} epochs done)`);
  } else {
    writeRunInfo(runDir, cfg, {
      backend: backend.name,
      backend_reason: backend.reason,
      device: backend.device,
      ...(backend.gpuWarning ? { gpu_warning: backend.gpuWarning } : {}),
      backend_profile: describeProfile(backend.profile),
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
    }, { dataFingerprint: fingerprint });
    reporter.start();
  }
  if (decodeFailures().length > 0) writeUndecodableList(runDir, decodeFailures());
  log(`run folder: ${runDir}`);
  if (microBs < cfg.bs) log(`micro-batches of ${microBs} images (exact full-batch gradients; --micro-bs to change)`);

  const checkpointMeta: Record<string, unknown> = { format: 'mic-train', config: cfg };
  const trainer = new Trainer({
    cfg, model, parts, trainItems, testItems, valItems, reporter, runDir, rngs, sharedLabels, numClusters, recluster, microBs, log,
    stopRequested: () => interrupts.stopRequested,
    onPhase: (phase) => interrupts.setPhase(phase, true),
    progress,
    checkpointMeta,
  });
  let untrained: Awaited<ReturnType<typeof untrainedFigures>>;
  try {
    untrained = await untrainedFigures(() => trainer.evaluate(), resumeCk?.state, checkpointMeta, log);
    for (let epoch = startEpoch; epoch < cfg.nEpochs; epoch++) {
      const out = await trainer.runEpoch(epoch, partial?.epoch === epoch ? partial : undefined);
      interrupts.setSaved(out.stoppedAt ? `epoch ${epoch + 1} up to iteration ${out.stoppedAt.iters} of ${out.stoppedAt.total}` : `epoch ${epoch + 1} complete`);
      if (out.stoppedAt) {
        throw new UserError(`interrupted during epoch ${epoch + 1} at iteration ${out.stoppedAt.iters} of ${out.stoppedAt.total}; saved in last/. ${interrupts.resumeHint()}`, 130);
      }
      if (interrupts.stopRequested && epoch + 1 < cfg.nEpochs) {
        throw new UserError(`stopped after epoch ${epoch + 1} of ${cfg.nEpochs} (saved in last/). ${interrupts.resumeHint()}`, 130);
      }
    }
  } finally {
    disposeTrainingParts(parts);
    model.dispose();
  }
  const failures = decodeFailures();
  if (failures.length > 0) {
    const stats = loaderStats();
    writeUndecodableList(runDir, failures);
    const note =
      `${failures.length} image file(s) could not be decoded (listed in ${UNDECODABLE_LIST}): ${stats.replaced} training slot(s) took another image of the same class instead, ` +
      `${trainer.evalLeftOut.size} evaluation image(s) were left out of the metrics\n`;
    fs.appendFileSync(path.join(runDir, 'Curr_Summary_Class.txt'), `----- data:\n${note}`);
    log(`warning: ${note.trim()}`);
  }
  const gain = improvementLine(untrained, reporter.history());
  if (gain) log(gain);
  const chosen = [...new Set(testItems.map((it) => it.set))].map((set, g, sets) => ({
    column: `${valItems.length > 0 ? VAL_PREFIX : ''}${sets.includes(undefined) ? '' : `Set ${g} `}Recall @ 1`,
    folder: bestCheckpointName(sets.includes(undefined) ? undefined : g + 1),
  }));
  for (const line of runSummaryLines({ runDir, val: reporter.history().val, chosen, seconds: (performance.now() - started) / 1000 })) log(line);
}
