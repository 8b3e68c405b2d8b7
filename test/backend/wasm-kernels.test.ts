/**
 * The wasm training kernels against the cpu backend's kernels (the reference), on seeded random inputs
 * with odd sizes, strides 1/2/3, same/valid/explicit padding. Tolerance 1e-4 absolute on values of
 * magnitude ≲ 10.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectRows } from '../../src/losses/distances.ts';
import { Rng } from '../../src/rng.ts';
import { maxAbsDiff } from '../helpers/tf.ts';
import { setFilterGradStrategy } from '../../src/backend/kernels/conv2d-backprop-filter.ts';
import { axisPhases, setInputGradStrategy } from '../../src/backend/kernels/conv2d-backprop-input.ts';
import { setForwardConvStrategy } from '../../src/backend/kernels/conv2d-forward.ts';
import { initBothBackends, on, randomValues, runKernelOn, type KernelInput } from '../helpers/cross-backend.ts';

before(initBothBackends);

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
interface ConvCase {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  strides: [number, number];
  pad: Pad;
}

const convCases: ConvCase[] = [
  { x: [2, 7, 7, 5], k: [1, 1], cout: 6, strides: [1, 1], pad: 'valid' },
  { x: [2, 7, 6, 9], k: [1, 1], cout: 4, strides: [2, 2], pad: 'valid' }, // ResNet downsample, odd H
  { x: [2, 9, 9, 3], k: [1, 1], cout: 5, strides: [2, 2], pad: 1 }, // explicit pad on a 1×1
  { x: [3, 7, 7, 4], k: [3, 3], cout: 5, strides: [1, 1], pad: 'same' },
  { x: [2, 9, 8, 4], k: [3, 3], cout: 6, strides: [2, 2], pad: 1 }, // ResNet 3×3 stride 2
  { x: [2, 9, 9, 3], k: [3, 3], cout: 4, strides: [2, 2], pad: 'same' },
  { x: [2, 11, 11, 3], k: [7, 7], cout: 4, strides: [2, 2], pad: 3 }, // ResNet stem
  { x: [2, 8, 7, 3], k: [2, 2], cout: 3, strides: [2, 2], pad: 'same' }, // asymmetric 'same' padding
  { x: [1, 10, 9, 2], k: [5, 3], cout: 3, strides: [2, 1], pad: 'valid' },
  {
    x: [2, 10, 10, 3],
    k: [3, 3],
    cout: 2,
    strides: [3, 3],
    pad: [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ],
  },
  { x: [1, 6, 6, 2], k: [5, 5], cout: 3, strides: [1, 1], pad: 4 }, // pad ≥ k−1: negative pads in dx
];

function convOutShape(c: ConvCase): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.cout], c.strides, 1, c.pad);
  return info.outShape as [number, number, number, number];
}

function label(c: ConvCase): string {
  return `x${c.x.join('x')} k${c.k.join('x')} s${c.strides.join('')} pad ${JSON.stringify(c.pad)}`;
}

async function compare(kernel: string, inputs: Record<string, KernelInput>, attrs: Record<string, unknown>, what: string) {
  const [ref] = await runKernelOn('cpu', kernel, inputs, attrs);
  const [got] = await runKernelOn('wasm', kernel, inputs, attrs);
  assert.deepEqual(got.shape, ref.shape, `${what}: shape`);
  const d = maxAbsDiff(got.values, ref.values);
  assert.ok(d <= 1e-4, `${what}: max |wasm − cpu| = ${d}`);
  // Guard against comparing two all-zero results.
  assert.ok(
    ref.values.some((v) => Math.abs(v) > 1e-3),
    `${what}: reference is all zeros`,
  );
}

for (const strategy of ['im2col', 'dilated-conv', 'ours'] as const) {
  test(`Conv2DBackpropFilter (${strategy}) matches cpu on odd shapes, strides and paddings`, async () => {
    setFilterGradStrategy(strategy);
    try {
      const rng = new Rng(11, 'filter-grad');
      for (const c of convCases) {
        const x = { values: randomValues(rng, c.x), shape: c.x };
        const dyShape = convOutShape(c);
        const dy = { values: randomValues(rng, dyShape), shape: dyShape };
        const filterShape = [...c.k, c.x[3], c.cout];
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape };
        await compare('Conv2DBackpropFilter', { x, dy }, attrs, `${strategy} ${label(c)}`);
      }
    } finally {
      setFilterGradStrategy('auto');
    }
  });
}

for (const strategy of ['conv', 'gemm', 'ours'] as const) {
  test(`Conv2DBackpropInput (${strategy}) matches cpu on odd shapes, strides and paddings`, async () => {
    setInputGradStrategy(strategy);
    try {
      const rng = new Rng(12, 'input-grad');
      for (const c of convCases) {
        const dyShape = convOutShape(c);
        const dy = { values: randomValues(rng, dyShape), shape: dyShape };
        const filterShape = [...c.k, c.x[3], c.cout];
        const filter = { values: randomValues(rng, filterShape), shape: filterShape };
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
        await compare('Conv2DBackpropInput', { dy, filter }, attrs, `${strategy} ${label(c)}`);
      }
    } finally {
      setInputGradStrategy('auto');
    }
  });
}

for (const strategy of ['transposed', 'stock', 'gemm'] as const) {
  test(`Conv2D and FusedConv2D (bias, linear/ReLU) forward (${strategy}) match cpu on odd shapes, strides and paddings`, async () => {
    setForwardConvStrategy(strategy);
    try {
      const rng = new Rng(13, 'forward-conv');
      for (const c of convCases) {
        const x = { values: randomValues(rng, c.x), shape: c.x };
        const filterShape = [...c.k, c.x[3], c.cout];
        const filter = { values: randomValues(rng, filterShape), shape: filterShape };
        const bias = { values: randomValues(rng, [c.cout]), shape: [c.cout] };
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
        await compare('Conv2D', { x, filter }, attrs, `${strategy} Conv2D ${label(c)}`);
        for (const activation of ['relu', 'linear']) {
          await compare('FusedConv2D', { x, filter, bias }, { ...attrs, activation }, `${strategy} FusedConv2D ${activation} ${label(c)}`);
        }
      }
    } finally {
      setForwardConvStrategy('auto');
    }
  });
}

test('axisPhases: stride 2, pad 1, k 3 splits rows into even (tap 1) and odd (taps 2,0) phases', () => {
  // dx[2Q] = dy[Q]·W[1];  dx[2Q+1] = dy[Q]·W[2] + dy[Q+1]·W[0]  (worked by hand from o·2 + t − 1 = i)
  assert.deepEqual(axisPhases(8, 3, 2, 1), [
    { rho: 0, count: 4, taps: [1], offset: 0 },
    { rho: 1, count: 4, taps: [2, 0], offset: 0 },
  ]);
  // Stride 1 is one phase with the flipped filter: dx[i] = Σ_u dy[i − 1 + u]·W[2 − u].
  assert.deepEqual(axisPhases(5, 3, 1, 1), [{ rho: 0, count: 5, taps: [2, 1, 0], offset: -1 }]);
});

test('Slice and SplitV match cpu for ranks 1–5 and partial/whole trailing dims', async () => {
  const rng = new Rng(14, 'slice');
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [10], begin: [3], size: [5] },
    { shape: [4, 6], begin: [1, 0], size: [2, 6] },
    { shape: [4, 6], begin: [1, 2], size: [3, 3] },
    { shape: [2, 5, 6, 3], begin: [0, 1, 1, 0], size: [2, 3, 4, 3] },
    { shape: [3, 4, 5, 2, 3], begin: [1, 0, 2, 1, 1], size: [2, 4, 2, 1, 2] },
    { shape: [3, 4], begin: [1, 1], size: [0, 2] },
  ];
  for (const c of cases) {
    const x = { values: randomValues(rng, c.shape), shape: c.shape };
    const [ref] = await runKernelOn('cpu', 'Slice', { x }, { begin: c.begin, size: c.size });
    const [got] = await runKernelOn('wasm', 'Slice', { x }, { begin: c.begin, size: c.size });
    assert.deepEqual(got.shape, ref.shape);
    assert.deepEqual(Array.from(got.values), Array.from(ref.values), `slice ${JSON.stringify(c)}`);
  }
  const x = { values: randomValues(rng, [2, 3, 7, 2]), shape: [2, 3, 7, 2] };
  const attrs = { numOrSizeSplits: [2, 4, 1], axis: 2 };
  const ref = await runKernelOn('cpu', 'SplitV', { x }, attrs);
  const got = await runKernelOn('wasm', 'SplitV', { x }, attrs);
  assert.equal(got.length, 3);
  got.forEach((g, i) => assert.deepEqual(Array.from(g.values), Array.from(ref[i].values)));
});

test('Sum over leading axes (bias gradients) and other axes matches cpu', async () => {
  const rng = new Rng(17, 'sum');
  const x = { values: randomValues(rng, [3, 5, 7, 6]), shape: [3, 5, 7, 6] }; // 105 rows: 13 sweeps of 8 + 1
  for (const [axis, keepDims] of [
    [[0, 1, 2], false],
    [[2, 0, 1], true],
    [0, false],
    [[1, 2], false],
    [[0, 1, 2, 3], false],
    [3, true],
  ] as const) {
    await compare('Sum', { x }, { axis, keepDims }, `sum axis ${JSON.stringify(axis)} keepDims ${keepDims}`);
  }
});

test('MaxPoolGrad matches cpu (padding, strides, ceil-mode sizes, windows cut by the edge)', async () => {
  const rng = new Rng(18, 'maxpool-grad');
  const cases: { x: number[]; filterSize: number; strides: number; pad: 'same' | 'valid' | number; dimRoundingMode?: 'ceil' }[] = [
    { x: [2, 9, 9, 5], filterSize: 3, strides: 2, pad: 1 }, // ResNet stem pool
    { x: [1, 7, 8, 3], filterSize: 3, strides: 2, pad: 'valid', dimRoundingMode: 'ceil' },
    { x: [2, 6, 6, 4], filterSize: 2, strides: 2, pad: 'same' },
    { x: [1, 5, 5, 2], filterSize: 3, strides: 1, pad: 'same' }, // 2 channels: the JavaScript walk
  ];
  for (const c of cases) {
    const x = { values: randomValues(rng, c.x), shape: c.x };
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
    const [y] = await runKernelOn('cpu', 'MaxPool', { x }, attrs);
    const dy = { values: randomValues(rng, y.shape), shape: y.shape };
    await compare('MaxPoolGrad', { dy, input: x, output: { values: y.values, shape: y.shape } }, attrs, `maxPoolGrad ${JSON.stringify(c)}`);
  }
});

test('depthwise conv gradients (cpu fallback) match cpu', async () => {
  const rng = new Rng(15, 'depthwise');
  const x = { values: randomValues(rng, [2, 7, 7, 3]), shape: [2, 7, 7, 3] };
  const filterShape = [3, 3, 3, 2];
  const dy = { values: randomValues(rng, [2, 4, 4, 6]), shape: [2, 4, 4, 6] };
  const filter = { values: randomValues(rng, filterShape), shape: filterShape };
  const common = { strides: [2, 2], pad: 1, dilations: [1, 1] };
  await compare('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape }, 'dw filter');
  await compare('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: x.shape }, 'dw input');
});

/**
 * A small net using every op our architectures train through (strided and 1×1 convs, explicit pad,
 * maxPool/avgPool with padding, concat, relu, mean, matMul, the losses' row picks): all parameter gradients on wasm
 * equal the cpu ones.
 */
function smallNet(params: Record<string, tf.Variable>, images: tf.Tensor4D): tf.Scalar {
  const w = (k: string) => params[k] as unknown as tf.Tensor4D;
  return tf.tidy(() => {
    let h: tf.Tensor4D = tf.relu(
      tf.conv2d(images, w('stem'), 2, [
        [0, 0],
        [2, 1],
        [2, 1],
        [0, 0],
      ]),
    );
    h = tf.maxPool(h, 3, 2, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    const a = tf.fused.conv2d({ x: h, filter: w('a'), strides: 1, pad: 0, bias: params.bias, activation: 'relu' });
    const b = tf.relu(tf.conv2d(tf.relu(tf.conv2d(h, w('b1'), 1, 'valid')), w('b2'), 1, 'same'));
    const c = tf.avgPool(
      tf.pad(h, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
      3,
      1,
      'valid',
    );
    h = tf.concat([a, b, c], 3);
    h = tf.relu(tf.add(h, tf.conv2d(h, w('mix'), 1, 'same').mul(0.1))) as tf.Tensor4D;
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const emb = tf.matMul(pooled, params.head as unknown as tf.Tensor2D) as tf.Tensor2D;
    const picked = selectRows(emb, Int32Array.from([0, 2, 2, 1]));
    return tf.sum(tf.square(picked)).add(tf.sum(tf.mul(emb, emb.reverse(0)))) as tf.Scalar;
  });
}

test('gradients of a small inception/resnet-like net are equal on wasm and cpu', async () => {
  const rng = new Rng(16, 'net');
  const shapes: Record<string, number[]> = {
    stem: [5, 5, 3, 6],
    a: [1, 1, 6, 4],
    bias: [4],
    b1: [1, 1, 6, 3],
    b2: [3, 3, 3, 5],
    mix: [3, 3, 15, 15],
    head: [15, 4],
  };
  const values = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, randomValues(rng, s).map((v) => v * 0.5)]));
  const images = randomValues(rng, [3, 17, 15, 3]);
  const run = async (backend: 'cpu' | 'wasm') => {
    await on(backend);
    const params = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.variable(tf.tensor(values[k], s), true, `${backend}.${k}`)]));
    const x = tf.tensor4d(images, [3, 17, 15, 3]);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => smallNet(params, x), Object.values(params));
    const out = {
      loss: value.dataSync()[0],
      grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k.split('.')[1], g.dataSync().slice()])),
    };
    tf.dispose([value, ...Object.values(grads)]);
    const leaked = tf.memory().numTensors - before;
    tf.dispose([x, ...Object.values(params)]);
    return { ...out, leaked };
  };
  const ref = await run('cpu');
  const got = await run('wasm');
  assert.ok(Math.abs(got.loss - ref.loss) <= 1e-4 * Math.max(1, Math.abs(ref.loss)), `loss ${got.loss} vs ${ref.loss}`);
  for (const k of Object.keys(shapes)) {
    const scale = Math.max(1, ...Array.from(ref.grads[k], Math.abs));
    const d = maxAbsDiff(got.grads[k], ref.grads[k]);
    assert.ok(d <= 1e-4 * scale, `grad ${k}: max diff ${d} (scale ${scale})`);
  }
  assert.equal(got.leaked, 0, 'tensors leaked on wasm');
});

test('the composed kernels free every intermediate on the wasm heap', async () => {
  await on('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.randomUniform([2, 9, 9, 4]) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 4, 5]) as tf.Tensor4D;
  const step = () => {
    const gx = tf.grad((xx) =>
      tf
        .conv2d(xx as tf.Tensor4D, w, 2, 1)
        .square()
        .sum(),
    )(x);
    const gw = tf.grad((ww) =>
      tf
        .conv2d(x, ww as tf.Tensor4D, 2, 1)
        .square()
        .sum(),
    )(w);
    tf.dispose([gx, gw]);
  };
  step();
  const ids = backend.numDataIds();
  const tensors = tf.memory().numTensors;
  step();
  step();
  assert.equal(backend.numDataIds(), ids);
  assert.equal(tf.memory().numTensors, tensors);
  tf.dispose([x, w]);
});

test('Identity and a cast to the same dtype share the data (counted references); other casts convert; ReLU gradients equal cpu', async () => {
  await on('wasm');
  const x = tf.tensor1d([-1.5, 0, 2.25, -0, 3]);
  const same = tf.cast(x, 'float32');
  const id = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
  assert.equal(same.dataId, x.dataId);
  assert.equal(id.dataId, x.dataId);
  x.dispose();
  // Still readable after the original is gone: each holds its own reference.
  assert.deepEqual(Array.from(same.dataSync()), [-1.5, 0, 2.25, -0, 3]);
  assert.deepEqual(Array.from(id.dataSync()), [-1.5, 0, 2.25, -0, 3]);
  const asInt = tf.cast(same, 'int32');
  assert.notEqual(asInt.dataId, same.dataId);
  assert.deepEqual(Array.from(asInt.dataSync()), [-1, 0, 2, 0, 3]);
  const fromBool = tf.cast(tf.tensor1d([true, false, true], 'bool'), 'float32');
  assert.deepEqual(Array.from(fromBool.dataSync()), [1, 0, 1]);
  tf.dispose([same, id, asInt, fromBool]);

  const v = [-2, -0.5, 0.25, 3, -1, 4];
  const grad = async (backend: 'cpu' | 'wasm') => {
    await on(backend);
    const t = tf.tensor1d(v);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), tf.tensor1d([1, 2, 3, 4, 5, 6]))))(t);
    const out = Array.from(g.dataSync());
    tf.dispose([t, g]);
    return out;
  };
  assert.deepEqual(await grad('wasm'), await grad('cpu'));
  assert.deepEqual(await grad('wasm'), [0, 0, 3, 4, 0, 6]);
});

test('gatherWindow and scatterWindow equal a per-pixel loop (padding either side, crops, stride 1 and 2, windows wider than the map)', async () => {
  await on('wasm');
  const { withScope } = await import('../../src/backend/kernels/wasm-scope.ts');
  const { gatherWindow, scatterWindow } = await import('../../src/backend/kernels/heap-layout.ts');
  const backend = tf.backend() as unknown as import('@tensorflow/tfjs-backend-wasm').BackendWasm;
  const rng = new Rng(12, 'windows');
  const [n, h, w, c] = [2, 5, 7, 3];
  const xv = randomValues(rng, [n, h, w, c]);
  const x = tf.tensor4d(xv, [n, h, w, c]);
  for (const win of [
    { offH: -1, offW: -1, strideH: 1, strideW: 1, outH: 7, outW: 9 },
    { offH: -2, offW: -3, strideH: 1, strideW: 1, outH: 4, outW: 14 },
    { offH: 1, offW: 2, strideH: 1, strideW: 1, outH: 3, outW: 4 },
    { offH: 0, offW: 5, strideH: 1, strideW: 1, outH: 2, outW: 6 },
    { offH: -1, offW: -1, strideH: 2, strideW: 2, outH: 4, outW: 5 },
  ]) {
    const pixel = (b: number, i: number, j: number) => {
      const r = win.offH + i * win.strideH;
      const q = win.offW + j * win.strideW;
      return r >= 0 && r < h && q >= 0 && q < w ? ((b * h + r) * w + q) * c : -1;
    };
    const y = tf.engine().makeTensorFromTensorInfo(withScope(backend, (s) => gatherWindow(s, x, win)));
    const yv = y.dataSync();
    const back = tf.engine().makeTensorFromTensorInfo(
      withScope(backend, (s) => {
        const out = s.alloc([n, h, w, c], true);
        scatterWindow(s, out, y, win);
        return out;
      }),
    );
    const bv = back.dataSync();
    const expectBack = new Float32Array(n * h * w * c);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < win.outH; i++)
        for (let j = 0; j < win.outW; j++)
          for (let ch = 0; ch < c; ch++) {
            const at = pixel(b, i, j);
            const got = yv[((b * win.outH + i) * win.outW + j) * c + ch];
            assert.equal(got, at < 0 ? 0 : xv[at + ch], `gather ${JSON.stringify(win)} at ${b},${i},${j},${ch}`);
            if (at >= 0) expectBack[at + ch] = xv[at + ch];
          }
    assert.deepEqual(Array.from(bv), Array.from(expectBack), `scatter ${JSON.stringify(win)}`);
    tf.dispose([y, back]);
  }
  x.dispose();
});
