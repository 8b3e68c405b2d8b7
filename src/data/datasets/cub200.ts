// Port of: datasets.py give_CUB200_datasets (docs/porting.md#dataset-cub200)
import type { Manifest } from '../manifest.ts';
import { loadNumberedClassTree } from './class-tree.ts';
import type { LayoutDescription } from './layout.ts';

export const CUB_LAYOUT: LayoutDescription = { dataset: 'cub200', layout: 'images/<NNN.ClassName>/<image>.jpg' };

/**
 * CUB200-2011: `<root>/images/<NNN.Name>/<file>`. Class folders are ordered by their numeric prefix NNN;
 * the first half (100 of 200) are the training classes, the rest the test classes; labels 0..C-1 per
 * split in that order.
 */
export function loadCub200(root: string): Manifest {
  return loadNumberedClassTree(root, CUB_LAYOUT);
}
