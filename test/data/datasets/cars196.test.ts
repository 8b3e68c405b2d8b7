import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadCars196 } from '../../../src/data/datasets/cars196.ts';
import { manifestCounts } from '../../../src/data/check-manifest.ts';
import { pythonStringCompare } from '../../../src/data/datasets/layout.ts';
import { makeCars } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('cars196: class folders in Python string order (case-sensitive), halves, labels per split', async () => {
  const parent = tempDir();
  try {
    const m = loadCars196(await makeCars(parent));
    assert.deepEqual(m.classNames.train, ['Audi A4 2010', 'BMW M3 2012']);
    assert.deepEqual(m.classNames.test, ['Bentley Arnage 2009', 'acura TL 2012']);
    // Fixture class i (creation order acura, Bentley, BMW, Audi) has 2 + i images.
    assert.deepEqual(manifestCounts(m), { train: { images: 5 + 4, classes: 2 }, test: { images: 3 + 2, classes: 2 } });
    const bmw = m.items.filter((it) => it.path.includes('BMW M3 2012'));
    assert.ok(bmw.length === 4 && bmw.every((it) => it.split === 'train' && it.label === 1));
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('pythonStringCompare orders by code point like Python sorted()', () => {
  // Python: sorted(['b', 'B', 'a', 'é', '😀', '\uffff', 'A1', 'A']) == ['A', 'A1', 'B', 'a', 'b', 'é', '\uffff', '😀']
  const got = ['b', 'B', 'a', 'é', '😀', '\uffff', 'A1', 'A'].sort(pythonStringCompare);
  assert.deepEqual(got, ['A', 'A1', 'B', 'a', 'b', 'é', '\uffff', '😀']);
  // JavaScript's default sort puts the astral '😀' (surrogates 0xD83D…) before '\uffff'.
  assert.deepEqual(['\uffff', '😀'].sort(), ['😀', '\uffff']);
});
