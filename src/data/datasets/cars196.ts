// Port of: datasets.py give_CARS196_datasets (docs/porting.md#dataset-cars196)
import path from 'node:path';
import type { Manifest } from '../manifest.ts';
import { loadSortedClassTree } from './class-tree.ts';
import type { LayoutDescription } from './layout.ts';

export const CARS_LAYOUT: LayoutDescription = { dataset: 'cars196', layout: 'images/<Make Model Year>/<image>.jpg' };

/**
 * CARS196: `<root>/images/<Make Model Year>/<file>`. Class folders sorted as Python sorts strings
 * (by code point, case-sensitive: 'BMW' < 'Bentley'); first half (98) train, second half (98) test.
 */
export function loadCars196(root: string): Manifest {
  return loadSortedClassTree(root, path.join(root, 'images'), CARS_LAYOUT);
}
