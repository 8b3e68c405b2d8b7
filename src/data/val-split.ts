/**
 * `--val-split` (a mic-train addition, docs/porting.md#val-split): hold out a fraction of the *training classes* as a
 * class-disjoint validation split that chooses the checkpoint instead of the test set.
 */
import { UserError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { checkManifest } from './check-manifest.ts';
import type { Manifest } from './manifest.ts';

/**
 * Move round(fraction · C_train) randomly chosen training classes to split 'val'. Both the remaining
 * training classes and the validation classes are re-labelled 0..C-1 keeping their previous relative
 * order; `classNames.val` is filled. fraction 0 returns the manifest unchanged. The class choice is the
 * only draw from `rng` (k indices without replacement), so it is reproducible from the seed.
 * Throws a `UserError` if either side would get fewer than 2 classes.
 */
export function applyValSplit(manifest: Manifest, fraction: number, rng: Rng): Manifest {
  if (!(fraction > 0)) return manifest;
  if (!(fraction < 1)) throw new UserError(`--val-split: expected a fraction in [0, 1), got ${fraction}`);
  if (manifest.items.some((it) => it.split === 'val')) {
    throw new UserError(`--val-split: --dataset ${manifest.dataset} already has a validation split`);
  }
  const nClasses = manifest.classNames.train.length;
  const nVal = Math.round(fraction * nClasses);
  if (nVal < 2 || nClasses - nVal < 2) {
    throw new UserError(`--val-split ${fraction}: moves ${nVal} of ${nClasses} training classes to validation; both sides need at least 2 classes`);
  }
  const isVal = new Uint8Array(nClasses);
  for (const c of rng.sampleWithoutReplacement(nClasses, nVal)) isVal[c] = 1;
  const newLabel = new Int32Array(nClasses);
  const trainNames: string[] = [];
  const valNames: string[] = [];
  for (let c = 0; c < nClasses; c++) {
    const names = isVal[c] ? valNames : trainNames;
    newLabel[c] = names.length;
    names.push(manifest.classNames.train[c]);
  }
  const items = manifest.items.map((it) =>
    it.split === 'train' ? { ...it, split: isVal[it.label] ? ('val' as const) : ('train' as const), label: newLabel[it.label] } : it,
  );
  return checkManifest({ ...manifest, classNames: { ...manifest.classNames, train: trainNames, val: valNames }, items }, { checkFiles: false });
}
