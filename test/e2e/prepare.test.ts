/**
 * End-to-end: `mic-train prepare` and the download command's argument errors through the real CLI.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tinyJpeg } from '../helpers/dataset-layouts.ts';
import { tgzBytes } from '../helpers/archives.ts';
import { REPO, runCli } from '../helpers/cli.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-e2e-prepare-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const lastLine = (s: string) => s.trim().split('\n').at(-1)!;

test('prepare cars196 --from DIR: installed and checked; a second call does nothing; an incomplete DIR names the missing file', async () => {
  const from = path.join(tmp, 'cars-in');
  fs.mkdirSync(from);
  fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'data', 'cars_annos_mini.mat'), path.join(from, 'cars_annos.mat'));
  const jpg = await tinyJpeg(10, 20, 30);
  fs.writeFileSync(path.join(from, 'car_ims.tgz'), tgzBytes([1, 2, 3, 4, 5, 6].map((i) => ({ name: `car_ims/00000${i}.jpg`, data: jpg }))));
  const out = path.join(tmp, 'Datasets');
  const r = runCli(['prepare', 'cars196', '--from', from, '--source_path', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `cars196: ${path.join(out, 'cars196')} (installed, layout checked)\n`);
  assert.match(r.stderr, /cars196: 6 images of 4 classes in cars_annos\.mat/);
  const again = runCli(['prepare', 'cars196', '--from', from, '--source_path', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stdout,
    /is in place and verified \(3 train images \/ 2 classes, 3 test images \/ 2 classes; 6 files as installed\); nothing to do/,
  );
  // `download cars196` (a manual item) now finds it in place instead of printing the steps.
  const dl = runCli(['download', 'cars196', '--source_path', out]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.match(dl.stdout, /cars196: .* \(already there, layout checked\)/);

  fs.rmSync(path.join(from, 'cars_annos.mat'));
  const bad = runCli(['prepare', 'cars196', '--from', from, '--source_path', path.join(tmp, 'other')]);
  assert.equal(bad.code, 2);
  assert.equal(
    lastLine(bad.stderr),
    `mic-train: --from ${from}: cars_annos.mat not found (the labels and class names of the classic Stanford Cars release)`,
  );
});

test('argument errors: unknown dataset or item, no item, manual items: one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [
      ['prepare', 'mnist', '--from', tmp],
      /^mic-train: prepare: unknown dataset 'mnist'; expected one of cars196, in-shop, vehicle_id, cub200, online_products$/,
    ],
    [['prepare', 'cars196'], /^mic-train: Missing required argument: from$/],
    [
      ['download'],
      /^mic-train: download: name at least one item: resnet50, googlenet, bninception, cub200, online_products, cars196, in-shop, vehicle_id \(see --help\)$/,
    ],
    [['download', 'resnet50', 'imagenet'], /^mic-train: unknown item 'imagenet'; .*sources\.json lists: resnet50, /],
    [['download', 'in-shop', '--source_path', tmp], /^mic-train: in-shop: no automatic download; .*run: npx mic-train prepare in-shop --from DIR$/],
    [
      ['download', 'googlenet'],
      /^mic-train: googlenet: no automatic download; .*scripts\/fetch-pretrained\.sh --convert googlenet-1378be20\.pth weights\/googlenet\.safetensors/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = runCli(args, { env: { MIC_WEIGHTS_DIR: path.join(tmp, 'no-weights') } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lastLine(r.stderr), re, args.join(' '));
  }
});
