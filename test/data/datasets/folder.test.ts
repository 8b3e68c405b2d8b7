import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadFolder } from '../../../src/data/datasets/folder.ts';
import { UserError } from '../../../src/errors.ts';
import { setDataWarningSink } from '../../../src/data/warnings.ts';
import { makeFolder } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('folder --split-mode half: Python string order, first half train', async () => {
  const root = tempDir();
  try {
    const m = loadFolder(await makeFolder(root), 'half');
    assert.deepEqual(m.classNames, { train: ['Dog', 'bird'], test: ['cat', 'eel'] });
    assert.equal(m.items.length, 8);
    assert.equal(m.root, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('folder --split-mode file: split.txt decides; unlisted folders warned and ignored; unknown class is a UserError', async () => {
  const root = tempDir();
  const warnings: string[] = [];
  const prev = setDataWarningSink((w) => warnings.push(w));
  try {
    await makeFolder(root);
    const m = loadFolder(root, 'file');
    assert.deepEqual(m.classNames, { train: ['cat', 'eel'], test: ['Dog', 'bird'] });
    assert.ok(m.items.filter((it) => it.path.includes(`${path.sep}eel${path.sep}`)).every((it) => it.split === 'train' && it.label === 1));

    fs.mkdirSync(path.join(root, 'fox'));
    loadFolder(root, 'file');
    assert.ok(warnings.some((w) => /1 class folder\(s\) not listed/.test(w) && w.includes("'fox'")));

    fs.appendFileSync(path.join(root, 'split.txt'), 'zebra test\n');
    assert.throws(
      () => loadFolder(root, 'file'),
      (e: unknown) => e instanceof UserError && /line 6: class folder '.*zebra' not found/.test(e.message),
    );
    fs.rmSync(path.join(root, 'split.txt'));
    assert.throws(
      () => loadFolder(root, 'file'),
      (e: unknown) => e instanceof UserError && /split\.txt' not found/.test(e.message) && /<class> train\|test/.test(e.message),
    );
  } finally {
    setDataWarningSink(prev);
    fs.rmSync(root, { recursive: true, force: true });
  }
});
