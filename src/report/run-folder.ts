// Port of: auxiliaries.py `set_logging` (run-folder naming) (docs/porting.md#run-folder)
/**
 * Run folder: `<save_path>/<dataset>/<savename>`. An empty savename becomes
 * `<DATASET>_<ARCH>_<Y>-<M>-<D>-<h>-<m>-<s>` (local time, no zero padding, e.g.
 * `CUB200_RESNET50_2019-8-3-20-0-32`). If the folder exists, `_1`, `_2`, … is appended to the name.
 *
 * Porting note: the original appends the suffix to an empty savename (yielding `<dataset>/_1`); we always
 * append it to the resolved name. The folder is claimed with a non-recursive mkdir, so two runs started
 * in the same second cannot share a folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

export interface RunFolderOptions {
  /** `--save_path` (dataset name not yet appended). */
  savePath: string;
  dataset: string;
  arch: string;
  /** `--savename`; '' for a time-stamped name. */
  savename: string;
}

/** `<DATASET>_<ARCH>_<Y>-<M>-<D>-<h>-<m>-<s>` for `date` in local time, no zero padding. */
export function timestampedName(dataset: string, arch: string, date: Date): string {
  const stamp = [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  return `${dataset.toUpperCase()}_${arch.toUpperCase()}_${stamp.join('-')}`;
}

/** The base name of the run folder before any `_n` suffix. */
export function runFolderName(opts: RunFolderOptions, date: Date): string {
  return opts.savename !== '' ? opts.savename : timestampedName(opts.dataset, opts.arch, date);
}

/**
 * Create and return the run folder (absolute path). `date` defaults to now. Throws UserError naming
 * `--save_path` when the parent cannot be created or written.
 */
export function createRunFolder(opts: RunFolderOptions, date: Date = new Date()): string {
  if (/[\\/]/.test(opts.savename) || opts.savename === '.' || opts.savename === '..') {
    throw new UserError(`--savename: expected a plain folder name (no '/' or '\\'), got '${opts.savename}'`);
  }
  const parent = path.resolve(opts.savePath, opts.dataset);
  try {
    fs.mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new UserError(`--save_path: cannot create '${parent}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const base = runFolderName(opts, date);
  for (let n = 0; ; n++) {
    const dir = path.join(parent, n === 0 ? base : `${base}_${n}`);
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new UserError(`--save_path: cannot create run folder '${dir}' (${code ?? (e as Error).message})`);
    }
  }
}
