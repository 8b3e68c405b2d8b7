/**
 * `mic-train prepare cars196 --from DIR`: the classic Stanford Cars release — `car_ims.tgz` (or an unpacked
 * `car_ims/` folder) with all 16,185 images, and `cars_annos.mat` (a MATLAB struct array `annotations` with
 * `relative_im_path` and `class` per image, and the cell array `class_names`), read by our own MAT-file reader
 * (src/io/mat-v5.ts). Each image goes to `images/<NNN>.<class name>/<file>`: NNN is the 1-based class index,
 * zero-padded, so the loader's sorted folder order is the official class order and its first half is exactly
 * the standard training classes 1–98; a '/' in a name (e.g. "Ram C/V Cargo Van Minivan 2012") becomes '-'.
 * The `test` field (the classification split) is not used: metric learning splits by class.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { extractArchive } from '../../io/archive.ts';
import { matScalar, matString, readMatV5, type MatValue } from '../../io/mat-v5.ts';
import { installDataset, placeFile } from './install.ts';
import { findIn, requireFromDir, type PrepareOptions } from './inputs.ts';

export interface CarsAnnotations {
  /** Class folder names, index = class - 1. */
  classFolders: string[];
  /** `car_ims/<file>` → `images/<folder>/<file>`. */
  targets: Map<string, string>;
}

/** Folder name of class `index` (1-based): `NNN.<name>`, with characters a folder name cannot hold replaced by '-'. */
export function carsClassFolder(index: number, name: string): string {
  return `${String(index).padStart(3, '0')}.${name.trim().replace(/[/\\\0]/g, '-')}`;
}

/** Reads cars_annos.mat into the image → folder assignment. */
export function readCarsAnnotations(file: string): CarsAnnotations {
  const vars = readMatV5(file);
  const ann = vars.get('annotations');
  const names = vars.get('class_names');
  if (ann?.kind !== 'struct' || !['relative_im_path', 'class'].every((f) => ann.fields.includes(f))) {
    throw new UserError(
      `${file}: no struct array 'annotations' with fields relative_im_path and class; expected cars_annos.mat of the classic Stanford Cars release`,
    );
  }
  if (names?.kind !== 'cell')
    throw new UserError(`${file}: no cell array 'class_names'; expected cars_annos.mat of the classic Stanford Cars release`);
  const classFolders = names.cells.map((c: MatValue, i) => carsClassFolder(i + 1, matString(c, `${file}: class_names{${i + 1}}`)));
  if (new Set(classFolders).size !== classFolders.length) throw new UserError(`${file}: class names are not unique`);
  const targets = new Map<string, string>();
  ann.elements.forEach((e, i) => {
    const where = `${file}: annotations(${i + 1})`;
    const rel = matString(e.relative_im_path, `${where}.relative_im_path`);
    const cls = matScalar(e.class, `${where}.class`);
    const base = path.posix.basename(rel);
    if (!/^car_ims\/[^/\\]+$/.test(rel) || base === '.' || base === '..')
      throw new UserError(`${where}: unexpected image path '${rel}' (expected car_ims/<file>)`);
    if (!Number.isInteger(cls) || cls < 1 || cls > classFolders.length)
      throw new UserError(`${where}: class ${cls} outside 1..${classFolders.length}`);
    targets.set(rel, `images/${classFolders[cls - 1]}/${base}`);
  });
  return { classFolders, targets };
}

export async function prepareCars196(from: string, o: PrepareOptions): Promise<string> {
  const dir = requireFromDir(from);
  const annosFile = findIn(dir, ['cars_annos.mat'], 'file');
  if (!annosFile) throw new UserError(`--from ${from}: cars_annos.mat not found (the labels and class names of the classic Stanford Cars release)`);
  const archive = findIn(dir, ['car_ims.tgz', 'car_ims.tar.gz', 'car_ims.tar'], 'file');
  const folder = archive ? null : findIn(dir, ['car_ims'], 'dir');
  if (!archive && !folder)
    throw new UserError(`--from ${from}: neither car_ims.tgz nor a car_ims/ folder found (the 16,185 images of the classic Stanford Cars release)`);
  const { classFolders, targets } = readCarsAnnotations(annosFile);
  o.log?.(`cars196: ${targets.size} images of ${classFolders.length} classes in ${path.basename(annosFile)}`);
  const source = archive ?? folder!;
  const { root } = await installDataset(
    'cars196',
    o.sourcePath,
    { from: source, annotations: annosFile },
    async (staging) => {
      if (archive) {
        await extractArchive(archive, { dest: staging, map: (m) => targets.get(m) ?? null, progress: o.progress ?? {} });
      } else {
        for (const [rel, out] of targets) {
          const src = path.join(dir, rel);
          if (fs.existsSync(src)) placeFile(src, path.join(staging, out));
        }
      }
      const missing = [...targets].filter(([, out]) => !fs.existsSync(path.join(staging, out)));
      if (missing.length > 0) {
        throw new UserError(`${source}: ${missing.length} of the ${targets.size} images listed in cars_annos.mat are missing, e.g. ${missing[0][0]}`);
      }
    },
    o.log,
  );
  return root;
}
