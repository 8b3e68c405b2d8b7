/**
 * Every distinct convolution of ResNet50, GoogLeNet and BN-Inception at 32, 64 and 224 px (batch 1; the list is
 * test/fixtures/backend/conv-layer-shapes.json, recorded by scripts/conv-layer-shapes.ts) through our GEMM
 * routes — forward, filter gradient, input gradient — against a float64 reference computed from the definition
 * of a convolution. The cpu backend cannot be the reference at these sizes (its filter gradient of one 3×3
 * 64-channel layer at 56×56 takes minutes), so each output is checked at 40 positions (the first, the last and
 * seeded random ones) with the float32 tolerance 1e-5 · Σ|terms|. Odd sizes and 1-wide edges are compared with
 * the cpu backend in full in gemm.test.ts and wasm-kernels.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { readConvLayerShapes } from '../../scripts/conv-layer-shapes.ts';
import { setForwardConvStrategy } from '../../src/backend/kernels/conv2d-forward.ts';
import { setFilterGradStrategy } from '../../src/backend/kernels/conv2d-backprop-filter.ts';
import { setInputGradStrategy } from '../../src/backend/kernels/conv2d-backprop-input.ts';
import { Rng } from '../../src/rng.ts';
import { initBothBackends, on } from '../helpers/cross-backend.ts';

before(async () => {
  await initBothBackends();
  await on('wasm');
  setForwardConvStrategy('gemm');
  setFilterGradStrategy('ours');
  setInputGradStrategy('ours');
});
after(() => {
  setForwardConvStrategy('auto');
  setFilterGradStrategy('auto');
  setInputGradStrategy('auto');
});

const SAMPLES = 40;
const rng = new Rng(20, 'gemm-layers');
// One pool of seeded values in [-1, 1); each tensor is a window of it (fresh random data per tensor would cost
// more than the convolutions).
const POOL = Float32Array.from({ length: 1 << 22 }, () => rng.uniform(-1, 1));
function values(n: number): Float32Array {
  const at = Math.floor(rng.uniform(0, POOL.length - n));
  return POOL.subarray(at, at + n);
}

/** Positions to check in a tensor of `size` values: first, last, the rest seeded random. */
function positions(size: number): number[] {
  const out = [0, size - 1];
  while (out.length < Math.min(SAMPLES, size)) out.push(Math.floor(rng.uniform(0, size)));
  return out;
}

function check(what: string, got: ArrayLike<number>, at: number, ref: { sum: number; mag: number }): void {
  const tol = 1e-5 * ref.mag + 1e-7;
  if (!(Math.abs(got[at] - ref.sum) <= tol)) assert.fail(`${what} at ${at}: ${got[at]} vs float64 ${ref.sum} (tolerance ${tol})`);
}

const shapes = readConvLayerShapes();
const distinct = new Map(shapes.map((s) => [JSON.stringify([s.x, s.filter, s.strides, s.pad]), s]));

for (const size of [32, 64, 224]) {
  test(`every ResNet50/GoogLeNet/BN-Inception convolution at ${size} px: forward and both gradients on our GEMM match float64`, () => {
    let count = 0;
    for (const s of distinct.values()) {
      if (s.size !== size) continue;
      count++;
      const [n, h, w, cin] = s.x;
      const [kh, kw, , cout] = s.filter;
      const info = tf.backend_util.computeConv2DInfo(
        s.x as [number, number, number, number],
        s.filter as [number, number, number, number],
        s.strides,
        1,
        s.pad as never,
      );
      const { top, left } = info.padInfo;
      const [sh, sw] = s.strides;
      const ho = info.outHeight;
      const wo = info.outWidth;
      const xv = values(n * h * w * cin);
      const fv = values(kh * kw * cin * cout).map((v) => v * 0.1);
      const dyv = values(n * ho * wo * cout);
      const label = `${s.arch} ${size}px x${s.x.join('x')} f${s.filter.join('x')} s${sh} pad ${JSON.stringify(s.pad)}`;
      const x = tf.tensor4d(xv, s.x as [number, number, number, number]);
      const filter = tf.tensor4d(fv, s.filter as [number, number, number, number]);
      const dy = tf.tensor4d(dyv, [n, ho, wo, cout]);
      const X = (b: number, r: number, c: number, ci: number) => (r < 0 || r >= h || c < 0 || c >= w ? 0 : xv[((b * h + r) * w + c) * cin + ci]);
      const W = (ti: number, tj: number, ci: number, co: number) => fv[((ti * kw + tj) * cin + ci) * cout + co];

      const y = tf.conv2d(x, filter, s.strides, s.pad as never).dataSync();
      for (const at of positions(y.length)) {
        const co = at % cout;
        const j = Math.floor(at / cout) % wo;
        const i = Math.floor(at / (cout * wo)) % ho;
        const b = Math.floor(at / (cout * wo * ho));
        let sum = 0;
        let mag = 0;
        for (let ti = 0; ti < kh; ti++) {
          for (let tj = 0; tj < kw; tj++) {
            for (let ci = 0; ci < cin; ci++) {
              const t = X(b, i * sh - top + ti, j * sw - left + tj, ci) * W(ti, tj, ci, co);
              sum += t;
              mag += Math.abs(t);
            }
          }
        }
        check(`${label} forward`, y, at, { sum, mag });
      }

      const dw = tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s.strides, pad: s.pad, dataFormat: 'NHWC', filterShape: s.filter }) as tf.Tensor;
      const dwv = dw.dataSync();
      for (const at of positions(dwv.length)) {
        const co = at % cout;
        const ci = Math.floor(at / cout) % cin;
        const tj = Math.floor(at / (cout * cin)) % kw;
        const ti = Math.floor(at / (cout * cin * kw));
        let sum = 0;
        let mag = 0;
        for (let b = 0; b < n; b++) {
          for (let i = 0; i < ho; i++) {
            for (let j = 0; j < wo; j++) {
              const t = X(b, i * sh - top + ti, j * sw - left + tj, ci) * dyv[((b * ho + i) * wo + j) * cout + co];
              sum += t;
              mag += Math.abs(t);
            }
          }
        }
        check(`${label} filter gradient`, dwv, at, { sum, mag });
      }

      const dx = tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter }, { strides: s.strides, pad: s.pad, dataFormat: 'NHWC', inputShape: s.x }) as tf.Tensor;
      const dxv = dx.dataSync();
      for (const at of positions(dxv.length)) {
        const ci = at % cin;
        const c = Math.floor(at / cin) % w;
        const r = Math.floor(at / (cin * w)) % h;
        const b = Math.floor(at / (cin * w * h));
        let sum = 0;
        let mag = 0;
        for (let ti = 0; ti < kh; ti++) {
          const iNum = r + top - ti;
          if (iNum < 0 || iNum % sh !== 0 || iNum / sh >= ho) continue;
          for (let tj = 0; tj < kw; tj++) {
            const jNum = c + left - tj;
            if (jNum < 0 || jNum % sw !== 0 || jNum / sw >= wo) continue;
            const base = ((b * ho + iNum / sh) * wo + jNum / sw) * cout;
            for (let co = 0; co < cout; co++) {
              const t = dyv[base + co] * W(ti, tj, ci, co);
              sum += t;
              mag += Math.abs(t);
            }
          }
        }
        check(`${label} input gradient`, dxv, at, { sum, mag });
      }
      tf.dispose([x, filter, dy, dw, dx]);
    }
    assert.ok(count >= 90, `${count} convolutions at ${size} px`);
  });
}
