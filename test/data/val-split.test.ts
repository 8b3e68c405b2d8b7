import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { applyValSplit } from '../../src/data/val-split.ts';
import { loadFolder } from '../../src/data/datasets/folder.ts';
import { Rng } from '../../src/rng.ts';
import { UserError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

test('applyValSplit: moves whole training classes to val, re-indexes both sides, reproducible', async () => {
  const root = tempDir();
  try {
    for (let c = 0; c < 10; c++)
      for (let k = 0; k < 3; k++) {
        fs.mkdirSync(path.join(root, `c${c}`), { recursive: true });
        fs.writeFileSync(path.join(root, `c${c}`, `${k}.jpg`), 'x');
      }
    const m = loadFolder(root, 'half');
    const nTrain = m.classNames.train.length;
    const v = applyValSplit(m, 0.3, new Rng(5, 'valsplit'));
    const nVal = Math.round(0.3 * nTrain);
    assert.equal(v.classNames.val?.length, nVal);
    assert.equal(v.classNames.train.length, nTrain - nVal);
    assert.deepEqual([...v.classNames.train, ...v.classNames.val!].sort(), [...m.classNames.train].sort());
    // Class-disjoint; every item keeps its class name; test untouched.
    for (let i = 0; i < m.items.length; i++) {
      const before = m.items[i];
      const after = v.items[i];
      if (before.split === 'test') assert.deepEqual(after, before);
      else assert.equal(v.classNames[after.split as 'train' | 'val']![after.label], m.classNames.train[before.label]);
    }
    // Order of the remaining classes is kept.
    const trainOrder = v.classNames.train.map((n) => m.classNames.train.indexOf(n));
    assert.deepEqual(
      trainOrder,
      [...trainOrder].sort((a, b) => a - b),
    );
    assert.deepEqual(applyValSplit(m, 0.3, new Rng(5, 'valsplit')), v);
    assert.equal(applyValSplit(m, 0, new Rng(5, 'valsplit')), m);
    assert.throws(
      () => applyValSplit(m, 0.01, new Rng(1)),
      (e: unknown) => e instanceof UserError && /--val-split 0.01/.test(e.message),
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
