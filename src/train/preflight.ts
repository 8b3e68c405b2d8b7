/**
 * Checks of a training run that need no work, made before the backend starts: where results go (a writable
 * folder on a real file system) and that a `--pretrained` file is a regular file within the size cap.
 */
import type { RunConfig } from '../cli/config.ts';
import { checkUserFile } from '../io/safe-read.ts';
import { checkSavePath } from '../report/run-folder.ts';

export function preflight(cfg: RunConfig): void {
  checkSavePath(cfg.savePath);
  if (cfg.pretrained !== undefined && cfg.resume === undefined) {
    checkUserFile(cfg.pretrained, cfg.pretrainedFormat === 'keras' ? 'config' : 'weights', '--pretrained');
  }
}
