import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendEnv } from '../../src/backend/select.ts';
import { UserError } from '../../src/errors.ts';
import { PROFILE_ENV } from '../../src/backend/profile.ts';

/** An environment where the tfjs-node packages are absent, as on CI. */
const absent: BackendEnv = {
  requireModule(name: string) {
    if (name.startsWith('@tensorflow/tfjs-node')) {
      const e = new Error(`Cannot find module '${name}'`) as NodeJS.ErrnoException;
      e.code = 'MODULE_NOT_FOUND';
      throw e;
    }
    return {};
  },
};

test('auto falls back past absent tfjs-node packages to wasm and says why', async () => {
  const lines: string[] = [];
  const r = await selectBackend('auto', { env: absent, log: (l) => lines.push(l) });
  assert.equal(r.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(r.reason, /tfjs-node-gpu not installed/);
  assert.match(r.reason, /tfjs-node not installed/);
  // Then the wasm line: threads (none asked for here: one) and the GEMM in use, also in Parameter_Info.
  assert.equal(r.threads, 1);
  assert.match(r.gemm ?? '', /^ours \((relaxed-SIMD FMA|SIMD128 mul\+add), 4x8 micro-kernel, kc \d+ mc \d+ nc \d+, 1 thread\)/);
  assert.deepEqual(lines, [r.reason, `wasm: 1 thread; GEMM: ${r.gemm}`]);
  assert.ok(r.versions['tfjs-core']);
});

test('--threads 0 means every core, at most MAX_WASM_THREADS; no count given means one thread', async () => {
  const { wasmThreadsFor, MAX_WASM_THREADS } = await import('../../src/backend/select.ts');
  const os = await import('node:os');
  assert.equal(wasmThreadsFor(0), Math.min(os.availableParallelism(), MAX_WASM_THREADS));
  assert.equal(wasmThreadsFor(undefined), 1);
  assert.equal(wasmThreadsFor(1), 1);
  assert.equal(wasmThreadsFor(3), 3);
});

test('explicit unavailable backend is a clear UserError', async () => {
  await assert.rejects(selectBackend('tensorflow-gpu', { env: absent }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /--backend tensorflow-gpu: not available: @tensorflow\/tfjs-node-gpu not installed/);
    return true;
  });
});

test('a package that is present but broken is reported with its load error', async () => {
  const broken: BackendEnv = {
    requireModule(name: string) {
      if (name === '@tensorflow/tfjs-node-gpu') throw new Error('The native addon module (tfjs_binding.node) can not be found');
      return absent.requireModule(name);
    },
  };
  const r = await selectBackend('auto', { env: broken });
  assert.match(r.reason, /tfjs-node-gpu failed to load \(The native addon module/);
});

test('cpu backend can be chosen explicitly', async () => {
  const r = await selectBackend('cpu', { env: absent });
  assert.equal(r.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});

/**
 * An environment where requiring the GPU package registers a 'tensorflow' backend (a second instance of the
 * cpu engine) whose binding reports `onGpu`, as tfjs-node-gpu's does through `isUsingGpuDevice`.
 */
function fakeGpuPackage(onGpu: boolean): BackendEnv {
  return {
    requireModule(name: string) {
      if (name === '@tensorflow/tfjs-node-gpu') {
        const Cpu = (tf.findBackend('cpu') as object).constructor as new () => tf.KernelBackend;
        if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
        tf.registerBackend('tensorflow', () => Object.assign(new Cpu(), { isUsingGpuDevice: onGpu, binding: { TF_Version: '2.9.1' } }));
        return {};
      }
      if (name === '@tensorflow/tfjs-node-gpu/package.json') return { version: '4.22.0' };
      return absent.requireModule(name);
    },
  };
}

test('tensorflow-gpu that ends on the CPU: device CPU, a loud warning, the native profile, libtensorflow version', async () => {
  const r = await selectBackend('tensorflow-gpu', { env: fakeGpuPackage(false) });
  assert.equal(r.name, 'tensorflow-gpu');
  assert.equal(r.device, 'CPU');
  assert.match(r.gpuWarning ?? '', /no usable GPU and runs on the CPU/);
  assert.match(r.reason, /device: CPU/);
  assert.equal(r.profile.name, 'native');
  assert.equal(r.versions.libtensorflow, '2.9.1');
  tf.removeBackend('tensorflow');
});

test('tensorflow-gpu on a GPU: device GPU, no warning; auto takes it first', async () => {
  const r = await selectBackend('auto', { env: fakeGpuPackage(true) });
  assert.equal(r.name, 'tensorflow-gpu');
  assert.match(r.device, /^GPU/);
  assert.equal(r.gpuWarning, undefined);
  assert.match(r.reason, /^backend: tensorflow-gpu, device: GPU/);
  tf.removeBackend('tensorflow');
});

test('the native test switch: auto skips wasm for cpu, which gets the native profile; wasm is refused', async () => {
  process.env[PROFILE_ENV] = 'native';
  try {
    const r = await selectBackend('auto', { env: absent });
    assert.equal(r.name, 'cpu');
    assert.match(r.reason, /wasm skipped \(MIC_TRAIN_BACKEND_PROFILE=native\)/);
    assert.equal(r.profile.name, 'native');
    assert.equal(r.profile.forcedBy, 'MIC_TRAIN_BACKEND_PROFILE=native');
    await assert.rejects(selectBackend('wasm', { env: absent }), /runs only on --backend cpu/);
    process.env[PROFILE_ENV] = 'gpu';
    await assert.rejects(selectBackend('cpu', { env: absent }), /unknown profile/);
  } finally {
    delete process.env[PROFILE_ENV];
  }
  assert.equal((await selectBackend('cpu', { env: absent })).profile.name, 'cpu');
});
