/**
 * `mic-train doctor` as a user runs it, on this machine (no GPU, no tfjs-node): a GPU request ends with exit 1
 * and one line saying why; the wasm check passes its parity test and prints the run-time table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';

test('doctor --backend tensorflow-gpu without the package: exit 1 and one line naming the reason', () => {
  const r = runCli(['doctor', '--backend', 'tensorflow-gpu']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr.trim(),
    'mic-train doctor: GPU requested but not used: @tensorflow/tfjs-node-gpu not installed (scripts/install-gpu.sh installs it)',
  );
  assert.match(r.stdout, /tensorflow-gpu +skipped +@tensorflow\/tfjs-node-gpu not installed +← requested/);
  assert.match(r.stdout, /wasm +usable .*← auto takes this one/);
  assert.match(r.stdout, /CUDA libraries the loader can find: libcudart\.so: /);
  assert.doesNotMatch(r.stdout, /forward \+ backward/, 'nothing is built when the GPU request already failed');
});

test('doctor on wasm (small size): parity against cpu passes, img/s and the paper-run table, exit 0', () => {
  const r = runCli(['doctor', '--backend', 'wasm', '--input-size', '32', '--bs', '8']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /using: wasm on CPU/);
  assert.match(r.stdout, /forward \+ backward, 2 images at 32 px, against cpu on the same weights: .* → pass/);
  assert.match(r.stdout, /training speed: [\d.]+ s per task step of 8 images = [\d.]+ img\/s/);
  for (const ds of ['cub200', 'cars196', 'online_products', 'in-shop', 'vehicle_id']) assert.match(r.stdout, new RegExp(`\\n  ${ds} +\\d+ +\\d+ `));
  assert.match(r.stdout, /scaled by pixel count from the 32 px measurement/);
  assert.match(r.stdout, /\nhealthy\n/);
});

test('doctor with a bad flag: exit 2, one line', () => {
  const r = runCli(['doctor', '--bs', '3']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'mic-train: --bs: even and at least 4 (two classes of two images or more), got 3');
});
