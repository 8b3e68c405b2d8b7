import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadSample, SAMPLE_ROOT } from '../../../src/data/datasets/sample.ts';
import { manifestCounts } from '../../../src/data/check-manifest.ts';

test('sample: the committed dataset has 10 + 10 classes of 50 images, both halves mixing both sources', () => {
  const m = loadSample();
  assert.equal(m.dataset, 'sample');
  assert.deepEqual(manifestCounts(m), { train: { images: 500, classes: 10 }, test: { images: 500, classes: 10 } });
  for (const split of ['train', 'test'] as const) {
    const names = m.classNames[split];
    assert.ok(names.some((n) => n.includes('Digit')) && names.some((n) => !n.includes('Digit')), `${split} mixes sources`);
  }
  assert.equal(m.classNames.train[0], '001.Tshirt_top');
  assert.equal(m.classNames.test[9], '020.Digit_nine');
});

test('sample: stays under the 1 MB budget and documents its sources', () => {
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else bytes += fs.statSync(p).size;
    }
  };
  walk(SAMPLE_ROOT);
  assert.ok(bytes <= 1_000_000, `sample is ${bytes} bytes`);
  const readme = fs.readFileSync(path.join(SAMPLE_ROOT, 'README.md'), 'utf8');
  assert.match(readme, /Fashion-MNIST/);
  assert.match(readme, /MIT/);
  assert.match(readme, /BSD-3/);
  assert.match(readme, /scripts\/make-sample-dataset\.py/);
});
