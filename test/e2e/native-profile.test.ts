/**
 * End-to-end on the native profile without tfjs-node: `MIC_TRAIN_BACKEND_PROFILE=native` runs the stock cpu
 * backend exactly as tensorflow/tensorflow-gpu are run (whole batches, the tensor Adam, no kernels of ours), so
 * the paths only tfjs-node takes are exercised by `npm test`. The same run on wasm (micro-batching rules,
 * fused Adam, our kernels) must log the same first-step loss: same seed, same data, same weights.
 *
 * Small on purpose: the cpu backend's filter gradient is a plain JavaScript loop (~40 s of CPU for one
 * GoogLeNet step at 32 px, batch 4), so one training step and one evaluation is the whole run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { makeTinyFolderDataset, readCsv, runCli } from '../helpers/cli.ts';

const data = makeTinyFolderDataset(2, { train: ['001.Tshirt_top', '006.Digit_zero'], test: ['011.Sandal', '016.Digit_five'] });
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-native-'));
after(() => {
  fs.rmSync(data, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

const args = (backend: string, name: string) => [
  '--dataset',
  'folder',
  '--source_path',
  data,
  '--save_path',
  out,
  '--savename',
  name,
  '--not_pretrained',
  '--backend',
  backend,
  ...'--arch googlenet --input-size 32 --bs 4 --cs_per_bs 2 2 --n_epochs 1 --task_p 1 0 --adv_weights 0 --lr 1e-4 --tau 10 --kernels 2 --seed 5'.split(
    ' ',
  ),
];

test('a run on the native profile (cpu backend as tfjs-node) trains, checkpoints, and matches wasm', () => {
  const native = runCli(args('cpu', 'native'), { env: { MIC_TRAIN_BACKEND_PROFILE: 'native' } });
  assert.equal(native.code, 0, native.stderr);
  assert.match(native.stderr, /backend: cpu \(requested\)/);
  const dir = path.join(out, 'folder', 'native');
  const info = fs.readFileSync(path.join(dir, 'Parameter_Info.txt'), 'utf8');
  assert.match(info, /backend_profile\n\tnative \(whole batches, tensor Adam, stock kernels; forced by MIC_TRAIN_BACKEND_PROFILE=native\)/);
  assert.match(info, /micro_bs\n\t4\n/);
  assert.match(info, /device\n\tCPU\n/);
  // The tensor Adam's moments are checkpointed like the other implementations'.
  const state = readSafetensors(path.join(dir, 'last', 'state.safetensors')).tensors;
  const moments = [...state.keys()].filter((k) => k.startsWith('optimizer.m.'));
  assert.ok(moments.length > 50, `Adam first moments in last/: ${moments.length}`);
  assert.ok(fs.existsSync(path.join(dir, 'checkpoint_Class', 'model.safetensors')));

  const wasm = runCli(args('wasm', 'wasm'));
  assert.equal(wasm.code, 0, wasm.stderr);
  assert.match(fs.readFileSync(path.join(out, 'folder', 'wasm', 'Parameter_Info.txt'), 'utf8'), /backend_profile\n\twasm \(/);
  const loss = (name: string) => Number(readCsv(path.join(out, 'folder', name, 'log_train_Class.csv'))[1][2]);
  const [a, b] = [loss('native'), loss('wasm')];
  assert.ok(Number.isFinite(a) && a > 0, `native loss ${a}`);
  assert.ok(Math.abs(a - b) <= 1e-3 * Math.abs(b), `first-step loss: native profile ${a}, wasm ${b}`);
});
