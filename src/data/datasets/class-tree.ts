/**
 * Readers of `<imagesDir>/<class>/<image>` trees shared by several loaders: the CUB rule (class folders ordered
 * by their numeric prefix `NNN.`; cub200, sample) and the CARS rule (class folders in Python string order;
 * cars196, `folder --split-mode half`). Both take the first half of the classes for training. Loaders import
 * these (and `layout.ts`), never each other.
 */
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { dataWarn } from '../warnings.ts';
import { halfSplit, labelSplit, listImages, listSubdirs, pythonStringCompare, requireDir, type LayoutDescription } from './layout.ts';

/**
 * `<root>/images/<NNN.Name>/<file>`: class folders ordered by their numeric prefix NNN; the first half are the
 * training classes, the rest the test classes; labels 0..C-1 per split in that order.
 */
export function loadNumberedClassTree(root: string, layout: LayoutDescription): Manifest {
  const imagesDir = path.join(root, 'images');
  requireDir(imagesDir, root, layout);
  const folders = listSubdirs(imagesDir).map((name) => {
    const m = /^(\d+)\./.exec(name);
    if (!m) {
      throw new UserError(
        `--dataset ${layout.dataset}: class folder '${path.join(imagesDir, name)}' has no numeric prefix; expected ${layout.layout}`,
      );
    }
    return { name, order: Number(m[1]) };
  });
  folders.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (folders.length === 0) {
    throw new UserError(`--dataset ${layout.dataset}: no class folders in '${imagesDir}'; expected ${path.join(root, layout.layout)}`);
  }
  const halves = halfSplit(folders.map((f) => f.name));
  const items: ManifestItem[] = [];
  const classNames = { train: [] as string[], test: [] as string[] };
  for (const split of ['train', 'test'] as const) {
    const entries = halves[split].flatMap((cls, rank) =>
      imagesIn(imagesDir, cls, layout).map((file) => ({ path: path.join(imagesDir, cls, file), key: rank })),
    );
    const s = labelSplit(
      entries,
      split,
      (a, b) => a - b,
      (rank) => halves[split][rank],
    );
    items.push(...s.items);
    classNames[split] = s.classNames;
  }
  return checkManifest({ dataset: layout.dataset, root, classNames, items });
}

/** `<imagesDir>/<class>/<file>`: class folders in Python string order, first half train, second half test. */
export function loadSortedClassTree(root: string, imagesDir: string, layout: LayoutDescription): Manifest {
  requireDir(imagesDir, root, layout);
  const classes = listSubdirs(imagesDir).sort(pythonStringCompare);
  if (classes.length === 0) {
    throw new UserError(`--dataset ${layout.dataset}: no class folders in '${imagesDir}'; expected ${path.join(root, layout.layout)}`);
  }
  const halves = halfSplit(classes);
  const items: ManifestItem[] = [];
  const classNames = { train: [] as string[], test: [] as string[] };
  for (const split of ['train', 'test'] as const) {
    const entries = halves[split].flatMap((cls) =>
      imagesIn(imagesDir, cls, layout).map((file) => ({ path: path.join(imagesDir, cls, file), key: cls })),
    );
    const s = labelSplit(entries, split, pythonStringCompare);
    items.push(...s.items);
    classNames[split] = s.classNames;
  }
  return checkManifest({ dataset: layout.dataset, root, classNames, items });
}

/** Image files of one class folder; an empty folder is dropped with a warning. */
export function imagesIn(imagesDir: string, cls: string, layout: LayoutDescription): string[] {
  const files = listImages(path.join(imagesDir, cls));
  if (files.length === 0) dataWarn(`--dataset ${layout.dataset}: class folder '${path.join(imagesDir, cls)}' holds no images; class skipped`);
  return files;
}
