import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendEnv } from '../../src/backend/select.ts';
import { UserError } from '../../src/errors.ts';

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
