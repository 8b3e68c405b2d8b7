import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRunFolder, timestampedName } from '../../src/report/run-folder.ts';
import { UserError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const root = () => tempDir('mic-runs-');

test('empty savename: <DATASET>_<ARCH>_<Y>-<M>-<D>-<h>-<m>-<s>, local time, no zero padding (the original’s example, docs/porting.md#run-folder)', () => {
  assert.equal(timestampedName('cub200', 'resnet50', new Date(2019, 7, 3, 20, 0, 32)), 'CUB200_RESNET50_2019-8-3-20-0-32');
  assert.equal(timestampedName('in-shop', 'googlenet', new Date(2024, 0, 9, 7, 5, 3)), 'IN-SHOP_GOOGLENET_2024-1-9-7-5-3');
});

test('folder is <save_path>/<dataset>/<savename>; existing names get _1, _2 on the name', () => {
  const r = root();
  const opts = { savePath: r, dataset: 'cub200', arch: 'resnet50', savename: 'result_run_cub200' };
  const first = createRunFolder(opts);
  assert.equal(first, path.join(r, 'cub200', 'result_run_cub200'));
  assert.equal(createRunFolder(opts), path.join(r, 'cub200', 'result_run_cub200_1'));
  assert.equal(createRunFolder(opts), path.join(r, 'cub200', 'result_run_cub200_2'));
  assert.ok(fs.statSync(first).isDirectory());
});

test('time-stamped names also get the suffix (not the original’s <dataset>/_1)', () => {
  const r = root();
  const opts = { savePath: r, dataset: 'sample', arch: 'resnet50', savename: '' };
  const d = new Date(2026, 10, 2, 9, 8, 7);
  assert.equal(createRunFolder(opts, d), path.join(r, 'sample', 'SAMPLE_RESNET50_2026-11-2-9-8-7'));
  assert.equal(createRunFolder(opts, d), path.join(r, 'sample', 'SAMPLE_RESNET50_2026-11-2-9-8-7_1'));
});

test('bad --savename or unwritable --save_path: UserError naming the flag', () => {
  const r = root();
  assert.throws(
    () => createRunFolder({ savePath: r, dataset: 'cub200', arch: 'resnet50', savename: 'a/b' }),
    (e: unknown) => e instanceof UserError && e.message.startsWith('--savename'),
  );
  const file = path.join(r, 'a-file');
  fs.writeFileSync(file, '');
  assert.throws(
    () => createRunFolder({ savePath: file, dataset: 'cub200', arch: 'resnet50', savename: 'x' }),
    (e: unknown) => e instanceof UserError && e.message.startsWith('--save_path'),
  );
});
