/**
 * The embedded demo dataset (`--dataset sample`, a mic-train addition): 20 classes of Fashion-MNIST and
 * scikit-learn digits committed under `Datasets/sample/` in the CUB layout (see its README). Located
 * relative to this file, so it works from any working directory and ignores `--source_path`.
 */
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../manifest.ts';
import { loadNumberedClassTree } from './class-tree.ts';

/** Absolute path of the committed `Datasets/sample` folder. */
export const SAMPLE_ROOT = fileURLToPath(new URL('../../../Datasets/sample', import.meta.url));

/** 10 train classes (001–010) and 10 test classes (011–020), 50 PNGs each. */
export function loadSample(): Manifest {
  return loadNumberedClassTree(SAMPLE_ROOT, { dataset: 'sample', layout: 'images/<NNN.ClassName>/<image>.png' });
}
