import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadCub200 } from '../../../src/data/datasets/cub200.ts';
import { manifestCounts } from '../../../src/data/check-manifest.ts';
import { UserError } from '../../../src/errors.ts';
import { setDataWarningSink } from '../../../src/data/warnings.ts';
import { makeCub } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('cub200: numeric-prefix order, first half train, labels per split, junk files ignored', async () => {
  const parent = tempDir();
  try {
    const root = await makeCub(parent);
    const m = loadCub200(root);
    // Numeric order 1, 2, 3, 10 (string order would be 1, 10, 2, 3).
    assert.deepEqual(m.classNames.train, ['1.Zebra', '2.Apple']);
    assert.deepEqual(m.classNames.test, ['3.Kiwi', '10.Mango']);
    // Class i has i % 3 + 2 images: 1 → 3, 2 → 4, 3 → 2, 10 → 3; the ._ file and notes.txt are not images.
    assert.deepEqual(manifestCounts(m), { train: { images: 7, classes: 2 }, test: { images: 5, classes: 2 } });
    const apple = m.items.filter((it) => it.path.includes(`${path.sep}2.Apple${path.sep}`));
    assert.equal(apple.length, 4);
    assert.ok(apple.every((it) => it.split === 'train' && it.label === 1));
    assert.ok(m.items.filter((it) => it.path.includes('10.Mango')).every((it) => it.split === 'test' && it.label === 1));
    assert.ok(m.items.every((it) => path.isAbsolute(it.path) && it.role === undefined));
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('cub200: missing images folder is a UserError naming the path and the layout', () => {
  const parent = tempDir();
  try {
    assert.throws(
      () => loadCub200(path.join(parent, 'cub200')),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /cub200[/\\]images' not found/);
        assert.match(e.message, /<NNN\.ClassName>/);
        assert.match(e.message, /--source_path/);
        return true;
      },
    );
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('cub200: a folder without numeric prefix, or too few classes, is a UserError', async () => {
  const parent = tempDir();
  const prev = setDataWarningSink(() => undefined);
  try {
    const root = await makeCub(parent);
    fs.mkdirSync(path.join(root, 'images', 'Unnumbered'));
    assert.throws(() => loadCub200(root), /no numeric prefix/);
    fs.rmSync(path.join(root, 'images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'images', '1.Empty'), { recursive: true });
    fs.mkdirSync(path.join(root, 'images', '2.Empty'));
    assert.throws(
      () => loadCub200(root),
      (e: unknown) => e instanceof UserError && /0 training class/.test(e.message),
    );
  } finally {
    setDataWarningSink(prev);
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
