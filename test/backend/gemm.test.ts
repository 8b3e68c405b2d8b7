/**
 * Our GEMM (src/backend/kernels/gemm.wat through gemm.ts) on the single-threaded wasm backend, in both variants
 * the runtime runs (plain SIMD128 always; relaxed-SIMD FMA where it validates): products of odd and 1-wide
 * sizes with bias/ReLU/accumulate against a float64 reference, and convolutions (padding, strides, 1×1, 7×7,
 * 1-wide maps and filters) against the cpu backend. The committed binaries must be what the .wat compiles to.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { compileWat, WASM_MODULES } from '../../scripts/wat.ts';
import { gemmFor, relaxedSimdSupported, type GemmSimd } from '../../src/backend/kernels/gemm.ts';
import { gemmConv2d, gemmMatmul } from '../../src/backend/kernels/gemm-conv.ts';
import { nhwcConvInfo, withScope } from '../../src/backend/kernels/wasm-scope.ts';
import { Rng } from '../../src/rng.ts';
import { initBothBackends, on, randomValues, runKernelOn } from '../helpers/cross-backend.ts';
import { maxAbsDiff } from '../helpers/tf.ts';

before(initBothBackends);

const variants: GemmSimd[] = relaxedSimdSupported() ? ['plain', 'relaxed'] : ['plain'];

test('the committed GEMM binaries are what gemm.wat compiles to (plain, relaxed, shared variants)', async () => {
  const mods = WASM_MODULES.filter((x) => x.wat.pathname.endsWith('gemm.wat'));
  assert.equal(mods.length, 4);
  for (const { wat, wasm, variant } of mods) {
    const text = fs.readFileSync(wat, 'utf8');
    assert.deepEqual(new Uint8Array(fs.readFileSync(wasm)), await compileWat(variant ? variant(text) : text), wasm.pathname);
  }
});

test('Node 20 runs the relaxed-SIMD variant (the flag is switched on at start)', () => {
  // Node 20.x validates relaxed SIMD once V8's flag is set; Node ≥ 22 has it on by default.
  assert.equal(relaxedSimdSupported(), true);
});

/** Reference C = A·B (+ C0) (+ bias), ReLU, in float64; also Σ|terms| per element for the tolerance. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, c0?: Float32Array, bias?: Float32Array, relu = false) {
  const out = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        s += a[i * k + p] * b[p * n + j];
        t += Math.abs(a[i * k + p] * b[p * n + j]);
      }
      if (c0) s += c0[i * n + j];
      if (bias) s += bias[j];
      out[i * n + j] = relu ? Math.max(s, 0) : s;
      mag[i * n + j] = t + (c0 ? Math.abs(c0[i * n + j]) : 0) + (bias ? Math.abs(bias[j]) : 0);
    }
  }
  return { out, mag };
}

for (const simd of variants) {
  test(`${simd}: products of odd, 1-wide and block-crossing sizes, with bias, ReLU and accumulation`, async () => {
    await on('wasm');
    const backend = tf.backend() as BackendWasm;
    const g = gemmFor(backend, simd)!;
    assert.equal(g.simd, simd);
    const rng = new Rng(7, `gemm-${simd}`);
    // m×k×n: single elements, every ragged tile edge (m mod 4, n mod 8), k across kc blocks (kc = g.blocking.kc)
    const kc = g.blocking.kc;
    const shapes = [
      [1, 1, 1],
      [1, 5, 1],
      [3, 1, 9],
      [4, 8, 8],
      [5, 7, 3],
      [7, 33, 15],
      [13, kc + 3, 17],
      [1, 2 * kc + 1, 8],
      [9, 3 * kc, 1],
      [130, 40, 70],
    ];
    const packFromRows = g.packFromRows;
    // B packed into panels, and B read in place (what products with few rows do)
    for (const [[m, k, n], packed] of shapes.flatMap(
      (sh) =>
        [
          [sh, true],
          [sh, false],
        ] as const,
    )) {
      g.packFromRows = packed ? 0 : Number.MAX_SAFE_INTEGER;
      for (const mode of ['plain', 'bias-relu', 'accumulate'] as const) {
        const av = randomValues(rng, [m, k]);
        const bv = randomValues(rng, [k, n]);
        const c0 = mode === 'accumulate' ? randomValues(rng, [m, n]) : undefined;
        const biasV = mode === 'bias-relu' ? randomValues(rng, [n]) : undefined;
        const a = tf.tensor2d(av, [m, k]);
        const b = tf.tensor2d(bv, [k, n]);
        const c = tf.tensor2d(c0 ?? new Float32Array(m * n), [m, n]);
        const bias = biasV ? tf.tensor1d(biasV) : undefined;
        const at = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
        g.matmul(at(a), k, m, k, at(b), n, n, at(c), n, {
          bias: bias ? at(bias) : undefined,
          relu: mode === 'bias-relu',
          accumulate: mode === 'accumulate',
        });
        const got = c.dataSync();
        const ref = reference(av, bv, m, k, n, c0, biasV, mode === 'bias-relu');
        for (let i = 0; i < m * n; i++) {
          const tol = 1e-6 * ref.mag[i] + 1e-7 * Math.sqrt(k) * ref.mag[i] + 1e-30;
          if (!(Math.abs(got[i] - ref.out[i]) <= tol)) assert.fail(`${m}×${k}×${n} ${mode} packed ${packed} at ${i}: ${got[i]} vs ${ref.out[i]}`);
        }
        tf.dispose([a, b, c, ...(bias ? [bias] : [])]);
      }
    }
    g.packFromRows = packFromRows;
  });

  test(`${simd}: convolutions (padding, strides, 1×1, 7×7, 1-wide maps and filters) equal the cpu backend`, async () => {
    const { setGemmSimd } = await import('../../src/backend/kernels/gemm.ts');
    setGemmSimd(simd);
    try {
      const rng = new Rng(8, `gemm-conv-${simd}`);
      type Pad = 'same' | 'valid' | number;
      const cases: { x: [number, number, number, number]; f: [number, number, number, number]; s: [number, number]; pad: Pad }[] = [
        { x: [2, 7, 9, 5], f: [3, 3, 5, 11], s: [1, 1], pad: 1 },
        { x: [1, 9, 8, 3], f: [7, 7, 3, 8], s: [2, 2], pad: 3 },
        { x: [3, 5, 5, 16], f: [1, 1, 16, 9], s: [2, 2], pad: 'valid' },
        { x: [1, 1, 1, 7], f: [1, 1, 7, 13], s: [1, 1], pad: 0 }, // one pixel
        { x: [2, 1, 9, 4], f: [1, 3, 4, 5], s: [1, 1], pad: 'same' }, // 1-high map, 1-high filter
        { x: [1, 6, 1, 4], f: [3, 1, 4, 6], s: [2, 1], pad: 'same' }, // 1-wide map and filter
        { x: [2, 8, 7, 6], f: [2, 2, 6, 3], s: [2, 2], pad: 'same' }, // asymmetric padding
        { x: [1, 10, 9, 2], f: [5, 3, 2, 3], s: [2, 1], pad: 'valid' }, // windows that skip the last rows
        { x: [1, 4, 4, 3], f: [5, 5, 3, 4], s: [1, 1], pad: 4 }, // padding wider than the map
      ];
      for (const c of cases) {
        const xv = randomValues(rng, c.x);
        const fv = randomValues(rng, c.f);
        const bv = randomValues(rng, [c.f[3]]);
        for (const relu of [false, true]) {
          const inputs = { x: { values: xv, shape: c.x }, filter: { values: fv, shape: c.f }, bias: { values: bv, shape: [c.f[3]] } };
          const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], activation: relu ? 'relu' : 'linear' };
          const [ref] = await runKernelOn('cpu', 'FusedConv2D', inputs, attrs);
          await on('wasm');
          const backend = tf.backend() as BackendWasm;
          const x = tf.tensor4d(xv, c.x);
          const f = tf.tensor4d(fv, c.f);
          const b = tf.tensor1d(bv);
          const info = nhwcConvInfo(c.x, c.f, c.s, c.pad);
          const y = tf.engine().makeTensorFromTensorInfo(withScope(backend, (s) => gemmConv2d(s, x, f, info, b, relu)));
          assert.deepEqual(y.shape, ref.shape);
          const d = maxAbsDiff(y.dataSync(), ref.values);
          assert.ok(d <= 1e-5, `${JSON.stringify(c)} relu ${relu}: max diff ${d}`);
          tf.dispose([x, f, b, y]);
        }
      }
    } finally {
      setGemmSimd(undefined);
    }
  });
}

test('Gemm.conv with windows reaching outside x (taps one by one, zero rows for the padding) equals the cpu backend', async () => {
  const rng = new Rng(10, 'gemm-conv-zero-rows');
  for (const c of [
    { x: [2, 6, 7, 5], f: [3, 3, 5, 9], s: 1, pad: 1 },
    { x: [1, 9, 9, 3], f: [7, 7, 3, 8], s: 2, pad: 3 },
  ] as const) {
    const xv = randomValues(rng, [...c.x]);
    const fv = randomValues(rng, [...c.f]);
    const [ref] = await runKernelOn(
      'cpu',
      'Conv2D',
      { x: { values: xv, shape: [...c.x] }, filter: { values: fv, shape: [...c.f] } },
      { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] },
    );
    await on('wasm');
    const backend = tf.backend() as BackendWasm;
    const x = tf.tensor4d(xv, [...c.x]);
    const f = tf.tensor4d(fv, [...c.f]);
    const y = tf.zeros(ref.shape);
    const at = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
    const [n, h, w, cin] = c.x;
    gemmFor(backend)!.conv(
      { n, h, w, c: cin, kh: c.f[0], kw: c.f[1], offH: -c.pad, offW: -c.pad, sH: c.s, sW: c.s, outH: ref.shape[1], outW: ref.shape[2], cout: c.f[3] },
      at(x),
      at(f),
      at(y),
    );
    const d = maxAbsDiff(y.dataSync(), ref.values);
    assert.ok(d <= 1e-5, `${JSON.stringify(c)}: max diff ${d}`);
    tf.dispose([x, f, y]);
  }
});

test('an empty inner dimension gives zeros; gemmMatmul checks its operands', async () => {
  await on('wasm');
  const backend = tf.backend() as BackendWasm;
  const a = tf.zeros([3, 0]);
  const b = tf.zeros([0, 5]);
  const c = tf.engine().makeTensorFromTensorInfo(withScope(backend, (s) => gemmMatmul(s, a, b)));
  assert.deepEqual(Array.from(c.dataSync()), new Array(15).fill(0));
  const wrong = tf.zeros([2, 5]);
  assert.throws(() => withScope(backend, (s) => gemmMatmul(s, a, wrong)), /inner sizes/);
  tf.dispose([a, b, c, wrong]);
});

test('BatchMatMul on our GEMM (transposed operands, batches, ragged sizes) equals the cpu backend', async () => {
  const { forceGemmRoute } = await import('../../src/backend/kernels/gemm-routes.ts');
  forceGemmRoute('ours');
  try {
    const rng = new Rng(9, 'batch-matmul');
    for (const [batch, m, k, n] of [
      [1, 8, 2048, 128],
      [1, 5, 3, 9],
      [3, 7, 33, 10],
      [2, 1, 1, 1],
    ]) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const aShape = ta ? [batch, k, m] : [batch, m, k];
        const bShape = tb ? [batch, n, k] : [batch, k, n];
        const inputs = { a: { values: randomValues(rng, aShape), shape: aShape }, b: { values: randomValues(rng, bShape), shape: bShape } };
        const attrs = { transposeA: ta, transposeB: tb };
        const [ref] = await runKernelOn('cpu', 'BatchMatMul', inputs, attrs);
        const [got] = await runKernelOn('wasm', 'BatchMatMul', inputs, attrs);
        assert.deepEqual(got.shape, ref.shape);
        const d = maxAbsDiff(got.values, ref.values);
        assert.ok(d <= 1e-5 * Math.sqrt(k) * 4, `${batch}×${m}×${k}×${n} ta ${ta} tb ${tb}: max diff ${d}`);
      }
    }
  } finally {
    forceGemmRoute(undefined);
  }
});

/** Values with the awkward cases at fixed places: NaN, ±0, ±∞, tiny and huge. */
function withSpecials(v: Float32Array): Float32Array {
  const specials = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -3e38];
  specials.forEach((x, i) => (v[i * 7 + 1] = x));
  return v;
}

test('Gemm.elementwise (add, multiply, ReLU, step) computes what the cpu backend defines, value for value, at ragged lengths', async () => {
  await on('wasm');
  const backend = tf.backend() as unknown as BackendWasm;
  const g = gemmFor(backend)!;
  const rng = new Rng(10, 'elementwise');
  const at = (t: tf.Tensor) => backend.typedArrayFromHeap(t).byteOffset;
  const expected = {
    add: (a: number, b: number) => Math.fround(a + b),
    multiply: (a: number, b: number) => Math.fround(a * b),
    relu: (a: number) => Math.max(0, a),
    step: (a: number) => (Number.isNaN(a) ? NaN : a > 0 ? 1 : 0),
  };
  for (const n of [1, 3, 4, 61, 32768 * 2 + 5]) {
    const av = withSpecials(randomValues(rng, [Math.max(n, 60)])).subarray(0, n);
    const bv = withSpecials(randomValues(rng, [Math.max(n, 60)]).reverse()).subarray(0, n);
    const a = tf.tensor1d(av);
    const b = tf.tensor1d(bv);
    for (const [op, f] of Object.entries(expected) as [keyof typeof expected, (a: number, b: number) => number][]) {
      const out = tf.fill([n + 1], 7);
      g.elementwise(op, at(a), at(b), at(out), n);
      const got = out.dataSync();
      assert.deepEqual(
        Array.from(got.subarray(0, n)),
        Array.from(av, (x, i) => f(x, bv[i])),
        `${op} n ${n}`,
      );
      assert.equal(got[n], 7, `${op} n ${n}: wrote past the end`);
      out.dispose();
    }
    tf.dispose([a, b]);
  }
  // b as one row broadcast over a's rows (a bias over an activation)
  const [rows, inner] = [5, 21];
  const av = withSpecials(randomValues(rng, [rows * inner]));
  const bv = randomValues(rng, [inner]);
  const a = tf.tensor1d(av);
  const b = tf.tensor1d(bv);
  for (const op of ['add', 'multiply'] as const) {
    const out = tf.zeros([rows * inner]);
    g.elementwise(op, at(a), at(b), at(out), rows * inner, { rowOfB: inner });
    const f = expected[op];
    assert.deepEqual(
      Array.from(out.dataSync()),
      Array.from(av, (x, i) => f(x, bv[i % inner])),
      `${op} with a broadcast row`,
    );
    out.dispose();
  }
  tf.dispose([a, b]);
});

test('Gemm.sumRows equals a float64 sum over rows (ragged widths, one row, blocks of rows that do not divide)', async () => {
  await on('wasm');
  const backend = tf.backend() as unknown as BackendWasm;
  const g = gemmFor(backend)!;
  const rng = new Rng(11, 'sum-rows');
  for (const [rows, inner] of [
    [1, 5],
    [9, 3],
    [1000, 64],
    [3001, 7],
    [57, 2049],
  ]) {
    const xv = randomValues(rng, [rows, inner]);
    const x = tf.tensor2d(xv, [rows, inner]);
    const got = g.sumRows(backend.typedArrayFromHeap(x).byteOffset, rows, inner);
    for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += xv[r * inner + j];
      // float32 partial sums over blocks of ≥ 8 rows: error ≤ block·ε per block
      assert.ok(Math.abs(got[j] - s) <= 1e-5 * Math.sqrt(rows) + 1e-6, `${rows}×${inner} column ${j}: ${got[j]} vs ${s}`);
    }
    x.dispose();
  }
});
