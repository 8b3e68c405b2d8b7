/**
 * Issue 14, item 9: pixels as PIL reads them (the original trained on `Image.open(p).convert('RGB')`). CMYK
 * JPEGs were 12.7 grey levels off on average (libvips converts through an ICC profile, PIL uses a naive
 * formula) and 16-bit greyscale PNGs were scaled to 8 bits where PIL clips to 255. The references come from
 * Debian's Pillow 9.4 (scripts/fixtures/make_pil_modes_fixtures.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import sharp from 'sharp';
import { decodeRgb } from '../../src/data/decode.ts';
import { closeSharedDecoders, sharedWorkerDecoder } from '../../src/data/decode-pool.ts';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { loadEvalImage } from '../../src/data/images.ts';

const dir = new URL('../fixtures/data/pil-modes/', import.meta.url);
const ref = JSON.parse(fs.readFileSync(new URL('pil-modes.json', dir), 'utf8')) as {
  pillow: string;
  files: Record<string, { mode: string; width: number; height: number; rgb: string }>;
};
const file = (name: string) => new URL(name, dir).pathname;
const pil = (name: string) => new Uint8Array(Buffer.from(ref.files[name].rgb, 'base64'));

function meanDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

test('the fixtures exercise the differences: a colour-managed decode is far from PIL on CMYK and 16-bit grey', async () => {
  assert.equal(ref.pillow, '9.4.0');
  for (const name of ['cmyk.jpg', 'cmyk.tif', 'grey16.png', 'grey16.tif']) {
    const { data } = await sharp(file(name)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const d = meanDiff(new Uint8Array(data), pil(name));
    assert.ok(d > 5, `${name}: libvips' own conversion is only ${d.toFixed(2)} grey levels from PIL's`);
  }
});

test("CMYK (JPEG, TIFF) and 16-bit images decode to exactly PIL's pixels, with either JPEG decoder", async () => {
  for (const [name, r] of Object.entries(ref.files)) {
    for (const jpeg of ['auto', 'sharp'] as const) {
      const got = await decodeRgb(file(name), jpeg);
      assert.deepEqual([got.width, got.height], [r.width, r.height], name);
      assert.deepEqual(got.data, pil(name), `${name} (${r.mode}, ${jpeg}): ${meanDiff(got.data, pil(name)).toFixed(3)} grey levels off`);
    }
  }
});

test('decode worker threads (their direct JPEG path) give the same pixels as the main thread', async () => {
  try {
    for (const name of Object.keys(ref.files)) {
      const out = new Float32Array(new SharedArrayBuffer(16 * 16 * 3 * 4));
      await sharedWorkerDecoder(1).decode({ path: file(name), size: 16, conv: IMAGENET_RGB, flip: false }, out, 0);
      assert.deepEqual(out, await loadEvalImage(file(name), 16, IMAGENET_RGB), name);
    }
  } finally {
    await closeSharedDecoders();
  }
});
