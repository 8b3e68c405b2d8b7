/**
 * `--resume DIR`: the checks made before any work (same configuration, a `last/` to continue from, the same
 * dataset) and the words used for where the run continues. The run folder's hypa.json was read once, by
 * `resolveRun` (`SavedRunConfig`); `last/` is read by `run-state.ts`.
 */
import path from 'node:path';
import type { RunConfig } from '../cli/config.ts';
import { resumeConflicts, type SavedRunConfig } from '../cli/parse.ts';
import { storedFingerprint, type DataFingerprint } from '../data/fingerprint.ts';
import { UserError } from '../errors.ts';
import { loadLastCheckpoint, type LastCheckpoint, type RunProgress } from './run-state.ts';

/** A run folder to continue, checked and read. */
export interface ResumePoint {
  /** The run folder, absolute. */
  runDir: string;
  saved: SavedRunConfig;
  last: LastCheckpoint;
}

/** `cfg.resume`'s run, when its configuration is the run's and it has a `last/` checkpoint; UserError otherwise. */
export function openResume(cfg: RunConfig, saved: SavedRunConfig): ResumePoint {
  const dir = cfg.resume!;
  const conflicts = resumeConflicts(saved.config, cfg);
  if (conflicts.length) throw new UserError(`--resume ${dir}: the run was made with a different configuration: ${conflicts.join('; ')}`);
  const last = loadLastCheckpoint(dir);
  if (!last) throw new UserError(`--resume ${dir}: no last/ checkpoint yet (the run stopped before its first epoch ended); start it again instead`);
  return { runDir: path.resolve(dir), saved, last };
}

/**
 * `--resume` must continue on the dataset the run was made with: the file list (and sizes) recorded in its
 * hypa.json must match what `--source_path` points at now.
 */
export function checkSameDataset(cfg: RunConfig, saved: SavedRunConfig, now: DataFingerprint, log: (line: string) => void): void {
  const then = storedFingerprint(saved.facts);
  if (then === undefined) {
    log(
      `warning: ${saved.file} records no dataset fingerprint (a run of an older mic-train): cannot check that the dataset is the one the run was made with`,
    );
    return;
  }
  if (then.sha256 !== now.sha256) {
    const counts =
      then.images === now.images
        ? `both have ${now.images} images, but other files, labels or sizes`
        : `${then.images} images then, ${now.images} now`;
    throw new UserError(
      `--resume ${cfg.resume}: the dataset is not the one the run was made with (${counts}); point --source_path at the run's dataset`,
    );
  }
}

/** What a `last/` checkpoint holds, in the words interrupt messages use (epochs 1-based). */
export function savedDescription(st: Pick<RunProgress, 'epoch' | 'partial'>): string {
  return st.partial ? `epoch ${st.partial.epoch + 1} up to iteration ${st.partial.iters}` : `epoch ${st.epoch + 1} complete`;
}

/** "resuming DIR at iteration 5 of epoch 3 (2/4 epochs done)". */
export function resumingLine(point: ResumePoint, nEpochs: number): string {
  const { epoch, partial } = point.last.state;
  const where = partial ? `at iteration ${partial.iters} of epoch ${partial.epoch + 1}` : `after epoch ${epoch + 1}`;
  return `resuming ${point.runDir} ${where} (${epoch + 1}/${nEpochs} epochs done)`;
}
