/**
 * Dataset registry: `loadManifest(cfg)` turns `--dataset` (+ `--source_path`, `--split-mode`) into the
 * one `Manifest` format. Each dataset lives in its own file and ends with `checkManifest()`.
 */
import path from 'node:path';
import type { RunConfig } from '../../cli/config.ts';
import { UserError } from '../../errors.ts';
import type { Manifest } from '../manifest.ts';
import { loadCars196 } from './cars196.ts';
import { loadCub200 } from './cub200.ts';
import { loadFolder } from './folder.ts';
import { loadInShop } from './in-shop.ts';
import { loadOnlineProducts } from './online-products.ts';
import { loadSample } from './sample.ts';
import { loadVehicleId } from './vehicle-id.ts';

export { applyValSplit } from '../val-split.ts';
export { checkManifest, labelsOf, manifestCounts, splitItems } from '../check-manifest.ts';

type DatasetLoader = (root: string, cfg: Pick<RunConfig, 'splitMode'>) => Manifest;

/** `--dataset` key → loader taking the dataset root (`<source_path>/<dataset>`). */
export const DATASET_LOADERS: Readonly<Record<string, DatasetLoader>> = {
  cub200: (root) => loadCub200(root),
  cars196: (root) => loadCars196(root),
  online_products: (root) => loadOnlineProducts(root),
  'in-shop': (root) => loadInShop(root),
  vehicle_id: (root) => loadVehicleId(root),
  folder: (root, cfg) => loadFolder(root, cfg.splitMode),
  sample: () => loadSample(),
};

/**
 * The dataset root for a run: `<source_path>/<dataset>` (resolved against the working directory);
 * `folder` uses `<source_path>` itself; `sample` ignores it.
 */
export function datasetRoot(cfg: Pick<RunConfig, 'dataset' | 'sourcePath'>): string {
  const parent = path.resolve(cfg.sourcePath);
  return cfg.dataset === 'folder' ? parent : path.join(parent, cfg.dataset);
}

/** Read the manifest of `cfg.dataset`. Layout problems are `UserError`s naming the path and the expected layout. */
export async function loadManifest(cfg: Pick<RunConfig, 'dataset' | 'sourcePath' | 'splitMode'>): Promise<Manifest> {
  const load = DATASET_LOADERS[cfg.dataset];
  if (!load) {
    throw new UserError(`--dataset: unknown dataset '${cfg.dataset}'; expected one of ${Object.keys(DATASET_LOADERS).join(', ')}`);
  }
  return load(datasetRoot(cfg), cfg);
}
