import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { InternalError } from '../../src/errors.ts';
import { DEFAULT_CROP_RANGE, drawTrainRandoms, randomsPerImage, trainParamsFromRandoms, type CropStyle } from '../../src/data/transforms.ts';
import { Rng } from '../../src/rng.ts';
import { BatchLoader, type LoadedBatch } from '../../src/data/loader.ts';
import { closeSharedDecoders } from '../../src/data/decode-pool.ts';
import { loadSample } from '../../src/data/datasets/sample.ts';
import { splitItems } from '../../src/data/check-manifest.ts';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { loadTrainImage } from '../../src/data/images.ts';

interface CropCase {
  width: number;
  height: number;
  /** Uniforms as integers k, u = k / steps. */
  k: number[];
  /** [left, top, width, height] */
  box: number[];
  flip: boolean;
}

// Made by scripts/fixtures/make_crop_fixtures.py: torchvision 0.14's own get_params / flip for 'torchvision',
// the 0.2.x algorithm for 'torchvision-0.2', both fed the same fixed uniforms.
const fixture = JSON.parse(fs.readFileSync(new URL('../fixtures/data/crop-params.json', import.meta.url), 'utf8')) as {
  steps: number;
  scale: number[];
  ratio: number[];
  cases: Record<CropStyle, CropCase[]>;
};

for (const style of ['torchvision', 'torchvision-0.2'] as const) {
  test(`crop style ${style}: every fixture box and flip equals the reference's from the same uniforms`, () => {
    assert.deepEqual(fixture.scale, DEFAULT_CROP_RANGE.scale);
    assert.deepEqual(fixture.ratio, DEFAULT_CROP_RANGE.ratio);
    const cases = fixture.cases[style];
    assert.equal(cases.length, 220);
    for (const [i, c] of cases.entries()) {
      const r = c.k.map((k) => k / fixture.steps);
      assert.equal(r.length, randomsPerImage(style));
      const p = trainParamsFromRandoms(r, c.width, c.height, true, DEFAULT_CROP_RANGE, style);
      assert.deepEqual([p.left, p.top, p.width, p.height, p.flip], [...c.box, c.flip], `case ${i} (${c.width}×${c.height})`);
    }
  });
}

test('crop-style fixtures exercise both fallbacks: a centred square (0.2) vs the ratio-clamped box (≥ 0.3)', () => {
  const wide = (style: CropStyle) => fixture.cases[style].filter((c) => c.width === 1000 && c.height === 10);
  assert.ok(wide('torchvision-0.2').every((c) => c.box.join() === '495,0,10,10'));
  assert.ok(wide('torchvision').every((c) => c.box.join() === '493,0,13,10'));
});

/** Uniforms for the 0.2 style: attempt k = (r[3k], r[3k+1], r[3k+2]), then top, left, flip. */
function randoms02(attempts: [number, number, number][], top: number, left: number, flip: number): number[] {
  const r = new Array<number>(randomsPerImage('torchvision-0.2')).fill(0.999);
  attempts.forEach((a, k) => r.splice(3 * k, 3, ...a));
  r.splice(30, 3, top, left, flip);
  return r;
}

test('torchvision-0.2 by hand: uniform aspect ratio, w/h swap when its uniform is < 0.5, position then flip', () => {
  // 500×375 (area 187500). Scale u = 0.5 → area fraction 0.54 → 101250 px²; ratio u = 0 → aspect 3/4 (uniform
  // and log-uniform agree at the ends): w = round(√75937.5) = round(275.57) = 276, h = round(√135000) = round(367.42) = 367.
  // Swap (u 0.3 < 0.5) → 367 × 276: top = ⌊0.5·(375−276+1)⌋ = 50, left = ⌊0.25·(500−367+1)⌋ = 33; flip u 0.2 → flip.
  const swapped = trainParamsFromRandoms(randoms02([[0.5, 0, 0.3]], 0.5, 0.25, 0.2), 500, 375, true, DEFAULT_CROP_RANGE, 'torchvision-0.2');
  assert.deepEqual([swapped.left, swapped.top, swapped.width, swapped.height, swapped.flip], [33, 50, 367, 276, true]);
  // No swap (u 0.7): 276 × 367 fits (367 ≤ 375): top = ⌊0.5·9⌋ = 4, left = ⌊0.25·225⌋ = 56; flip u 0.6 → none.
  const plain = trainParamsFromRandoms(randoms02([[0.5, 0, 0.7]], 0.5, 0.25, 0.6), 500, 375, true, DEFAULT_CROP_RANGE, 'torchvision-0.2');
  assert.deepEqual([plain.left, plain.top, plain.width, plain.height, plain.flip], [56, 4, 276, 367, false]);
  // Ratio u = 0.5: 0.2 takes aspect 3/4 + 0.5·(4/3 − 3/4) = 25/24 → w = round(√(101250·25/24)) = round(324.76) = 325,
  // h = round(√(101250·24/25)) = round(311.77) = 312. (≥ 0.3 would take e^0 = 1 → 318 × 318.)
  const mid = trainParamsFromRandoms(randoms02([[0.5, 0.5, 0.9]], 0, 0, 0.9), 500, 375, true, DEFAULT_CROP_RANGE, 'torchvision-0.2');
  assert.deepEqual([mid.width, mid.height], [325, 312]);
});

test('torchvision-0.2 by hand: a box that fits only after the swap is taken; none fitting → the largest centred square', () => {
  // 200×150, scale u = 1 → area 30000, ratio u = 0 → aspect 3/4: w = 150, h = 200 > 150: no fit. Swapped (u 0.1):
  // 200 × 150 = the whole image, top = left = 0.
  const p = trainParamsFromRandoms(randoms02([[1, 0, 0.1]], 0.7, 0.7, 0.9), 200, 150, true, DEFAULT_CROP_RANGE, 'torchvision-0.2');
  assert.deepEqual([p.left, p.top, p.width, p.height], [0, 0, 200, 150]);
  // Not swapped: attempt 1 fails, attempt 2 (scale u = 0 → 2400 px², aspect u = 1 → 4/3: w = round(56.57) = 57,
  // h = round(42.43) = 42, swap u 0.9 → none) fits: top = ⌊0.7·109⌋ = 76, left = ⌊0.7·144⌋ = 100.
  const q = trainParamsFromRandoms(
    randoms02(
      [
        [1, 0, 0.9],
        [0, 1, 0.9],
      ],
      0.7,
      0.7,
      0.9,
    ),
    200,
    150,
    true,
    DEFAULT_CROP_RANGE,
    'torchvision-0.2',
  );
  assert.deepEqual([q.left, q.top, q.width, q.height], [100, 76, 57, 42]);
  // 10×1000: every attempt needs both sides ≥ 24 px, so all ten fail → square 10, top = ⌊(1000−10)/2⌋ = 495.
  const tall = trainParamsFromRandoms(new Array(33).fill(0.5), 10, 1000, false, DEFAULT_CROP_RANGE, 'torchvision-0.2');
  assert.deepEqual([tall.left, tall.top, tall.width, tall.height, tall.flip], [0, 495, 10, 10, false]);
  // The default style's fallback for the same image clamps the aspect instead: 10 × round(10·4/3) = 10 × 13.
  const now = trainParamsFromRandoms(new Array(23).fill(0.5), 10, 1000, false);
  assert.deepEqual([now.left, now.top, now.width, now.height], [0, 493, 10, 13]);
});

test('each crop style draws a fixed count per image (23, 0.2: 33) and refuses uniforms drawn for the other style', () => {
  for (const [style, n] of [
    ['torchvision', 23],
    ['torchvision-0.2', 33],
  ] as const) {
    const a = new Rng(3, 'augment');
    assert.equal(drawTrainRandoms(a, style).length, n);
    const b = new Rng(3, 'augment');
    for (let i = 0; i < n; i++) b.float();
    assert.deepEqual(a.getState(), b.getState());
  }
  assert.throws(() => trainParamsFromRandoms(new Array(23).fill(0.5), 100, 100, true, DEFAULT_CROP_RANGE, 'torchvision-0.2'), InternalError);
});

test('BatchLoader with cropStyle torchvision-0.2: the worker threads crop each slot with the 0.2 box of its 33 uniforms', async () => {
  const items = splitItems(loadSample(), 'train').slice(0, 6);
  const spec = { indices: Int32Array.from([0, 1, 2, 3, 4, 5]), labels: new Int32Array(6) };
  const size = 24;
  const batches: LoadedBatch[] = [];
  try {
    const loader = new BatchLoader(
      items,
      [spec],
      size,
      IMAGENET_RGB,
      { train: true, flip: true, cropStyle: 'torchvision-0.2' },
      new Rng(6, 'augment'),
      2,
    );
    for await (const b of loader) batches.push(b);
  } finally {
    await closeSharedDecoders();
  }
  const rng = new Rng(6, 'augment');
  const px = size * size * 3;
  for (let slot = 0; slot < 6; slot++) {
    // The sample's images are 28×28.
    const params = trainParamsFromRandoms(drawTrainRandoms(rng, 'torchvision-0.2'), 28, 28, true, DEFAULT_CROP_RANGE, 'torchvision-0.2');
    const expected = await loadTrainImage(items[slot].path, size, IMAGENET_RGB, params);
    assert.deepEqual(batches[0].images.slice(slot * px, (slot + 1) * px), expected, `slot ${slot}`);
  }
});
