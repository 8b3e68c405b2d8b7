import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawTrainParams, evalGeometry, RANDOMS_PER_IMAGE, roundHalfEven, trainParamsFromRandoms } from '../../src/data/transforms.ts';
import { normalizeInto } from '../../src/data/resample.ts';
import { IMAGENET_RGB, type InputConvention } from '../../src/data/image-convention.ts';
import { Rng } from '../../src/rng.ts';

test('roundHalfEven matches Python round()', () => {
  // Python: [round(x) for x in (0.5, 1.5, 2.5, 2.4999, 2.5001, 306.5, 307.5)] == [0, 2, 2, 2, 3, 306, 308]
  assert.deepEqual([0.5, 1.5, 2.5, 2.4999, 2.5001, 306.5, 307.5].map(roundHalfEven), [0, 2, 2, 2, 3, 306, 308]);
});

/** Uniforms for `trainParamsFromRandoms`: attempt k = (r[2k], r[2k+1]), then top, left, flip. */
function randoms(attempts: [number, number][], top = 0, left = 0, flip = 0.9): Float64Array {
  const r = new Float64Array(RANDOMS_PER_IMAGE).fill(0.999); // unused attempts: irrelevant
  attempts.forEach(([s, a], k) => ((r[2 * k] = s), (r[2 * k + 1] = a)));
  r[20] = top;
  r[21] = left;
  r[22] = flip;
  return r;
}

test('trainParamsFromRandoms follows torchvision: retry when too large, then position, then flip', () => {
  // 500×375 image (area 187500). Attempt 1: scale u=1 → fraction 1, ratio u=0 → aspect 3/4:
  // w = round(√(187500·3/4)) = 375, h = round(√(187500/(3/4))) = 500 > 375 → retry.
  // Attempt 2: scale u=0.5 → area fraction 0.54, ratio u=0.5 → aspect 1: w = h = round(√(0.54·187500)) = round(318.198) = 318.
  // top = ⌊0.5 · (375−318+1)⌋ = 29, left = ⌊0.25 · (500−318+1)⌋ = 45; flip uniform 0.3 < 0.5 → flip.
  const p = trainParamsFromRandoms(
    randoms(
      [
        [1, 0],
        [0.5, 0.5],
      ],
      0.5,
      0.25,
      0.3,
    ),
    500,
    375,
  );
  assert.deepEqual(p, { left: 45, top: 29, width: 318, height: 318, flip: true, srcWidth: 500, srcHeight: 375 });
  assert.equal(
    trainParamsFromRandoms(
      randoms(
        [
          [1, 0],
          [0.5, 0.5],
        ],
        0.5,
        0.25,
        0.3,
      ),
      500,
      375,
      false,
    ).flip,
    false,
  );
  assert.equal(trainParamsFromRandoms(randoms([[0.5, 0.5]], 0.5, 0.25, 0.7), 500, 375).flip, false);
});

test('trainParamsFromRandoms fallback after 10 failed attempts: centred box with clamped aspect', () => {
  // 1000×10: every attempt with scale ≥ 0.08 needs h ≥ √(800·3/4) ≈ 24.5 > 10, so all 10 fail.
  // Fallback: ratio 100 > 4/3 → h = 10, w = round(10·4/3) = 13, left = ⌊(1000−13)/2⌋ = 493, top = 0.
  const r = new Float64Array(RANDOMS_PER_IMAGE).fill(0.5);
  assert.deepEqual(trainParamsFromRandoms(r, 1000, 10, false), {
    left: 493,
    top: 0,
    width: 13,
    height: 10,
    flip: false,
    srcWidth: 1000,
    srcHeight: 10,
  });
  // Tall image: 10×1000 → w = 10, h = round(10/(3/4)) = 13, top = ⌊(1000−13)/2⌋ = 493.
  const tall = trainParamsFromRandoms(r, 10, 1000, false);
  assert.deepEqual([tall.left, tall.top, tall.width, tall.height], [0, 493, 10, 13]);
});

test('drawTrainRandoms always consumes the same number of draws, whatever the image', () => {
  const a = new Rng(3, 'augment');
  const b = new Rng(3, 'augment');
  drawTrainParams(a, 1000, 10); // fallback path
  drawTrainParams(b, 500, 375); // first attempt usually fits
  assert.deepEqual(a.getState(), b.getState());
  const c = new Rng(3, 'augment');
  for (let i = 0; i < RANDOMS_PER_IMAGE; i++) c.float();
  assert.deepEqual(c.getState(), a.getState());
});

test('drawTrainParams over 20,000 draws: area fraction in [0.08, 1], aspect in [3/4, 4/3], inside the image, flips ~50%', () => {
  const rng = new Rng(1, 'augment');
  const W = 500;
  const H = 375;
  let flips = 0;
  let minArea = Infinity;
  let maxArea = 0;
  let minLeft = Infinity;
  let maxRight = 0;
  for (let i = 0; i < 20000; i++) {
    const p = drawTrainParams(rng, W, H);
    const area = (p.width * p.height) / (W * H);
    const aspect = p.width / p.height;
    // w and h are rounded to whole pixels: allow that rounding in both checks.
    const slack = (p.width + p.height + 1) / (W * H);
    assert.ok(area >= 0.08 - slack && area <= 1, `area ${area}`);
    const lo = (p.width - 0.5) / (p.height + 0.5);
    const hi = (p.width + 0.5) / (p.height - 0.5);
    assert.ok(hi >= 3 / 4 && lo <= 4 / 3, `aspect ${aspect}`);
    assert.ok(p.left >= 0 && p.top >= 0 && p.left + p.width <= W && p.top + p.height <= H);
    minArea = Math.min(minArea, area);
    maxArea = Math.max(maxArea, area);
    minLeft = Math.min(minLeft, p.left);
    maxRight = Math.max(maxRight, p.left + p.width);
    if (p.flip) flips++;
  }
  assert.ok(minArea < 0.085 && maxArea > 0.95, `area range ${minArea}..${maxArea} covers the scale range`);
  assert.ok(minLeft === 0 && maxRight === W, 'positions reach both edges');
  assert.ok(Math.abs(flips / 20000 - 0.5) < 0.015, `flip rate ${flips / 20000}`);
});

test('evalGeometry: shorter side → round(size·256/224), longer ⌊S·long/short⌋, crop at Python-rounded centre', () => {
  // 500×375 at 224: S = 256, W = ⌊256·500/375⌋ = 341, left = round(58.5) = 58 (ties to even), top = 16.
  assert.deepEqual(evalGeometry(500, 375, 224), { resizeWidth: 341, resizeHeight: 256, left: 58, top: 16 });
  assert.deepEqual(evalGeometry(375, 500, 224), { resizeWidth: 256, resizeHeight: 341, left: 16, top: 58 });
  // size 64: S = round(73.14) = 73; 100×100 → 73×73, offset round(4.5) = 4.
  assert.deepEqual(evalGeometry(100, 100, 64), { resizeWidth: 73, resizeHeight: 73, left: 4, top: 4 });
});

test('normalizeInto: ImageNet RGB and BGR/0-255 conventions, values by hand; flip mirrors columns', () => {
  // 2×2 image, pixels (R,G,B): (255,0,0) (0,255,0) / (0,0,255) (128,128,128)
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128]);
  const out = new Float32Array(12);
  normalizeInto(rgb, 2, IMAGENET_RGB, false, out);
  // pixel 0 R: (1 − 0.485)/0.229 = 2.2489; G: −0.456/0.224 = −2.0357; B: −0.406/0.225 = −1.8044
  const expect0 = [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225];
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(out[c] - expect0[c]) < 1e-5);
  assert.ok(Math.abs(out[9] - (128 / 255 - 0.485) / 0.229) < 1e-5);

  const caffe: InputConvention = { order: 'BGR', scale: 255, mean: [104, 117, 128], std: [1, 1, 1] };
  normalizeInto(rgb, 2, caffe, false, out);
  // BGR order, 0–255: pixel 0 (R 255) → [B 0−104, G 0−117, R 255−128]; pixel 1 (G 255) → [−104, 255−117, −128]
  assert.deepEqual(Array.from(out.slice(0, 6)), [-104, -117, 127, -104, 138, -128]);

  const flipped = new Float32Array(12);
  normalizeInto(rgb, 2, caffe, true, flipped);
  // Row 0 columns swapped, row 1 columns swapped.
  assert.deepEqual(Array.from(flipped.slice(0, 3)), Array.from(out.slice(3, 6)));
  assert.deepEqual(Array.from(flipped.slice(3, 6)), Array.from(out.slice(0, 3)));
  assert.deepEqual(Array.from(flipped.slice(6, 9)), Array.from(out.slice(9, 12)));
});
