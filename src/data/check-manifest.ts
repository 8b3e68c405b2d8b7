/**
 * The one checker every dataset loader ends with (and `applyValSplit` re-runs). Loader bugs (labels not
 * contiguous, roles on training rows) are internal errors; problems with the user's files (missing
 * images, a query class absent from the gallery, too few classes) are `UserError`s naming the dataset.
 */
import fs from 'node:fs';
import { assert, UserError } from '../errors.ts';
import type { Manifest, ManifestItem, Split } from './manifest.ts';

export interface CheckManifestOptions {
  /** Stat every image path (default true). Off only for synthetic manifests in tests. */
  checkFiles?: boolean;
}

/** Number of images and classes per split, for logs and the run summary. */
export interface SplitCounts {
  images: number;
  classes: number;
}

/** Image and class counts of each split present in the manifest. */
export function manifestCounts(m: Manifest): Partial<Record<Split, SplitCounts>> {
  const out: Partial<Record<Split, SplitCounts>> = {};
  for (const split of ['train', 'val', 'test'] as const) {
    const items = m.items.filter((it) => it.split === split);
    if (items.length === 0) continue;
    out[split] = { images: items.length, classes: new Set(items.map((it) => it.label)).size };
  }
  return out;
}

/** The items of one split, in manifest order. */
export function splitItems(m: Manifest, split: Split): ManifestItem[] {
  return m.items.filter((it) => it.split === split);
}

/** Labels of `items` as the Int32Array the samplers take. */
export function labelsOf(items: ManifestItem[]): Int32Array {
  return Int32Array.from(items, (it) => it.label);
}

/**
 * Validate a manifest; returns it unchanged so loaders can `return checkManifest(m)`.
 * Checks: labels are integers, contiguous 0..C-1 per split and match `classNames`; `role` and `set`
 * only on test rows; within each test set (or the whole test split) with roles, every query class
 * has gallery images; at least 2 training classes and at least one test image; every file exists.
 */
export function checkManifest(m: Manifest, opts: CheckManifestOptions = {}): Manifest {
  const where = `--dataset ${m.dataset} (${m.root})`;
  for (const split of ['train', 'val', 'test'] as const) {
    const names = m.classNames[split];
    const items = m.items.filter((it) => it.split === split);
    if (names === undefined) {
      assert(items.length === 0, `${where}: split '${split}' has items but no class names`);
      continue;
    }
    const used = new Uint8Array(names.length);
    for (const it of items) {
      assert(
        Number.isInteger(it.label) && it.label >= 0 && it.label < names.length,
        () => `${where}: label ${it.label} of '${it.path}' outside 0..${names.length - 1} (${split})`,
      );
      used[it.label] = 1;
    }
    const unused = used.indexOf(0);
    assert(unused < 0, () => `${where}: ${split} class ${unused} ('${names[unused]}') has no images; labels must be contiguous`);
  }
  for (const it of m.items) {
    assert(
      it.split === 'test' || (it.role === undefined && it.set === undefined),
      () => `${where}: role/set given on a ${it.split} row ('${it.path}')`,
    );
  }
  checkQueryGallery(m, where);

  const trainClasses = m.classNames.train.length;
  if (trainClasses < 2) {
    throw new UserError(`${where}: found ${trainClasses} training class(es) with images; metric learning needs at least 2`);
  }
  if (!m.items.some((it) => it.split === 'test')) {
    throw new UserError(`${where}: found no test images; the test split is needed for evaluation`);
  }
  if (opts.checkFiles ?? true) checkFilesExist(m, where);
  return m;
}

function checkQueryGallery(m: Manifest, where: string): void {
  const bySet = new Map<number, { query: Set<number>; gallery: Set<number>; hasRoles: boolean }>();
  for (const it of m.items) {
    if (it.split !== 'test') continue;
    const key = it.set ?? 0;
    let g = bySet.get(key);
    if (!g) bySet.set(key, (g = { query: new Set(), gallery: new Set(), hasRoles: false }));
    if (it.role !== undefined) g.hasRoles = true;
    if (it.role !== 'gallery') g.query.add(it.label);
    if (it.role !== 'query') g.gallery.add(it.label);
  }
  for (const [set, g] of bySet) {
    if (!g.hasRoles) continue;
    const missing = [...g.query].filter((label) => !g.gallery.has(label));
    if (missing.length > 0) {
      const name = m.classNames.test[missing[0]];
      throw new UserError(`${where}: ${missing.length} query class(es) have no gallery images${set ? ` in test set ${set}` : ''}, e.g. '${name}'`);
    }
  }
}

function checkFilesExist(m: Manifest, where: string): void {
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const it of m.items) {
    if (seen.has(it.path)) continue;
    seen.add(it.path);
    if (!fs.existsSync(it.path)) missing.push(it.path);
  }
  if (missing.length > 0) {
    throw new UserError(`${where}: ${missing.length} of ${seen.size} listed image files do not exist, e.g. '${missing[0]}'`);
  }
}
