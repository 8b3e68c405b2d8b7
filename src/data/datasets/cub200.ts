// Port of: datasets.py give_CUB200_datasets (docs/porting.md#dataset-cub200)
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { dataWarn } from '../warnings.ts';
import { halfSplit, labelSplit, listImages, listSubdirs, requireDir, type LayoutDescription } from './layout.ts';

export const CUB_LAYOUT: LayoutDescription = { dataset: 'cub200', layout: 'images/<NNN.ClassName>/<image>.jpg' };

/**
 * CUB200-2011: `<root>/images/<NNN.Name>/<file>`. Class folders are ordered by their numeric prefix NNN;
 * the first half (100 of 200) are the training classes, the rest the test classes; labels 0..C-1 per
 * split in that order. Also reads any CUB-shaped tree (the embedded sample uses it).
 */
export function loadCub200(root: string, layout: LayoutDescription = CUB_LAYOUT): Manifest {
  const imagesDir = path.join(root, 'images');
  requireDir(imagesDir, root, layout);
  const folders = listSubdirs(imagesDir).map((name) => {
    const m = /^(\d+)\./.exec(name);
    if (!m) {
      throw new UserError(`--dataset ${layout.dataset}: class folder '${path.join(imagesDir, name)}' has no numeric prefix; expected ${layout.layout}`);
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
    const s = labelSplit(entries, split, (a, b) => a - b, (rank) => halves[split][rank]);
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
