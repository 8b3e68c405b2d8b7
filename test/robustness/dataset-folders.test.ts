/**
 * Issue 14, item 2 (and the folder half of item 5): dataset folders as Python sees them. Symlinked class
 * folders count as classes (they were silently dropped, shifting the train/test split), link loops are
 * skipped, two names for one folder are refused, and names that are not valid UTF-8 get one line naming the
 * folder instead of a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadManifest, manifestCounts } from '../../src/data/datasets/index.ts';
import { listImagesRecursive } from '../../src/data/datasets/layout.ts';
import { setDataWarningSink } from '../../src/data/warnings.ts';
import { UserError } from '../../src/errors.ts';
import { assertUserError, runCli, folderDataset } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const CLASSES = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'];

function load(root: string) {
  return loadManifest({ dataset: 'folder', sourcePath: root, splitMode: 'half' });
}

/** Warnings emitted while `fn` runs. */
async function warnings<T>(fn: () => Promise<T>): Promise<{ value: T; warned: string[] }> {
  const warned: string[] = [];
  const prev = setDataWarningSink((m) => warned.push(m));
  try {
    return { value: await fn(), warned };
  } finally {
    setDataWarningSink(prev);
  }
}

test('a symlinked class folder is a class: 6 folders, one a link, split 3 train / 3 test', async () => {
  const dir = tempDir();
  const root = folderDataset(
    path.join(dir, 'root'),
    CLASSES.filter((c) => c !== 'a2'),
    4,
  );
  const elsewhere = folderDataset(path.join(dir, 'elsewhere'), ['real_a2'], 4);
  fs.symlinkSync(path.join(elsewhere, 'real_a2'), path.join(root, 'a2'));
  const m = await load(root);
  const counts = manifestCounts(m);
  assert.deepEqual([counts.train?.classes, counts.test?.classes], [3, 3]);
  assert.deepEqual(m.classNames.train, ['a1', 'a2', 'a3']);
  assert.equal(m.items.filter((it) => it.path.includes(`${path.sep}a2${path.sep}`)).length, 4);
});

test('every class folder a symlink: still all six classes', async () => {
  const dir = tempDir();
  const real = folderDataset(path.join(dir, 'real'), CLASSES, 3);
  const root = path.join(dir, 'links');
  fs.mkdirSync(root);
  for (const c of CLASSES) fs.symlinkSync(path.join(real, c), path.join(root, c));
  const m = await load(root);
  assert.deepEqual([...m.classNames.train, ...m.classNames.test], CLASSES);
  assert.equal(m.items.length, 18);
});

test('a link to an enclosing folder (a loop) is skipped with a warning; two links to one folder are refused', async () => {
  const dir = tempDir();
  const root = folderDataset(path.join(dir, 'root'), CLASSES, 3);
  fs.symlinkSync('..', path.join(root, 'zz_loop'));
  fs.symlinkSync('.', path.join(root, 'zz_self'));
  const { value: m, warned } = await warnings(() => load(root));
  assert.deepEqual([...m.classNames.train, ...m.classNames.test], CLASSES);
  assert.equal(warned.filter((w) => /a loop\); skipped/.test(w)).length, 2, warned.join('\n'));
  fs.symlinkSync(path.join(root, 'b3'), path.join(root, 'b4'));
  await assert.rejects(load(root), (e: unknown) => e instanceof UserError && /class folders '.*b3' and '.*b4' are the same folder/.test(e.message));
});

test('embed --images follows linked folders once: a loop ends, each image listed once', () => {
  const dir = tempDir();
  const root = folderDataset(path.join(dir, 'imgs'), ['x', 'y'], 2);
  fs.symlinkSync(root, path.join(root, 'x', 'back'));
  fs.symlinkSync(path.join(root, 'y'), path.join(root, 'y_again'));
  const other = folderDataset(path.join(dir, 'other'), ['z'], 2);
  fs.symlinkSync(path.join(other, 'z'), path.join(root, 'z'));
  const listed = listImagesRecursive(root, '--images');
  assert.equal(listed.length, 6, listed.join('\n'));
  assert.equal(listed.filter((p) => p.includes(`${path.sep}z${path.sep}`)).length, 2);
});

test('a class folder whose name is not UTF-8: one line naming the folder, exit 2 (was a stack trace)', () => {
  const dir = tempDir();
  const root = folderDataset(path.join(dir, 'root'), CLASSES, 3);
  const bad = Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9])]); // latin-1 "café"
  fs.mkdirSync(bad);
  fs.copyFileSync(path.join(root, 'a1', fs.readdirSync(path.join(root, 'a1'))[0]), Buffer.concat([bad, Buffer.from('/x.png')]));
  const r = runCli(['--dataset', 'folder', '--source_path', root, '--save_path', dir, '--backend', 'cpu', '--not_pretrained'], { timeoutMs: 60_000 });
  assertUserError(r, /folder '.*root' holds a folder whose name is not valid UTF-8 \('caf\uFFFD', bytes 636166e9\).*rename it/);
});

test('an image file whose name is not UTF-8 is refused naming its folder; other odd names are ignored', async () => {
  const dir = tempDir();
  const root = folderDataset(path.join(dir, 'root'), CLASSES, 3);
  fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/a1/notes-`), Buffer.from([0xff]), Buffer.from('.txt')]), 'not an image');
  assert.equal((await load(root)).items.length, 18);
  fs.copyFileSync(
    path.join(root, 'a1', fs.readdirSync(path.join(root, 'a1')).sort()[0]),
    Buffer.concat([Buffer.from(`${root}/a1/`), Buffer.from([0xff]), Buffer.from('.png')]),
  );
  await assert.rejects(
    load(root),
    (e: unknown) => e instanceof UserError && /folder '.*a1' holds a file whose name is not valid UTF-8/.test(e.message),
  );
});
