/**
 * Checks of a training run that need no work, made before the backend starts: where results go (a writable
 * folder on a real file system), that a `--pretrained` file is a regular file within the size cap with a
 * sound header, and
 * notes on settings that cannot take effect as given (more threads than cores, micro-batches larger than
 * the batch).
 */
import os from 'node:os';
import type { RunConfig } from '../cli/config.ts';
import { FLAG_BY_NAME } from '../cli/flags.ts';
import { checkPretrainedFile } from '../io/weights.ts';
import { checkSavePath } from '../report/run-folder.ts';

export function preflight(cfg: RunConfig, log: (line: string) => void, cores = os.availableParallelism()): void {
  checkSavePath(cfg.savePath);
  if (cfg.pretrained !== undefined && cfg.resume === undefined) checkPretrainedFile(cfg.pretrained, cfg.pretrainedFormat);
  for (const line of settingNotes(cfg, cores)) log(line);
}

/** Warnings for settings above what this machine or this run can use (one line each). */
export function settingNotes(cfg: Pick<RunConfig, 'threads' | 'kernels' | 'microBs' | 'bs' | 'backend'>, cores: number): string[] {
  const out: string[] = [];
  if (cfg.threads > cores && (cfg.backend === 'wasm' || cfg.backend === 'auto')) {
    out.push(
      `warning: --threads ${cfg.threads} is more than the ${cores} cores here: the extra threads only compete for them and slow training down; use at most ${cores} (0 = automatic)`,
    );
  }
  // The default (8, the original's) is quietly capped; a value typed by the user is answered.
  if (cfg.kernels > cores && cfg.kernels !== FLAG_BY_NAME.get('kernels')!.default) {
    out.push(`warning: --kernels ${cfg.kernels} is more than the ${cores} cores here: ${cores} image decoding threads are used`);
  }
  if (cfg.microBs > cfg.bs) out.push(`note: --micro-bs ${cfg.microBs} is larger than --bs ${cfg.bs}: whole batches of ${cfg.bs} are used`);
  return out;
}
