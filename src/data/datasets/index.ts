/**
 * Dataset registry: `loadManifest(cfg)` turns `--dataset` (+ `--source_path`, `--split-mode`) into the
 * one `Manifest` format. Each dataset lives in its own file and ends with `checkManifest()`. `DATASETS` is the
 * single source of the `--dataset` values and their Recall@k defaults: the flag's choices, the `RunConfig` type
 * and the README flags table derive from it (the loaders read files only, so the CLI loads them cheaply).
 */
import path from 'node:path';
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

/** Recall@k values of a dataset that does not name its own (the CUB and CARS protocol). */
export const DEFAULT_RECALL_K: readonly number[] = [1, 2, 4, 8];

export interface DatasetEntry {
  /** Reads the dataset root (`<source_path>/<dataset>`); `splitMode` is `--split-mode`. */
  load(root: string, o: { splitMode: 'half' | 'file' }): Manifest;
  /** Recall@k values when `--k_vals` is empty (docs/porting.md#evaluation); default `DEFAULT_RECALL_K`. */
  recallK?: readonly number[];
}

/** `--dataset` key → its loader and evaluation defaults. */
export const DATASETS = {
  cub200: { load: (root) => loadCub200(root) },
  cars196: { load: (root) => loadCars196(root) },
  online_products: { load: (root) => loadOnlineProducts(root), recallK: [1, 10, 100, 1000] },
  'in-shop': { load: (root) => loadInShop(root), recallK: [1, 10, 20, 30, 50] },
  vehicle_id: { load: (root) => loadVehicleId(root), recallK: [1, 5] },
  folder: { load: (root, o) => loadFolder(root, o.splitMode) },
  sample: { load: () => loadSample() },
} satisfies Record<string, DatasetEntry>;

export type DatasetName = keyof typeof DATASETS;

/** The registry entry of `--dataset <name>`, or a UserError listing the valid names. */
export function datasetEntry(name: string): DatasetEntry {
  if (!Object.hasOwn(DATASETS, name)) {
    throw new UserError(`--dataset: unknown dataset '${name}'; expected one of ${Object.keys(DATASETS).join(', ')}`);
  }
  return DATASETS[name as DatasetName];
}

/** Recall@k values of `--dataset <name>` when `--k_vals` is empty. */
export function defaultRecallK(name: string): number[] {
  return [...(datasetEntry(name).recallK ?? DEFAULT_RECALL_K)];
}

/**
 * The dataset root for a run: `<source_path>/<dataset>` (resolved against the working directory);
 * `folder` uses `<source_path>` itself; `sample` ignores it.
 */
export function datasetRoot(cfg: { dataset: string; sourcePath: string }): string {
  const parent = path.resolve(cfg.sourcePath);
  return cfg.dataset === 'folder' ? parent : path.join(parent, cfg.dataset);
}

/** Read the manifest of `cfg.dataset`. Layout problems are `UserError`s naming the path and the expected layout. */
export async function loadManifest(cfg: { dataset: string; sourcePath: string; splitMode: 'half' | 'file' }): Promise<Manifest> {
  return datasetEntry(cfg.dataset).load(datasetRoot(cfg), cfg);
}
