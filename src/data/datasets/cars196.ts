// Port of: datasets.py give_CARS196_datasets (docs/porting.md#dataset-cars196)
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { imagesIn } from './cub200.ts';
import { halfSplit, labelSplit, listSubdirs, pythonStringCompare, requireDir, type LayoutDescription } from './layout.ts';

export const CARS_LAYOUT: LayoutDescription = { dataset: 'cars196', layout: 'images/<Make Model Year>/<image>.jpg' };

/**
 * CARS196: `<root>/images/<Make Model Year>/<file>`. Class folders sorted as Python sorts strings
 * (by code point, case-sensitive: 'BMW' < 'Bentley'); first half (98) train, second half (98) test.
 */
export function loadCars196(root: string): Manifest {
  return loadSortedClassTree(root, path.join(root, 'images'), CARS_LAYOUT);
}

/** Shared by CARS196 and `folder --split-mode half`: class folders in Python string order, halves. */
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
