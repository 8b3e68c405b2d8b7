/**
 * End-to-end: `mic-train download` and automatic weights, against a real HTTP server on 127.0.0.1 started here
 * (MIC_TRAIN_SOURCES points at a table for it): a CUB-layout archive and a ResNet50-shaped safetensors file are
 * downloaded, verified and put in place; a second call does nothing; an interrupted download resumes; a flipped
 * byte, a hostile archive, a 404 and a refused connection are one-line errors that leave nothing behind; a
 * training run without --not_pretrained fetches the weights itself and trains an epoch; offline or unreachable,
 * it stops with the manual route and creates nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { refusedPort, startFileServer, type FileServer } from '../helpers/http-server.ts';
import { cubArchive, resnet50Safetensors, sha256, writeSources } from '../helpers/downloads.ts';
import { readCsv, REPO, runCliLive } from '../helpers/cli.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-e2e-download-'));
const CLASSES = ['001.Tshirt_top', '002.Trouser', '006.Digit_zero', '007.Digit_one', '011.Sandal', '013.Sneaker', '016.Digit_five', '017.Digit_six'];
let srv: FileServer;
let weights: Buffer;
let cub: Buffer;
let hostile: Buffer;

before(async () => {
  weights = await resnet50Safetensors();
  cub = cubArchive(CLASSES, 12);
  hostile = cubArchive(CLASSES.slice(0, 4), 2, [{ name: 'CUB_200_2011/../../escaped.txt', data: 'outside' }]);
  const flipped = Buffer.from(weights);
  flipped[flipped.length - 5] ^= 0x10;
  srv = await startFileServer(
    { '/w/resnet50.safetensors': weights, '/w/flipped.safetensors': flipped, '/d/CUB_200_2011.tgz': cub, '/d/hostile.tgz': hostile },
    { stallAfter: { '/w/stall.safetensors': 3_000_000 } },
  );
  srv.files.set('/w/stall.safetensors', weights);
});
after(async () => {
  await srv?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh sandbox: its own sources table, cache, weights folder and datasets folder. */
function sandbox(name: string, items: Parameters<typeof writeSources>[1]) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const env = {
    MIC_TRAIN_SOURCES: writeSources(path.join(dir, 'sources.json'), items),
    MIC_TRAIN_CACHE: path.join(dir, 'cache'),
    MIC_WEIGHTS_DIR: path.join(dir, 'weights'),
    MIC_TRAIN_OFFLINE: '',
    HTTP_PROXY: '',
    http_proxy: '',
    NO_PROXY: '',
  };
  return { dir, env, datasets: path.join(dir, 'Datasets'), weightsFile: path.join(dir, 'weights', 'resnet50.safetensors') };
}

const listing = (dir: string) => (fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : []);
const oneLine = (stderr: string) => stderr.trim().split('\n').at(-1)!;

test('download cub200 resnet50: verified, unpacked into the loader layout; a second call verifies and fetches nothing', async () => {
  const s = sandbox('both', [
    { key: 'resnet50', kind: 'weights', url: `${srv.url}/w/resnet50.safetensors`, data: weights },
    { key: 'cub200', kind: 'dataset', url: `${srv.url}/d/CUB_200_2011.tgz`, data: cub },
  ]);
  const r = await runCliLive(['download', 'cub200', 'resnet50', '--source_path', s.datasets], undefined, { env: s.env, timeoutMs: 900_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fs.readFileSync(s.weightsFile).equals(weights));
  const root = path.join(s.datasets, 'cub200');
  assert.deepEqual(fs.readdirSync(path.join(root, 'images')).sort(), CLASSES);
  assert.equal(fs.readdirSync(path.join(root, 'images', '002.Trouser')).length, 12);
  assert.ok(fs.existsSync(path.join(root, 'classes.txt')) && !fs.existsSync(path.join(root, 'attributes.txt')), 'unpack rules applied');
  assert.match(r.stderr, /cub200: installed in .* \(48 train images \/ 4 classes, 48 test images \/ 4 classes; 97 files\)/);
  assert.match(r.stdout, /^cub200: .*cub200 \(installed, layout checked\)\nresnet50: .*resnet50\.safetensors \(downloaded, sha256 verified\)\n$/);
  assert.deepEqual(
    listing(s.datasets),
    listing(s.datasets).filter((p) => !p.includes('.partial-')),
    'no staging folder left',
  );
  const requests = srv.requests.length;

  const again = await runCliLive(['download', 'resnet50', 'cub200', '--source_path', s.datasets], undefined, { env: s.env, timeoutMs: 900_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(srv.requests.length, requests, 'no request the second time');
  assert.match(again.stdout, /resnet50: .* \(already there, sha256 verified\)\ncub200: .* \(already there, layout checked\)/);
  assert.match(again.stderr, /is in place and verified \(48 train images/);
});

test('a download interrupted half-way (Ctrl-C) resumes where it stopped; every byte is fetched once', async () => {
  const s = sandbox('resume', [{ key: 'resnet50', kind: 'weights', url: `${srv.url}/w/stall.safetensors`, data: weights }]);
  const part = `${s.weightsFile}.part`;
  let interrupted = false;
  const first = await runCliLive(
    ['download', 'resnet50'],
    (_err, child) => {
      if (!interrupted && (fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) >= 3_000_000) {
        interrupted = true;
        child.kill('SIGINT');
      }
    },
    { env: s.env, timeoutMs: 900_000 },
  );
  assert.equal(first.code, 130, first.stderr);
  assert.match(
    oneLine(first.stderr),
    /^mic-train: interrupted: 3\.0 MB of \d+\.\d MB kept in .*resnet50\.safetensors\.part; run the same command again to resume$/,
  );
  assert.equal(fs.statSync(part).size, 3_000_000);
  const second = await runCliLive(['download', 'resnet50'], undefined, { env: s.env, timeoutMs: 900_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /resuming at 3\.0 MB of \d+\.\d MB/);
  assert.ok(fs.readFileSync(s.weightsFile).equals(weights));
  assert.equal(srv.bytesSent.get('/w/stall.safetensors'), weights.length, 'bytes served in total = file size');
  assert.ok(!fs.existsSync(part));
});

test('one flipped byte, a 404, a refused connection: one-line errors, exit 2, no file left', async () => {
  const port = await refusedPort();
  const cases: [string, string, RegExp][] = [
    [
      'flipped',
      `${srv.url}/w/flipped.safetensors`,
      /^mic-train: flipped\.safetensors: sha256 mismatch \(got [0-9a-f]{64}, expected [0-9a-f]{64}\); the downloaded file was deleted$/,
    ],
    [
      'missing',
      `${srv.url}/w/none.safetensors`,
      /^mic-train: none\.safetensors: download failed \(http:\/\/127\.0\.0\.1:\d+\/w\/none\.safetensors: HTTP 404 Not Found\)$/,
    ],
    [
      'refused',
      `http://127.0.0.1:${port}/w/resnet50.safetensors`,
      /^mic-train: resnet50\.safetensors: download failed \(.*: connection refused by 127\.0\.0\.1:\d+\)$/,
    ],
  ];
  for (const [name, url, message] of cases) {
    const s = sandbox(name, [{ key: 'resnet50', kind: 'weights', url, data: weights }]);
    const r = await runCliLive(['download', 'resnet50'], undefined, { env: s.env, timeoutMs: 900_000 });
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), message, name);
    assert.ok(!r.stderr.includes('    at '), `${name}: no stack trace`);
    assert.deepEqual(listing(path.join(s.dir, 'weights')), [], `${name}: no weights file, no partial file`);
  }
});

test('a hostile archive (a ../ member) is refused: nothing written outside, no dataset folder', async () => {
  const s = sandbox('hostile', [{ key: 'cub200', kind: 'dataset', url: `${srv.url}/d/hostile.tgz`, data: hostile }]);
  const r = await runCliLive(['download', 'cub200', '--source_path', s.datasets], undefined, { env: s.env, timeoutMs: 900_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    oneLine(r.stderr),
    /^mic-train: .*hostile\.tgz: refused member 'CUB_200_2011\/\.\.\/\.\.\/escaped\.txt' \('\.\.' in the path\); the archive was not unpacked$/,
  );
  assert.deepEqual(listing(s.datasets), [], 'no cub200 folder and no staging folder');
  for (const d of [s.dir, s.datasets, tmp, path.dirname(tmp)]) assert.ok(!fs.existsSync(path.join(d, 'escaped.txt')), d);
});

/** Training flags for a 1-epoch 32 px single-task run on the downloaded CUB fixture. */
function trainArgs(datasets: string, out: string): string[] {
  return [
    '--dataset',
    'cub200',
    '--source_path',
    datasets,
    '--save_path',
    out,
    ...'--backend wasm --input-size 32 --bs 16 --n_epochs 1 --task_p 1 0 --adv_weights 0 --kernels 2 --seed 4 --savename auto'.split(' '),
  ];
}

const repoWeights = path.join(REPO, 'weights', 'resnet50.safetensors');

test(
  'training without --not_pretrained downloads the ImageNet weights itself, says so, and trains an epoch',
  { skip: fs.existsSync(repoWeights) && `${repoWeights} exists (training would use it)` },
  async () => {
    const s = sandbox('train', [
      { key: 'resnet50', kind: 'weights', url: `${srv.url}/w/resnet50.safetensors`, data: weights },
      { key: 'cub200', kind: 'dataset', url: `${srv.url}/d/CUB_200_2011.tgz`, data: cub },
    ]);
    const d = await runCliLive(['download', 'cub200', '--source_path', s.datasets], undefined, { env: s.env, timeoutMs: 900_000 });
    assert.equal(d.code, 0, d.stderr);
    const out = path.join(s.dir, 'runs');
    const r = await runCliLive(trainArgs(s.datasets, out), undefined, { env: s.env, timeoutMs: 900_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /weights: no local resnet50\.safetensors; downloading test resnet50 \(\d+\.\d MB, sha256 [0-9a-f]{12}…\) from http:\/\/127\.0\.0\.1:\d+\/w\/resnet50\.safetensors into .*weights\/resnet50\.safetensors/,
    );
    assert.match(r.stderr, /weights: resnet50 backbone from .*weights\/resnet50\.safetensors \(torchvision\); embedding heads random/);
    assert.ok(fs.readFileSync(s.weightsFile).equals(weights));
    const val = readCsv(path.join(out, 'cub200', 'auto', 'log_val_Class.csv'));
    assert.equal(val.length, 2, 'one evaluated epoch');
    for (const v of val[1].slice(2)) assert.ok(Number(v) >= 0 && Number(v) <= 1, `metric ${v}`);
  },
);

test(
  'offline (MIC_TRAIN_OFFLINE=1, --offline) or unreachable: the manual-route message, exit 2, nothing created',
  { skip: fs.existsSync(repoWeights) && `${repoWeights} exists` },
  async () => {
    const port = await refusedPort();
    const s = sandbox('offline', [
      { key: 'resnet50', kind: 'weights', url: `http://127.0.0.1:${port}/w/resnet50.safetensors`, data: weights },
      { key: 'cub200', kind: 'dataset', url: `${srv.url}/d/CUB_200_2011.tgz`, data: cub },
    ]);
    const d = await runCliLive(['download', 'cub200', '--source_path', s.datasets], undefined, { env: s.env, timeoutMs: 900_000 });
    assert.equal(d.code, 0, d.stderr);
    const out = path.join(s.dir, 'runs');
    const manual =
      /^mic-train: no pretrained weights for --arch resnet50: looked for .*weights\/resnet50\.safetensors or .*\. Get them from https:\/\/huggingface\.co\/timm\/resnet50\.tv_in1k\/.*--not_pretrained to start from random weights/;
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        { MIC_TRAIN_OFFLINE: '1' },
        [],
        / \(offline: --offline or MIC_TRAIN_OFFLINE=1, so nothing was downloaded; `mic-train download resnet50` fetches them where there is network\)$/,
      ],
      [
        {},
        ['--offline'],
        / \(offline: --offline or MIC_TRAIN_OFFLINE=1, so nothing was downloaded; `mic-train download resnet50` fetches them where there is network\)$/,
      ],
      [{}, [], /; the automatic download failed: resnet50\.safetensors: download failed \(.*: connection refused by 127\.0\.0\.1:\d+\)$/],
    ];
    for (const [env, extra, tail] of cases) {
      const r = await runCliLive([...trainArgs(s.datasets, out), ...extra], undefined, { env: { ...s.env, ...env }, timeoutMs: 900_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLine(r.stderr), manual);
      assert.match(oneLine(r.stderr), tail);
      assert.ok(!fs.existsSync(out), 'no run folder');
      assert.deepEqual(listing(path.join(s.dir, 'weights')), [], 'no weights file, no partial file');
    }
    // MIC_TRAIN_OFFLINE also stops `download`.
    const r = await runCliLive(['download', 'resnet50'], undefined, { env: { ...s.env, MIC_TRAIN_OFFLINE: '1' }, timeoutMs: 900_000 });
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /MIC_TRAIN_OFFLINE forbids network access/);
  },
);
