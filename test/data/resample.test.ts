import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { resampleBilinear, resampleNormalized, type PixelBox, type RgbImage } from '../../src/data/resample.ts';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { Rng } from '../../src/rng.ts';
import { compileWat, RESAMPLE_WASM, RESAMPLE_WAT } from '../../scripts/wat.ts';

test('the committed resample.wasm is the compiled resample.wat (run `npm run build:wasm` after editing it)', async () => {
  const compiled = await compileWat(fs.readFileSync(RESAMPLE_WAT, 'utf8'));
  assert.deepEqual(new Uint8Array(fs.readFileSync(RESAMPLE_WASM)), compiled);
});

/**
 * Pillow's Resample.c for 8-bit RGB written out plainly (one output value at a time, no SIMD, whole output
 * then cropped to the window): the reference the WebAssembly kernels must equal on every shape. PIL itself
 * anchors it in pil-parity.test.ts.
 */
function referenceResample(src: RgbImage, box: PixelBox, outW: number, outH: number, win: PixelBox): Uint8Array {
  const axis = (inSize: number, outSize: number) => {
    const scale = inSize / outSize;
    const fscale = Math.max(scale, 1);
    return Array.from({ length: outSize }, (_, i) => {
      const center = (i + 0.5) * scale;
      const lo = Math.max(0, Math.trunc(center - fscale + 0.5));
      const hi = Math.min(inSize, Math.trunc(center + fscale + 0.5));
      const w: number[] = [];
      for (let x = lo; x < hi; x++) w.push(Math.max(0, 1 - Math.abs((x - center + 0.5) / fscale)));
      const total = w.reduce((a, b) => a + b, 0);
      return { lo, w: w.map((v) => Math.trunc((total ? v / total : v) * 2 ** 22 + 0.5)) };
    });
  };
  const clip = (s: number) => Math.min(255, Math.max(0, Math.floor(s / 2 ** 22)));
  const hx = axis(box.width, outW);
  const vy = axis(box.height, outH);
  const mid = new Uint8Array(box.height * outW * 3);
  for (let y = 0; y < box.height; y++)
    for (let x = 0; x < outW; x++)
      for (let c = 0; c < 3; c++) {
        let s = 2 ** 21;
        hx[x].w.forEach((k, t) => (s += src.data[((box.top + y) * src.width + box.left + hx[x].lo + t) * 3 + c] * k));
        mid[(y * outW + x) * 3 + c] = clip(s);
      }
  const out = new Uint8Array(win.width * win.height * 3);
  for (let y = 0; y < win.height; y++)
    for (let x = 0; x < win.width; x++)
      for (let c = 0; c < 3; c++) {
        const { lo, w } = vy[win.top + y];
        let s = 2 ** 21;
        w.forEach((k, t) => (s += mid[((lo + t) * outW + win.left + x) * 3 + c] * k));
        out[(y * win.width + x) * 3 + c] = clip(s);
      }
  return out;
}

function randomImage(rng: Rng, width: number, height: number): RgbImage {
  // Smooth ramps plus noise, saturated in places, so clamping at 0 and 255 is exercised too.
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(((i * 7) % 300) - 20 + rng.uniform(-40, 40))));
  return { data, width, height };
}

test('WebAssembly kernels equal the plain PIL port on 60 random shapes (shrink ×1–8, enlarge, odd widths, windows)', () => {
  const rng = new Rng(11, 'resample-test');
  const int = (lo: number, hi: number) => lo + Math.floor(rng.float() * (hi - lo + 1));
  for (let trial = 0; trial < 60; trial++) {
    const src = randomImage(rng, int(1, 97), int(1, 83));
    const bw = int(1, src.width);
    const bh = int(1, src.height);
    const box = { left: int(0, src.width - bw), top: int(0, src.height - bh), width: bw, height: bh };
    const outW = int(1, 61);
    const outH = int(1, 61);
    const ww = int(1, outW);
    const wh = int(1, outH);
    const win = { left: int(0, outW - ww), top: int(0, outH - wh), width: ww, height: wh };
    const got = resampleBilinear(src, box, outW, outH, win);
    assert.deepEqual(
      got.data,
      referenceResample(src, box, outW, outH, win),
      `trial ${trial}: ${JSON.stringify({ w: src.width, h: src.height, box, outW, outH, win })}`,
    );
  }
});

test('a source decoded into place (FilledSource) gives the same floats as a copied image; flip mirrors', () => {
  const src = randomImage(new Rng(3, 'resample-fill'), 50, 40);
  const box = { left: 5, top: 3, width: 37, height: 29 };
  const win = { left: 0, top: 0, width: 24, height: 24 };
  const a = new Float32Array(24 * 24 * 3);
  const b = new Float32Array(24 * 24 * 3 + 10);
  resampleNormalized(src, box, 24, 24, win, IMAGENET_RGB, false, a);
  resampleNormalized({ width: 50, height: 40, fill: (dst) => dst.set(src.data) }, box, 24, 24, win, IMAGENET_RGB, false, b, 10);
  assert.deepEqual(b.subarray(10), a);
  const flipped = new Float32Array(24 * 24 * 3);
  resampleNormalized(src, box, 24, 24, win, IMAGENET_RGB, true, flipped);
  for (let y = 0; y < 24; y += 5)
    for (let x = 0; x < 24; x += 3) {
      const at = (xx: number) => (y * 24 + xx) * 3;
      assert.deepEqual(flipped.subarray(at(x), at(x) + 3), a.subarray(at(23 - x), at(23 - x) + 3));
    }
  // Pixel values: the network input of the resampled bytes, by hand.
  const rgb = resampleBilinear(src, box, 24, 24, win).data;
  assert.ok(Math.abs(a[4] - (rgb[4] / 255 - 0.456) / 0.224) < 1e-6);
});

test('memory grows for a large image and later small calls still agree with the reference', () => {
  const rng = new Rng(5, 'resample-big');
  const big = randomImage(rng, 1200, 900);
  const box = { left: 100, top: 50, width: 1000, height: 800 };
  const win = { left: 0, top: 0, width: 20, height: 20 };
  assert.deepEqual(resampleBilinear(big, box, 20, 20, win).data, referenceResample(big, box, 20, 20, win));
  const small = randomImage(rng, 9, 7);
  const all = { left: 0, top: 0, width: 9, height: 7 };
  assert.deepEqual(resampleBilinear(small, all, 13, 5).data, referenceResample(small, all, 13, 5, { left: 0, top: 0, width: 13, height: 5 }));
});
