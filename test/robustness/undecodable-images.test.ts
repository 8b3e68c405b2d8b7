/**
 * Issue 14, item 3: undecodable images never become silent garbage. A class whose images all failed trained
 * on black images; undecodable test images stayed in Recall/NMI as zero images; the summary called
 * clustering slots evaluation slots. Now every image is decoded once before training: a class left with no
 * decodable image, or more than --max-bad-images of a split, stops the run with the list; fewer are left out
 * (of training batches, the clustering and the metrics) and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { resetLoaderStats } from '../../src/data/loader.ts';
import { setDataWarningSink } from '../../src/data/warnings.ts';
import { initialSurrogateLabels } from '../../src/mic/clustering.ts';
import type { EmbeddingModel } from '../../src/models/types.ts';
import { rngFor } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { assertUserError, folderDataset, readCsv, runCli, SAMPLE } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const BASE = [...'--not_pretrained --backend wasm --input-size 32 --bs 8 --n_epochs 1 --task_p 1 0 --adv_weights 0 --kernels 1 --seed 4'.split(' ')];

/** 3 train + 3 test classes of 8 images each (different sample classes, so Recall is not trivial). */
function dataset(root: string): string {
  const sources = ['001.Tshirt_top', '002.Trouser', '006.Digit_zero', '011.Sandal', '016.Digit_five', '017.Digit_six'];
  ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].forEach((c, i) => folderDataset(root, [c], 8, sources[i]));
  return root;
}

test('a training class whose every image is undecodable stops the run before training, with the list', () => {
  const dir = tempDir();
  const root = dataset(path.join(dir, 'ds'));
  for (const f of fs.readdirSync(path.join(root, 'a2'))) fs.writeFileSync(path.join(root, 'a2', f), 'not an image');
  const r = runCli(['--dataset', 'folder', '--source_path', root, '--save_path', path.join(dir, 'out'), ...BASE, '--max-bad-images', '1']);
  assertUserError(r, /1 class\(es\) have no image that can be decoded: 'a2' \(train, 8 files\); fix or remove their files: '.*a2.*'/);
  assert.equal(r.stderr.split('\n').filter((l) => /^warning: cannot decode image '.*a2/.test(l)).length, 8, 'each file listed');
  assert.doesNotMatch(r.stderr, /backend:|epoch 1/, 'stopped before the backend and any training');
  assert.ok(!fs.existsSync(path.join(dir, 'out')), 'no run folder');
});

test('more undecodable images than --max-bad-images (default 5 %) stops the run; the list is given', () => {
  const dir = tempDir();
  const root = dataset(path.join(dir, 'ds'));
  fs.writeFileSync(path.join(root, 'a1', 'broken.png'), '');
  fs.writeFileSync(path.join(root, 'a3', 'text.png'), 'hello');
  const r = runCli(['--dataset', 'folder', '--source_path', root, '--save_path', path.join(dir, 'out'), ...BASE]);
  assertUserError(
    r,
    /too many images cannot be decoded, more than --max-bad-images 0\.05 of a split: 2 of 26 train images \(7\.7 %\): '.*broken\.png' \(empty file\), '.*text\.png' \(.*\); fix or remove them \(or raise --max-bad-images\)/,
  );
});

test('undecodable test images are left out of the metrics: the same numbers as without those files', () => {
  const dir = tempDir();
  const clean = dataset(path.join(dir, 'clean'));
  const dirty = dataset(path.join(dir, 'dirty'));
  fs.writeFileSync(path.join(dirty, 'b2', 'zz_broken.png'), 'not a picture');
  const out = path.join(dir, 'out');
  const a = runCli(['--dataset', 'folder', '--source_path', clean, '--save_path', out, '--savename', 'clean', ...BASE], { timeoutMs: 300_000 });
  assert.equal(a.code, 0, a.stderr);
  const b = runCli(['--dataset', 'folder', '--source_path', dirty, '--save_path', out, '--savename', 'dirty', ...BASE], { timeoutMs: 300_000 });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /warning: 1 of 25 test images cannot be decoded and are left out: '.*zz_broken\.png'/);
  const metrics = (name: string) =>
    readCsv(path.join(out, 'folder', name, 'log_val_Class.csv')).map((row) => row.filter((_, i) => i !== 1).join(','));
  assert.deepEqual(metrics('dirty'), metrics('clean'), 'a zero image would have changed Recall and NMI');
  const summary = fs.readFileSync(path.join(out, 'folder', 'dirty', 'Curr_Summary_Class.txt'), 'utf8');
  assert.match(
    summary,
    /1 image file\(s\) could not be decoded \(listed in undecodable_images\.txt\): 0 training slot\(s\) took another image of the same class instead, 1 evaluation image\(s\) were left out of the metrics/,
  );
  assert.doesNotMatch(summary, /evaluation slots zero-filled/);
  assert.match(fs.readFileSync(path.join(out, 'folder', 'dirty', 'undecodable_images.txt'), 'utf8'), /zz_broken\.png\t/);
});

test('the clustering leaves undecodable images out: the others get the labels they get without them', async () => {
  await useTestBackend('cpu');
  const dir = tempDir();
  const files = fs
    .readdirSync(path.join(SAMPLE, '006.Digit_zero'))
    .sort()
    .slice(0, 4)
    .map((f) => path.join(SAMPLE, '006.Digit_zero', f));
  const more = fs
    .readdirSync(path.join(SAMPLE, '011.Sandal'))
    .sort()
    .slice(0, 4)
    .map((f) => path.join(SAMPLE, '011.Sandal', f));
  const bad = path.join(dir, 'bad.png');
  fs.writeFileSync(bad, 'nope');
  // Features = the input pixels themselves (a stand-in for layer1 whose output is known exactly).
  const model = { input: IMAGENET_RGB, clusterFeatures: (x: tf.Tensor4D) => x } as unknown as EmbeddingModel;
  const run = (paths: string[], labels: number[]) =>
    initialSurrogateLabels({ model, paths, bs: 4, inputSize: 32, conv: IMAGENET_RGB, concurrency: 1 }, Int32Array.from(labels), 'mean', {
      k: 3,
      iters: 10,
      maxPointsPerCentroid: 256,
      rng: rngFor(9, 'kmeans'),
    });
  const prev = setDataWarningSink(() => undefined);
  try {
    const without = await run([...files, ...more], [0, 0, 0, 0, 1, 1, 1, 1]);
    const withBad = await run([...files.slice(0, 2), bad, ...files.slice(2), ...more], [0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual([...withBad.slice(0, 2), ...withBad.slice(3)], [...without]);
    const classZero = [...without.slice(0, 4)];
    const counts = new Map<number, number>();
    for (const l of classZero) counts.set(l, (counts.get(l) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
    assert.equal(withBad[2], top, "the undecodable image joins its class's most common cluster");
  } finally {
    setDataWarningSink(prev);
    resetLoaderStats();
  }
});
