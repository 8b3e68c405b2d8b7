/**
 * The threaded SIMD wasm build under Node (src/backend/wasm-threads.ts): it starts with the requested pool,
 * computes what the cpu backend computes (with our training kernels), and does not keep the process alive
 * (this file would time out otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { enableWasmThreads } from '../../src/backend/wasm-threads.ts';
import { selectBackend } from '../../src/backend/select.ts';
import { installWasmTrainingKernels } from '../../src/backend/wasm-kernels.ts';
import { UserError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff } from '../helpers/tf.ts';
import { randomValues } from '../helpers/cross-backend.ts';
import { fusedAdamAvailable } from '../../src/backend/kernels/fused-adam.ts';
import { GroupedAdam } from '../../src/train/optimizer.ts';

test('2-thread wasm backend: pool of 2, conv gradients equal to cpu', async () => {
  // XNNPACK's pool is 1 thread by default (our GEMM has its own workers); 2 here so that its threaded path is tested.
  await enableWasmThreads(2, { xnnpackThreads: 2 });
  await selectBackend('wasm', { threads: 2 });
  installWasmTrainingKernels();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  assert.equal(wasm.getThreadsCount(), 2);

  const rng = new Rng(41, 'threads');
  const xv = randomValues(rng, [4, 15, 15, 8]);
  const wv = randomValues(rng, [3, 3, 8, 16]);
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.tensor4d(xv, [4, 15, 15, 8]);
    const w = tf.tensor4d(wv, [3, 3, 8, 16]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1))))([x, w]);
    const out = g.map((t) => t.dataSync().slice());
    tf.dispose([x, w, ...g]);
    return out;
  };
  const got = await grads('wasm');
  const ref = await grads('cpu');
  got.forEach((g, i) => {
    const scale = Math.max(1, ...Array.from(ref[i], Math.abs));
    assert.ok(maxAbsDiff(g, ref[i]) <= 1e-5 * scale, `gradient ${i}: ${maxAbsDiff(g, ref[i])} of ${scale}`);
  });
});

test('the thread count cannot change once the wasm backend has started', async () => {
  // The backend above was started by enableWasmThreads(2); another count would need a new backend.
  await assert.rejects(() => enableWasmThreads(3), UserError);
});

test('the fused Adam kernel runs on the threaded build (shared memory) and equals the tensor version bit for bit', async () => {
  await tf.setBackend('wasm');
  assert.equal(fusedAdamAvailable(), true);
  const rng = new Rng(42, 'threads-adam');
  const init = randomValues(rng, [301]);
  const grad = randomValues(rng, [301]);
  const finals: Float32Array[] = [];
  for (const impl of ['tensor', 'fused'] as const) {
    const p = tf.variable(tf.tensor1d(init), true, `threads.adam.${impl}`);
    const adam = new GroupedAdam([{ name: 'network', vars: [p], lr: 1e-2, weightDecay: 4e-4 }], { impl });
    const g = tf.tensor1d(grad);
    for (let i = 0; i < 3; i++) adam.step(new Map([[p.name, g]]));
    finals.push(p.dataSync().slice() as Float32Array);
    tf.dispose([g, p]);
    adam.dispose();
  }
  assert.deepEqual(finals[1], finals[0]);
  assert.ok(maxAbsDiff(finals[1], init) > 1e-3);
});

test('our GEMM on the threaded build: 2 threads give the same bits as 1, in both SIMD variants; the worker threads do not keep the process alive', async () => {
  await tf.setBackend('wasm');
  const { gemmFor, relaxedSimdSupported } = await import('../../src/backend/kernels/gemm.ts');
  const backend = tf.backend() as unknown as import('@tensorflow/tfjs-backend-wasm').BackendWasm;
  const rng = new Rng(43, 'threads-gemm');
  // Large enough to be shared out (≥ 4 MFLOP), ragged in every dimension.
  const [m, k, n] = [203, 301, 77];
  const a = tf.tensor2d(randomValues(rng, [m, k]), [m, k]);
  const b = tf.tensor2d(randomValues(rng, [k, n]), [k, n]);
  const at = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
  for (const simd of relaxedSimdSupported() ? (['plain', 'relaxed'] as const) : (['plain'] as const)) {
    const results: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const g = gemmFor(backend, simd, threads)!;
      assert.equal(g.threads, threads);
      const c = tf.zeros([m, n]);
      for (let rep = 0; rep < 3; rep++) g.matmul(at(a), k, m, k, at(b), n, n, at(c), n);
      results.push(c.dataSync().slice() as Float32Array);
      c.dispose();
    }
    assert.deepEqual(results[1], results[0], simd);
    assert.ok(results[0].some((v) => Math.abs(v) > 1));
  }
  tf.dispose([a, b]);
});

test('Add, Multiply (same shapes, or a row broadcast), Relu, Step and leading-axis Sum run on the worker threads and give the cpu backend bit for bit (sums: the same bits as 1 thread)', async () => {
  await tf.setBackend('wasm');
  const { Gemm, gemmFor, PARALLEL_ELEMENTS } = await import('../../src/backend/kernels/gemm.ts');
  const backend = tf.backend() as unknown as import('@tensorflow/tfjs-backend-wasm').BackendWasm;
  const rng = new Rng(44, 'threads-elementwise');
  const shape = [3, 5, 7, PARALLEL_ELEMENTS / 64 + 1]; // ragged: not a multiple of 4 or of the chunk
  const av = randomValues(rng, shape);
  const bv = randomValues(rng, shape);
  [NaN, 0, -0, Infinity, -Infinity].forEach((x, i) => ((av[100 * i + 1] = x), (bv[100 * i + 2] = x)));
  const row = randomValues(rng, [shape[3]]);
  const ops = (a: tf.Tensor, b: tf.Tensor) => {
    const bias = tf.tensor1d(row);
    const scale = tf.tensor(row, [1, 1, 1, shape[3]]);
    const outs = [tf.add(a, b), tf.mul(a, b), tf.relu(a), tf.step(a), tf.add(a, bias), tf.mul(scale, a)];
    tf.dispose([bias, scale]);
    return outs;
  };
  const run = async (name: string) => {
    await tf.setBackend(name);
    const a = tf.tensor(av, shape);
    const b = tf.tensor(bv, shape);
    const outs = ops(a, b);
    const values = outs.map((t) => Array.from(t.dataSync()));
    tf.dispose([a, b, ...outs]);
    return values;
  };
  const calls = { elementwise: 0 };
  const original = Gemm.prototype.elementwise;
  Gemm.prototype.elementwise = function (...args: Parameters<typeof original>) {
    calls.elementwise++;
    return original.apply(this, args);
  };
  try {
    const got = await run('wasm');
    assert.equal(calls.elementwise, 6, 'every op ran on our threaded kernel');
    const ref = await run('cpu');
    ['add', 'multiply', 'relu', 'step', 'add a broadcast row', 'multiply by a broadcast row (first operand)'].forEach((op, i) =>
      assert.deepEqual(got[i], ref[i], op),
    );
  } finally {
    Gemm.prototype.elementwise = original;
  }

  // The bias-gradient sum over N, H, W: 2 threads give the bits of 1.
  await tf.setBackend('wasm');
  const x = tf.tensor(av, shape);
  const rows = 3 * 5 * 7;
  const inner = shape[3];
  const sums = [1, 2].map((threads) => gemmFor(backend, undefined, threads)!.sumRows(backend.typedArrayFromHeap(x).byteOffset, rows, inner));
  assert.deepEqual(sums[1], sums[0]);
  const viaKernel = tf.sum(x, [0, 1, 2]).dataSync();
  assert.deepEqual(Array.from(viaKernel), Array.from(sums[1], Math.fround));
  x.dispose();
});

test('transposes and the transposed im2col, shared out over the threads in blocks, equal a plain loop', async () => {
  await tf.setBackend('wasm');
  const { Gemm } = await import('../../src/backend/kernels/gemm.ts');
  const { withScope } = await import('../../src/backend/kernels/wasm-scope.ts');
  const { im2colTransposed } = await import('../../src/backend/kernels/heap-layout.ts');
  const backend = tf.backend() as unknown as import('@tensorflow/tfjs-backend-wasm').BackendWasm;
  const rng = new Rng(45, 'threads-layout');
  const shared: number[] = [];
  const original = Gemm.prototype.heapCalls;
  Gemm.prototype.heapCalls = function (fn, calls) {
    shared.push(calls.length);
    return original.call(this, fn, calls);
  };
  try {
    // [301, 517] → [517, 301]: blocks of 128 rows (ragged: 301 is not a multiple of 4 or of the block)
    const [rows, cols] = [301, 517];
    const mv = randomValues(rng, [rows, cols]);
    const m = tf.tensor2d(mv, [rows, cols]);
    const mt = tf.engine().makeTensorFromTensorInfo(withScope(backend, (s) => s.transpose(m, [1, 0])));
    const tv = mt.dataSync();
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) assert.equal(tv[j * rows + i], mv[i * cols + j]);
    assert.ok(shared.pop()! > 1, 'the transpose was shared out');

    // im2col of x [2, 9, 11, 37] for a 3×3 filter, stride 2 × 1, padding 1: one call per tap
    const [n, h, w, c] = [2, 9, 11, 37];
    const win = { offH: -1, offW: -1, strideH: 2, strideW: 1, outH: 5, outW: 11 };
    const xv = randomValues(rng, [n, h, w, c]);
    const x = tf.tensor4d(xv, [n, h, w, c]);
    const colsInfo = withScope(backend, (s) => im2colTransposed(s, s.transpose(x, [3, 0, 1, 2]), 3, 3, win));
    const got = tf.engine().makeTensorFromTensorInfo(colsInfo);
    assert.equal(shared.pop(), 9);
    const gv = got.dataSync();
    const mm = n * win.outH * win.outW;
    for (let ti = 0; ti < 3; ti++)
      for (let tj = 0; tj < 3; tj++)
        for (let ch = 0; ch < c; ch++)
          for (let b = 0; b < n; b++)
            for (let i = 0; i < win.outH; i++)
              for (let j = 0; j < win.outW; j++) {
                const r = win.offH + ti + i * win.strideH;
                const q = win.offW + tj + j * win.strideW;
                const want = r < 0 || r >= h || q < 0 || q >= w ? 0 : xv[((b * h + r) * w + q) * c + ch];
                assert.equal(gv[((ti * 3 + tj) * c + ch) * mm + (b * win.outH + i) * win.outW + j], want);
              }
    tf.dispose([m, mt, x, got]);
  } finally {
    Gemm.prototype.heapCalls = original;
  }
});
