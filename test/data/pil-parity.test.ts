import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { decodeRgb, jpegDecoderName, type JpegDecoderChoice } from '../../src/data/decode.ts';
import { evalRgb, trainRgb } from '../../src/data/images.ts';

// Fixture made by scripts/fixtures/make_data_fixtures.py with Debian's torchvision 0.14 / PIL 9.4: the same
// 120×90 picture as PNG and as a PIL-encoded JPEG, with PIL's decode, eval transforms and train crops.
const dir = new URL('../fixtures/data/', import.meta.url);
interface TrainCase {
  top: number;
  left: number;
  height: number;
  width: number;
  size: number;
  rgb: number[];
}
interface InputRefs {
  decoded: number[];
  eval: Record<string, number[]>;
  train: TrainCase[];
}
const ref = JSON.parse(fs.readFileSync(new URL('pil-reference.json', dir), 'utf8')) as {
  width: number;
  height: number;
  inputs: Record<string, InputRefs>;
};
const input = (name: string) => new URL(name, dir).pathname;

/** Mean and max absolute difference in grey levels. */
function diff(a: Uint8Array, b: number[]): { mean: number; max: number } {
  assert.equal(a.length, b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

/** Every decode, eval transform and train crop of `name` against PIL's. */
async function compare(name: string, jpeg: JpegDecoderChoice): Promise<{ mean: number; max: number }[]> {
  const refs = ref.inputs[name];
  const file = input(name);
  const results = [diff((await decodeRgb(file, jpeg)).data, refs.decoded)];
  for (const [size, rgb] of Object.entries(refs.eval)) results.push(diff(await evalRgb(file, Number(size), jpeg), rgb));
  for (const c of refs.train) {
    const params = { left: c.left, top: c.top, width: c.width, height: c.height, flip: false, srcWidth: ref.width, srcHeight: ref.height };
    results.push(diff(await trainRgb(file, c.size, params, jpeg), c.rgb));
  }
  return results;
}

test('PNG: decode, Resize + CenterCrop (sizes 32, 37) and resized crops (shrink, enlarge, whole, 1 px) equal PIL exactly', async () => {
  for (const d of await compare('pil-input.png', 'auto')) assert.equal(d.max, 0);
});

test('JPEG through sharp (mozjpeg, accurate IDCT) equals PIL exactly', async () => {
  for (const d of await compare('pil-input.jpg', 'sharp')) assert.equal(d.max, 0);
});

// The binding runs libjpeg-turbo's fast integer IDCT, so its pixels differ slightly from PIL's (slightly
// darker on average); the transforms then agree as well as the decodes do. Measured when written, on this
// picture's hard edges: decode mean 1.04 / max 5 levels, transforms mean 0.94–1.04 / max 1–5.
test(
  'JPEG through libjpeg-turbo (when installed) stays within 6 grey levels of PIL, 1.5 on average',
  { skip: jpegDecoderName() === 'sharp' && 'the optional @julusian/jpeg-turbo is not installed' },
  async () => {
    for (const d of await compare('pil-input.jpg', 'auto')) assert.ok(d.max <= 6 && d.mean <= 1.5, `mean ${d.mean.toFixed(2)}, max ${d.max} levels`);
  },
);
