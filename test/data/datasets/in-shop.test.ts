import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadInShop } from '../../../src/data/datasets/in-shop.ts';
import { manifestCounts } from '../../../src/data/check-manifest.ts';
import { makeInShop } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('in-shop: count + header lines skipped, first data row kept, query/gallery roles share one mapping', async () => {
  const parent = tempDir();
  try {
    const m = loadInShop(await makeInShop(parent));
    // 4 train rows including the first data row (02_1_front.jpg), which the original dropped.
    assert.deepEqual(manifestCounts(m), { train: { images: 4, classes: 3 }, test: { images: 5, classes: 2 } });
    assert.ok(m.items.some((it) => it.path.endsWith('02_1_front.jpg') && it.split === 'train' && it.label === 0));
    assert.deepEqual(m.classNames.train, ['id_00000002', 'id_00000004', 'id_00000009']);
    assert.deepEqual(m.classNames.test, ['id_00000017', 'id_00000031']);
    const test = m.items.filter((it) => it.split === 'test');
    assert.deepEqual(
      test.map((it) => [it.label, it.role]),
      [
        [1, 'query'],
        [1, 'gallery'],
        [1, 'gallery'],
        [0, 'gallery'],
        [0, 'query'],
      ],
    );
    assert.ok(m.items.filter((it) => it.split === 'train').every((it) => it.role === undefined));
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('in-shop: a query item without gallery images is a UserError', async () => {
  const parent = tempDir();
  try {
    const root = await makeInShop(parent);
    const file = `${root}/Eval/list_eval_partition.txt`;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/id_00000017 gallery/, 'id_00000017 query'));
    assert.throws(() => loadInShop(root), /1 query class\(es\) have no gallery images, e\.g\. 'id_00000017'/);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
