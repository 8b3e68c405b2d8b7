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

/** statfs magic numbers of Linux pseudo file systems, where results cannot be kept (and mkdir may hang: /proc). */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0x42494e4d, 'binfmt_misc'],
  [0xf97cff8c, 'selinuxfs'],
  [0x19800202, 'mqueue'],
  [0x50495045, 'pipefs'],
]);

/** Where statfs is missing (other systems), these prefixes stand for the same thing. */
const PSEUDO_PREFIXES = ['/proc', '/sys', '/dev/pts'];

/** The nearest existing ancestor of an absolute path (the path itself when it exists). */
function nearestExisting(p: string): string {
  let cur = p;
  for (;;) {
    try {
      fs.statSync(cur);
      return cur;
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

/**
 * Checks `--save_path` before any work: not on a pseudo file system (/proc, /sys …: a recursive mkdir there
 * never returns), and the nearest existing folder on the way is a folder we may write into. Quick: no file
 * is created.
 */
export function checkSavePath(savePath: string): void {
  const abs = path.resolve(savePath);
  const existing = nearestExisting(abs);
  let fsName: string | undefined;
  try {
    fsName = PSEUDO_FILE_SYSTEMS.get(fs.statfsSync(existing).type);
  } catch {
    const prefix = PSEUDO_PREFIXES.find((p) => abs === p || abs.startsWith(`${p}/`));
    fsName = prefix ? path.basename(prefix) : undefined;
  }
  if (fsName) {
    throw new UserError(`--save_path: '${abs}' is on the ${fsName} pseudo file system, where nothing can be saved; choose a folder on a disk`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(existing);
  } catch (e) {
    throw new UserError(`--save_path: cannot use '${abs}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isDirectory()) throw new UserError(`--save_path: '${existing}' is a file, not a folder (on the way to '${abs}')`);
  try {
    fs.accessSync(existing, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    throw new UserError(`--save_path: cannot write into '${existing}' (permission denied${existing === abs ? '' : `; needed to create '${abs}'`})`);
  }
}

/**
 * Create and return the run folder (absolute path). `date` defaults to now. Throws UserError naming
 * `--save_path` when the parent cannot be created or written.
 */
export function createRunFolder(opts: RunFolderOptions, date: Date = new Date()): string {
  if (/[\\/]/.test(opts.savename) || opts.savename === '.' || opts.savename === '..') {
    throw new UserError(`--savename: expected a plain folder name (no '/' or '\\'), got '${opts.savename}'`);
  }
  checkSavePath(opts.savePath);
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
