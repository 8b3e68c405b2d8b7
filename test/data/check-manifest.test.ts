import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkManifest, labelsOf, manifestCounts, splitItems } from '../../src/data/check-manifest.ts';
import type { Manifest, ManifestItem } from '../../src/data/manifest.ts';
import { InternalError, UserError } from '../../src/errors.ts';

const item = (label: number, split: ManifestItem['split'], extra: Partial<ManifestItem> = {}): ManifestItem => ({
  path: `/x/${split}/${label}`,
  label,
  split,
  ...extra,
});

function manifest(items: ManifestItem[], train = ['a', 'b'], test = ['c', 'd']): Manifest {
  return { dataset: 'toy', root: '/x', classNames: { train, test }, items };
}

test('checkManifest accepts a valid manifest and returns it; counts and helpers', () => {
  const m = manifest([item(0, 'train'), item(1, 'train'), item(1, 'train'), item(0, 'test'), item(1, 'test')]);
  assert.equal(checkManifest(m, { checkFiles: false }), m);
  assert.deepEqual(manifestCounts(m), { train: { images: 3, classes: 2 }, test: { images: 2, classes: 2 } });
  assert.deepEqual(labelsOf(splitItems(m, 'train')), Int32Array.from([0, 1, 1]));
});

test('checkManifest: loader bugs (gaps in labels, roles on train rows) are internal errors', () => {
  const gap = manifest([item(0, 'train'), item(2, 'train'), item(0, 'test')], ['a', 'b', 'c'], ['c']);
  assert.throws(
    () => checkManifest(gap, { checkFiles: false }),
    (e: unknown) => e instanceof InternalError && /class 1 \('b'\) has no images/.test(e.message),
  );
  const role = manifest([item(0, 'train', { role: 'query' }), item(1, 'train'), item(0, 'test')], ['a', 'b'], ['c']);
  assert.throws(() => checkManifest(role, { checkFiles: false }), InternalError);
});

test('checkManifest: user problems are UserErrors (one class, no test images, query class absent from gallery per set, missing files)', () => {
  assert.throws(
    () => checkManifest(manifest([item(0, 'train'), item(0, 'test')], ['a'], ['c']), { checkFiles: false }),
    (e: unknown) => e instanceof UserError && /found 1 training class/.test(e.message),
  );
  assert.throws(
    () => checkManifest(manifest([item(0, 'train'), item(1, 'train')], ['a', 'b'], []), { checkFiles: false }),
    (e: unknown) => e instanceof UserError && /no test images/.test(e.message),
  );
  const qg = (g: number) =>
    manifest([
      item(0, 'train'),
      item(1, 'train'),
      item(0, 'test', { role: 'query', set: 1 }),
      item(g, 'test', { role: 'gallery', set: 1 }),
      item(1, 'test', { role: 'gallery', set: 2 }),
      item(0, 'test', { role: 'gallery', set: 2 }),
    ]);
  assert.doesNotThrow(() => checkManifest(qg(0), { checkFiles: false }));
  assert.throws(
    () => checkManifest(qg(1), { checkFiles: false }),
    (e: unknown) => e instanceof UserError && /in test set 1, e\.g\. 'c'/.test(e.message),
  );
  const m = manifest([item(0, 'train'), item(1, 'train'), item(0, 'test')], ['a', 'b'], ['c']);
  assert.throws(
    () => checkManifest(m),
    (e: unknown) => e instanceof UserError && /3 of 3 listed image files do not exist, e\.g\. '\/x\/train\/0'/.test(e.message),
  );
});
