import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadOnlineProducts } from '../../../src/data/datasets/online-products.ts';
import { manifestCounts } from '../../../src/data/check-manifest.ts';
import { UserError } from '../../../src/errors.ts';
import { makeSop } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('online_products: Ebay_train/test.txt, labels = rank of class_id per split', async () => {
  const parent = tempDir();
  try {
    const root = await makeSop(parent);
    const m = loadOnlineProducts(root);
    assert.deepEqual(m.classNames.train, ['class_3', 'class_7', 'class_12']);
    assert.deepEqual(m.classNames.test, ['class_15', 'class_20']);
    assert.deepEqual(manifestCounts(m), { train: { images: 6, classes: 3 }, test: { images: 4, classes: 2 } });
    const byFile = new Map(m.items.map((it) => [path.relative(path.join(root, 'images'), it.path), it]));
    assert.equal(byFile.get(path.join('bicycle_final', '111_0.JPG'))?.label, 1); // class 7
    assert.equal(byFile.get(path.join('chair_final', '222_0.JPG'))?.label, 0); // class 3
    assert.equal(byFile.get(path.join('chair_final', '333_2.JPG'))?.label, 2); // class 12
    assert.equal(byFile.get(path.join('lamp_final', '444_0.JPG'))?.label, 1); // class 20
    assert.equal(byFile.get(path.join('bicycle_final', '555_1.JPG'))?.split, 'test');
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('online_products: missing index file or listed image is a UserError naming it', async () => {
  const parent = tempDir();
  try {
    const root = await makeSop(parent);
    fs.rmSync(path.join(root, 'images', 'lamp_final', '444_1.JPG'));
    assert.throws(
      () => loadOnlineProducts(root),
      (e: unknown) => e instanceof UserError && /1 of 10 listed image files do not exist/.test(e.message) && e.message.includes('444_1.JPG'),
    );
    fs.rmSync(path.join(root, 'Info_Files', 'Ebay_test.txt'));
    assert.throws(
      () => loadOnlineProducts(root),
      (e: unknown) => e instanceof UserError && e.message.includes(path.join('Info_Files', 'Ebay_test.txt')) && /image_id class_id/.test(e.message),
    );
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
