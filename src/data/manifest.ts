/**
 * The one dataset format. Every loader in `src/data/datasets/` returns a `Manifest`; nothing downstream
 * (samplers, loader, trainer, evaluator, reports) knows which dataset it came from.
 */
export type Split = 'train' | 'val' | 'test';
export type Role = 'query' | 'gallery';

export interface ManifestItem {
  /** Absolute path of the image file. */
  path: string;
  /** Class index, contiguous 0..C-1 *within its split* (train labels and test labels are separate spaces). */
  label: number;
  split: Split;
  /** Evaluation role for query→gallery protocols (In-Shop). Absent = both (all-vs-all). */
  role?: Role;
  /** Test-set number for datasets with several test sets (VehicleID small/medium/large = 1/2/3). */
  set?: 1 | 2 | 3;
}

export interface Manifest {
  /** Dataset key as given to --dataset (for folder names and reports only). */
  dataset: string;
  /** Root folder the paths were read from. */
  root: string;
  /** Class names per split, indexed by label. */
  classNames: { train: string[]; test: string[]; val?: string[] };
  items: ManifestItem[];
}
