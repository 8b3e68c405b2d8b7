/**
 * Putting a dataset folder in place, for `download` and `prepare`: everything is written into a staging folder
 * beside the target (`<source_path>/.<name>.partial-<pid>`), checked with the dataset's own loader — the same
 * manifest check a training run starts with — and only then renamed to `<source_path>/<name>` in one step, so a
 * failure or an interruption never leaves a half-made dataset where training would look. A marker file records
 * what was installed (origin, file count, bytes), so a later call can verify the folder without the archive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { pidAlive } from '../../io/checkpoint.ts';
import { manifestCounts } from '../check-manifest.ts';
import { DATASETS, type DatasetName } from '../datasets/index.ts';
import type { Manifest } from '../manifest.ts';

/** Written into every folder mic-train installs. */
export const MARKER = '.mic-train-dataset.json';

export interface InstallRecord {
  dataset: string;
  /** Where the files came from (archive name and sha256, or the input folder). */
  origin: Record<string, unknown>;
  files: number;
  bytes: number;
}

/** Files and bytes under `root`, the marker excluded. */
export function countFiles(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (dir !== root || e.name !== MARKER) {
        files += 1;
        bytes += fs.lstatSync(p).size;
      }
    }
  };
  walk(root);
  return { files, bytes };
}

/** "5864 train images / 100 classes, 5924 test images / 100 classes" */
export function describeManifest(m: Manifest): string {
  return Object.entries(manifestCounts(m))
    .map(([split, c]) => `${c.images} ${split} images / ${c.classes} classes`)
    .join(', ');
}

/** Runs the dataset's loader on `root` (throws the loader's UserError when the layout is wrong). */
export function checkLayout(name: string, root: string): Manifest {
  if (!Object.hasOwn(DATASETS, name)) throw new UserError(`unknown dataset '${name}'`);
  return DATASETS[name as DatasetName].load(root, { splitMode: 'half' });
}

/**
 * The state of `<sourcePath>/<name>`: null when absent; otherwise verified — the loader's check passes and, for
 * a folder mic-train installed, its file count and bytes still match the marker — and described in one line.
 * A folder that fails the check is a UserError that leaves it untouched.
 */
export function verifyInstalled(name: string, sourcePath: string): string | null {
  const root = path.resolve(sourcePath, name);
  if (!fs.existsSync(root)) return null;
  const keep = `it was left untouched; move it away and run again to replace it`;
  let m: Manifest;
  try {
    m = checkLayout(name, root);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError(`${root} exists but is not a complete ${name} dataset (${e.message}); ${keep}`);
  }
  const markerFile = path.join(root, MARKER);
  if (!fs.existsSync(markerFile)) return `${root} is in place (${describeManifest(m)}; arranged by hand, not by mic-train)`;
  const rec = JSON.parse(fs.readFileSync(markerFile, 'utf8')) as InstallRecord;
  const now = countFiles(root);
  if (now.files !== rec.files || now.bytes !== rec.bytes) {
    throw new UserError(
      `${root} differs from what was installed (${rec.files} files / ${rec.bytes} bytes then, ${now.files} / ${now.bytes} now); ${keep}`,
    );
  }
  return `${root} is in place and verified (${describeManifest(m)}; ${now.files} files as installed)`;
}

/**
 * Builds the dataset in a staging folder with `fill`, checks it, writes the marker and renames it into place.
 * The staging folder is removed on any failure; staging folders of dead earlier attempts are removed first.
 */
export async function installDataset(
  name: string,
  sourcePath: string,
  origin: Record<string, unknown>,
  fill: (staging: string) => Promise<void>,
  log: (line: string) => void = () => {},
): Promise<{ root: string; manifest: Manifest }> {
  const parent = path.resolve(sourcePath);
  const root = path.join(parent, name);
  if (fs.existsSync(root)) throw new UserError(`${root} already exists; move it away to install ${name} again`);
  fs.mkdirSync(parent, { recursive: true });
  const prefix = `.${name}.partial-`;
  for (const e of fs.readdirSync(parent)) {
    const pid = Number(e.slice(prefix.length));
    if (e.startsWith(prefix) && Number.isInteger(pid) && !pidAlive(pid)) fs.rmSync(path.join(parent, e), { recursive: true, force: true });
  }
  const staging = path.join(parent, `${prefix}${process.pid}`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging);
  try {
    await fill(staging);
    let manifest: Manifest;
    try {
      manifest = checkLayout(name, staging);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(`${name}: the result does not pass the dataset's layout check, so nothing was installed (${e.message})`);
    }
    const counts = countFiles(staging);
    const record: InstallRecord = { dataset: name, origin, ...counts };
    fs.writeFileSync(path.join(staging, MARKER), JSON.stringify(record, null, 2) + '\n');
    fs.renameSync(staging, root);
    log(`${name}: installed in ${root} (${describeManifest(manifest)}; ${counts.files} files)`);
    return { root, manifest };
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Puts `src` at `dst`: a hard link when both are on one file system (no copy of gigabytes of images), else a
 * copy. The input folder is never modified.
 */
export function placeFile(src: string, dst: string): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  try {
    fs.linkSync(src, dst);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw e;
    fs.copyFileSync(src, dst);
  }
}
