// Port of: main.py top level, dataset and network set-up (docs/porting.md#startup)
/**
 * The start-up phases of a run, before its folder exists: the dataset (split, counted, every image decoded
 * once), and the network on its backend (with ImageNet weights unless resuming). Each says what it is doing to
 * the interrupt handler, so a Ctrl-C names the phase.
 */
import type { RunConfig } from '../cli/config.ts';
import { selectBackend, type BackendReport } from '../backend/select.ts';
import { applyValSplit, loadManifest, manifestCounts, splitItems } from '../data/datasets/index.ts';
import { datasetFingerprint, type DataFingerprint } from '../data/fingerprint.ts';
import { findUndecodable, judgeUndecodable } from '../data/image-check.ts';
import { IMAGENET_RGB } from '../data/image-convention.ts';
import type { Manifest, ManifestItem } from '../data/manifest.ts';
import { metricColumns } from '../eval/evaluate.ts';
import { withInterruptSignal } from '../io/download.ts';
import { offlineByEnv } from '../io/sources.ts';
import { buildModel } from '../models/build-model.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import { resolvePretrainedWeights } from '../models/fetch-weights.ts';
import { UserError } from '../errors.ts';
import { rngFor } from '../rng.ts';
import type { RunInterrupts } from './interrupts.ts';
import { PhaseProgress } from './phase-progress.ts';
import type { ProgressOptions } from '../progress.ts';
import { checkSameDataset, type ResumePoint } from './resume.ts';
import { hasSharedTask } from './setup.ts';
import { VAL_PREFIX } from './trainer.ts';

/** What start-up tells every phase: where to log, where to show progress, whom to tell the phase. */
export interface StartupContext {
  cfg: RunConfig;
  /** Set when continuing a run (`--resume`). */
  resume: ResumePoint | null;
  interrupts: RunInterrupts;
  progress: ProgressOptions;
  log: (line: string) => void;
}

/** The dataset of a run, split. */
export interface RunData {
  fingerprint: DataFingerprint;
  trainItems: ManifestItem[];
  testItems: ManifestItem[];
  valItems: ManifestItem[];
}

/** Read, check (same dataset on resume, enough images, every image decodable) and split the dataset. */
export async function readDataset(s: StartupContext): Promise<RunData> {
  const { cfg, log } = s;
  s.interrupts.setPhase('start-up (reading the dataset)', false);
  let manifest = await loadManifest(cfg);
  const fingerprint = datasetFingerprint(manifest);
  if (s.resume) checkSameDataset(cfg, s.resume.saved, fingerprint, log);
  if (cfg.valSplit > 0) manifest = applyValSplit(manifest, cfg.valSplit, rngFor(cfg.seed, 'valsplit'));
  const data: RunData = {
    fingerprint,
    trainItems: splitItems(manifest, 'train'),
    testItems: splitItems(manifest, 'test'),
    valItems: splitItems(manifest, 'val'),
  };
  const { trainItems, testItems, valItems } = data;
  const counts = manifestCounts(manifest);
  log(
    `dataset ${cfg.dataset}: ${trainItems.length} train images / ${counts.train?.classes ?? 0} classes, ` +
      `${testItems.length} test images / ${counts.test?.classes ?? 0} classes` +
      (valItems.length ? `, ${valItems.length} validation images / ${counts.val?.classes ?? 0} classes` : ''),
  );
  if (trainItems.length < cfg.bs) {
    throw new UserError(`--bs ${cfg.bs}: the training split has only ${trainItems.length} images; use a smaller --bs`);
  }
  await checkImages(s, manifest);
  if (hasSharedTask(cfg) && !s.resume && cfg.sharedNumClasses > trainItems.length) {
    log(
      `note: --shared_num_classes ${cfg.sharedNumClasses} is more than the ${trainItems.length} training images: at most ${trainItems.length} clusters are made`,
    );
  }
  return data;
}

/**
 * Decodes every image once before the run starts (see image-check.ts): stops with the list when a class has
 * no decodable image or too many cannot be decoded; otherwise names each bad file once.
 */
async function checkImages({ cfg, interrupts, progress, log }: StartupContext, manifest: Manifest): Promise<void> {
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

/** The backend and the network on it. On resume every weight comes from the checkpoint: ImageNet weights are not read. */
export async function prepareNetwork({ cfg, resume, interrupts, log }: StartupContext): Promise<{ backend: BackendReport; model: EmbeddingNet }> {
  interrupts.setPhase('start-up (pretrained weights)', false);
  const notPretrained = cfg.notPretrained || resume !== null;
  const pretrained = await withInterruptSignal((signal) =>
    resolvePretrainedWeights({
      arch: cfg.arch,
      format: cfg.pretrainedFormat,
      notPretrained,
      pretrained: cfg.pretrained,
      offline: cfg.offline || offlineByEnv(),
      log,
      signal,
    }),
  );

  interrupts.setPhase('start-up (backend)', false);
  const backend = await selectBackend(cfg.backend, { gpu: cfg.gpu, threads: cfg.threads, log });
  // A GPU run that silently trains on the CPU would take weeks: say so where nobody can miss it.
  if (backend.gpuWarning) log(`\n*** WARNING: ${backend.gpuWarning} ***\n`);

  interrupts.setPhase('start-up (building the network)', false);
  const model = await buildModel({
    arch: cfg.arch,
    embedSizes: cfg.embedSizes,
    notPretrained,
    pretrained: resume ? undefined : pretrained,
    pretrainedFormat: cfg.pretrainedFormat,
    rng: rngFor(cfg.seed, 'init'),
    log,
  });
  return { backend, model };
}

/** Metric columns of log_val_Class.csv: per VehicleID-style set a `Set g ` prefix; validation columns last. */
export function columnsFor(cfg: RunConfig, { testItems, valItems }: RunData): string[] {
  const sets = [...new Set(testItems.map((it) => it.set))];
  const cols = sets.includes(undefined) ? metricColumns(cfg.kVals) : sets.flatMap((_, g) => metricColumns(cfg.kVals, `Set ${g} `));
  if (valItems.length > 0) cols.push(...metricColumns(cfg.kVals, VAL_PREFIX));
  return cols;
}
