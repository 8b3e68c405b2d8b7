import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DATASETS, datasetRoot, loadManifest } from '../../../src/data/datasets/index.ts';
import { UserError } from '../../../src/errors.ts';
import { makeCars, makeCub, makeInShop, makeSop, makeVehicleId } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

const cfg = (dataset: string, sourcePath: string) => ({ dataset, sourcePath, splitMode: 'half' as const });

test('loadManifest dispatches every --dataset key; root = <source_path>/<dataset> (folder: source_path)', async () => {
  const parent = tempDir();
  try {
    await Promise.all([makeCub(parent), makeCars(parent), makeSop(parent), makeInShop(parent), makeVehicleId(parent)]);
    for (const key of ['cub200', 'cars196', 'online_products', 'in-shop', 'vehicle_id']) {
      const m = await loadManifest(cfg(key, parent));
      assert.equal(m.dataset, key);
      assert.equal(m.root, path.join(parent, key));
    }
    const folderRoot = path.join(parent, 'cub200', 'images');
    const f = await loadManifest(cfg('folder', folderRoot));
    assert.equal(f.root, folderRoot);
    assert.deepEqual(f.classNames.train, ['1.Zebra', '10.Mango']); // string order, not numeric
    const s = await loadManifest(cfg('sample', '/nonexistent'));
    assert.equal(s.classNames.train.length, 10);
    assert.deepEqual(Object.keys(DATASETS).sort(), ['cars196', 'cub200', 'folder', 'in-shop', 'online_products', 'sample', 'vehicle_id']);
    assert.equal(datasetRoot(cfg('cub200', 'rel/dir')), path.resolve('rel/dir', 'cub200'));
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('loadManifest: unknown dataset and missing dataset folder are UserErrors', async () => {
  await assert.rejects(loadManifest(cfg('mnist', '.')), (e: unknown) => e instanceof UserError && /unknown dataset 'mnist'.*cub200/.test(e.message));
  await assert.rejects(
    loadManifest(cfg('cars196', '/no/such/dir')),
    (e: unknown) => e instanceof UserError && e.message.includes("'/no/such/dir/cars196/images' not found") && /<Make Model Year>/.test(e.message),
  );
});
