/**
 * The child-process probe of a tfjs-node package, for real: a child process started as doctor starts it, loading
 * (1) a package that is not installed and (2) a stand-in package that registers a 'tensorflow' backend (the cpu
 * engine under that name, reporting a GPU) and writes two lines in libtensorflow's log format to its stderr.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { findLibraryVersions, probeNativePackage } from '../../src/backend/probe.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-probe-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a package that is not installed: not loaded, with the loader error', () => {
  const p = probeNativePackage('@tensorflow/tfjs-node-gpu-not-there', { n: 8, reps: 1, timeoutMs: 120_000 });
  assert.equal(p.loaded, false);
  assert.match(p.error ?? '', /Cannot find module '@tensorflow\/tfjs-node-gpu-not-there'/);
  assert.equal(p.timedOut, false);
});

test('a package that registers a tensorflow backend: version, GPU flag, parsed log, timed matmul', () => {
  const tfjs = createRequire(import.meta.url).resolve('@tensorflow/tfjs');
  const fake = path.join(dir, 'fake-tfjs-node-gpu.cjs');
  fs.writeFileSync(
    fake,
    `const tf = require(${JSON.stringify(tfjs)});
const Cpu = tf.findBackend('cpu').constructor;
for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
tf.registerBackend('tensorflow', () => Object.assign(new Cpu(), { isUsingGpuDevice: true, binding: { TF_Version: '2.15.0' } }));
process.stderr.write('I0000 gpu_device.cc:2020] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 80000 MB memory:  -> device: 0, name: NVIDIA H100 80GB HBM3, pci bus id: 0000:01:00.0, compute capability: 9.0\\n');
process.stderr.write('I tensorflow/core/common_runtime/eager/execute.cc:1345] Executing op MatMul in device /job:localhost/replica:0/task:0/device:GPU:0\\n');
`,
  );
  const p = probeNativePackage(fake, { n: 16, reps: 3, timeoutMs: 120_000 });
  assert.equal(p.loaded, true, p.error);
  assert.equal(p.tfVersion, '2.15.0');
  assert.equal(p.onGpu, true);
  assert.deepEqual(
    p.log.devices.map((d) => [d.gpuName, d.memoryMb, d.computeCapability]),
    [['NVIDIA H100 80GB HBM3', 80000, '9.0']],
  );
  assert.equal(p.log.placements[0].device, '/job:localhost/replica:0/task:0/device:GPU:0');
  assert.equal(p.matmul?.n, 16);
  assert.ok(p.matmul!.ms >= 0 && p.matmul!.firstMs >= 0);
});

test('library versions the loader can find, by file name', () => {
  const lib = path.join(dir, 'lib');
  fs.mkdirSync(lib);
  for (const f of ['libcudart.so.12', 'libcudart.so.12.4.127', 'libcudnn.so.9', 'libcudnn_ops.so.9', 'other.so'])
    fs.writeFileSync(path.join(lib, f), '');
  assert.deepEqual(findLibraryVersions(['libcudart.so', 'libcudnn.so'], [lib, path.join(dir, 'missing')]), {
    'libcudart.so': ['libcudart.so.12', 'libcudart.so.12.4.127'],
    'libcudnn.so': ['libcudnn.so.9'],
  });
});
