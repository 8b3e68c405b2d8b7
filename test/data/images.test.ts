import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeRgb } from '../../src/data/decode.ts';
import { ImageDecodeError, loadEvalImage, loadOriginalTile, loadTrainImage } from '../../src/data/images.ts';
import { IMAGENET_RGB, type InputConvention } from '../../src/data/image-convention.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Identity convention: output = pixel/255, so results read directly as [0,1] pixel values. */
const PLAIN: InputConvention = { order: 'RGB', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };
const ONE_LEVEL = 1 / 255 + 1e-6;

async function writeRaw(file: string, width: number, height: number, channels: 1 | 2 | 3 | 4, pixel: (x: number, y: number, c: number) => number) {
  const buf = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) buf[(y * width + x) * channels + c] = pixel(x, y, c);
  const img = sharp(buf, { raw: { width, height, channels } });
  // Without an explicit colourspace sharp would save 1- and 2-channel input as RGB(A).
  await (channels <= 2 ? img.toColourspace('b-w') : img).png().toFile(file);
  return buf;
}

const dir = tempDir('mic-images-');
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('eval transform without resampling: 256×320 at 224 is the centre crop (left 16, top 48), normalised by hand', async () => {
  const file = path.join(dir, 'noise.png');
  // Pseudo-random bytes: every pixel differs, so an off-by-one crop offset cannot pass.
  const src = await writeRaw(file, 256, 320, 3, (x, y, c) => (x * 31 + y * 17 + c * 101 + ((x * y) % 13)) % 256);
  const out = await loadEvalImage(file, 224, IMAGENET_RGB);
  assert.equal(out.length, 224 * 224 * 3);
  let worst = 0;
  for (let y = 0; y < 224; y++)
    for (let x = 0; x < 224; x++)
      for (let c = 0; c < 3; c++) {
        const v = src[((y + 48) * 256 + (x + 16)) * 3 + c] / 255;
        const expected = (v - IMAGENET_RGB.mean[c]) / IMAGENET_RGB.std[c];
        worst = Math.max(worst, Math.abs(out[(y * 224 + x) * 3 + c] - expected) * IMAGENET_RGB.std[c]);
      }
  assert.ok(worst <= ONE_LEVEL, `max error ${worst * 255} grey levels`);
});

test('eval transform with resampling: a linear ramp stays the ramp at the mapped centres (within 1/255)', async () => {
  // 448×512, size 224: S = 256 → resized 256×292 (scale 1.75), crop left 16, top round(34) = 34.
  // R(x) = x/2 is linear, so any symmetric normalised filter reproduces it away from the borders:
  // output column j samples source x = (16 + j + 0.5)·1.75 − 0.5 → R = x/2. G(y) = y/2 likewise, B constant.
  const file = path.join(dir, 'ramp.png');
  await writeRaw(file, 448, 512, 3, (x, y, c) => (c === 0 ? Math.round(x / 2) : c === 1 ? Math.round(y / 2) : 77));
  const out = await loadEvalImage(file, 224, PLAIN);
  let worst = 0;
  for (let y = 0; y < 224; y += 7)
    for (let x = 0; x < 224; x += 7) {
      const sx = (16 + x + 0.5) * 1.75 - 0.5;
      const sy = (34 + y + 0.5) * (512 / 292) - 0.5;
      const o = (y * 224 + x) * 3;
      worst = Math.max(worst, Math.abs(out[o] - sx / 2 / 255), Math.abs(out[o + 1] - sy / 2 / 255), Math.abs(out[o + 2] - 77 / 255));
    }
  assert.ok(worst <= 1.5 / 255, `max error ${worst * 255} grey levels`);
});

test('train transform: crop box then bilinear resize (ramp check); flip mirrors exactly', async () => {
  const file = path.join(dir, 'ramp2.png');
  await writeRaw(file, 400, 300, 3, (x, y, c) => (c === 0 ? Math.round(x / 2) : c === 1 ? Math.round((y * 2) / 3) : 200));
  const params = { left: 100, top: 20, width: 200, height: 150, flip: false, srcWidth: 400, srcHeight: 300 };
  const out = await loadTrainImage(file, 100, PLAIN, params);
  let worst = 0;
  // Interior only: the outermost pixels see the crop border, which libvips and PIL extend differently.
  for (let y = 3; y < 97; y += 3)
    for (let x = 3; x < 97; x += 3) {
      const sx = 100 + (x + 0.5) * 2 - 0.5;
      const sy = 20 + (y + 0.5) * 1.5 - 0.5;
      const o = (y * 100 + x) * 3;
      worst = Math.max(worst, Math.abs(out[o] - sx / 2 / 255), Math.abs(out[o + 1] - (sy * 2) / 3 / 255));
    }
  assert.ok(worst <= 1.5 / 255, `max error ${worst * 255} grey levels`);
  const flipped = await loadTrainImage(file, 100, PLAIN, { ...params, flip: true });
  for (let y = 0; y < 100; y++)
    for (let x = 0; x < 100; x++)
      for (let c = 0; c < 3; c++) {
        assert.equal(flipped[(y * 100 + x) * 3 + c], out[(y * 100 + (99 - x)) * 3 + c]);
      }
});

test('decodes grayscale, grey+alpha, RGBA, 16-bit, palette, WebP and CMYK JPEG to the same RGB', async () => {
  const w = 40;
  const h = 30;
  const grey = (x: number, y: number) => (x * 5 + y * 2) % 256;
  const rgbPix = (x: number, y: number, c: number) => [x * 6, y * 8, 100][c];
  const base = path.join(dir, 'base.png');
  await writeRaw(base, w, h, 3, rgbPix);
  const greyFile = path.join(dir, 'grey.png');
  const greyBuf = await writeRaw(greyFile, w, h, 1, grey);
  const files: Record<string, string> = { base, grey: greyFile };
  const rgbBuf = await sharp(base).raw().toBuffer();
  const mk = async (name: string, s: Sharp) => {
    files[name] = path.join(dir, name);
    await s.toFile(files[name]);
  };
  await mk('rgba.png', sharp(base).ensureAlpha(0.3).png());
  files['greya.png'] = path.join(dir, 'greya.png');
  await writeRaw(files['greya.png'], w, h, 2, (x, y, c) => (c === 0 ? grey(x, y) : 128));
  await mk(
    'rgb16.png',
    sharp(rgbBuf, { raw: { width: w, height: h, channels: 3 } })
      .toColourspace('rgb16')
      .png(),
  );
  await mk(
    'grey16.png',
    sharp(greyBuf, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('grey16')
      .png(),
  );
  await mk('palette.png', sharp(base).png({ palette: true, colours: 256, dither: 0 }));
  await mk('lossless.webp', sharp(base).webp({ lossless: true }));
  await mk('cmyk.jpg', sharp(base).toColourspace('cmyk').jpeg({ quality: 100 }));
  assert.equal((await sharp(files['grey16.png']).metadata()).depth, 'ushort');
  assert.equal((await sharp(files['cmyk.jpg']).metadata()).space, 'cmyk');
  assert.equal((await sharp(files['greya.png']).metadata()).channels, 2);
  assert.equal((await sharp(greyFile).metadata()).channels, 1);

  const evalOf = (f: string) => loadEvalImage(f, 16, PLAIN);
  const ref = await evalOf(base);
  const greyRef = await evalOf(greyFile);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0) * 255;
  for (let i = 0; i < greyRef.length; i += 3) assert.ok(greyRef[i] === greyRef[i + 1] && greyRef[i] === greyRef[i + 2], 'grey → R = G = B');
  // Alpha is dropped before resampling (PIL convert('RGB')), so colours do not shift. 16-bit input is
  // resampled at 16 bits and then truncated to 8 (PIL also keeps the high byte): at most 1 level apart.
  assert.ok(maxDiff(await evalOf(files['rgba.png']), ref) <= 1.001, 'rgba');
  assert.ok(maxDiff(await evalOf(files['greya.png']), greyRef) <= 1.001, 'grey+alpha');
  assert.ok(maxDiff(await evalOf(files['rgb16.png']), ref) <= 1.001, 'rgb16');
  // 16-bit greyscale is clipped at 255 as PIL's convert('RGB') does (test/robustness/pil-pixels.test.ts): sharp
  // stored each 8-bit grey g as 257·g, so every pixel but the black ones turns white.
  const grey16 = await decodeRgb(files['grey16.png']);
  for (let i = 0; i < w * h; i++) assert.equal(grey16.data[3 * i], greyBuf[i] === 0 ? 0 : 255, 'grey16 clipped like PIL');
  assert.ok(maxDiff(await evalOf(files['lossless.webp']), ref) <= 1.001, 'webp');
  assert.ok(maxDiff(await evalOf(files['palette.png']), ref) <= 12, 'palette (quantised colours)');
  // CMYK is read with PIL's profile-free formula (exact against PIL in test/robustness/pil-pixels.test.ts); sharp
  // made this file through an ICC profile, so it comes back a few tens of levels off on average, as in PIL.
  // A decoder that ignored or inverted the ink channels would be ~100 levels off.
  const cmyk = await evalOf(files['cmyk.jpg']);
  const meanLevels = (cmyk.reduce((m, v, i) => m + Math.abs(v - ref[i]), 0) * 255) / ref.length;
  assert.ok(meanLevels < 40, `cmyk mean difference ${meanLevels} levels`);
});

test('undecodable files raise ImageDecodeError naming the file: missing, empty, text, truncated JPEG', async () => {
  const text = path.join(dir, 'text.jpg');
  fs.writeFileSync(text, 'not an image');
  const empty = path.join(dir, 'empty.jpg');
  fs.writeFileSync(empty, '');
  const whole = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  const truncated = path.join(dir, 'truncated.jpg');
  fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
  for (const f of [text, empty, truncated, path.join(dir, 'missing.jpg')]) {
    await assert.rejects(loadEvalImage(f, 8, PLAIN), (e: unknown) => e instanceof ImageDecodeError && e.path === f, f);
  }
});

test('loadOriginalTile: whole image fitted into a white square, RGB uint8', async () => {
  const file = path.join(dir, 'wide.png');
  await writeRaw(file, 40, 20, 3, (_x, _y, c) => [200, 0, 0][c]);
  const tile = await loadOriginalTile(file, 16);
  assert.equal(tile.data.length, 16 * 16 * 3);
  const px = (x: number, y: number) => Array.from(tile.data.slice((y * 16 + x) * 3, (y * 16 + x) * 3 + 3));
  assert.deepEqual(px(0, 0), [255, 255, 255]); // margin above the 16×8 picture
  assert.deepEqual(px(8, 8), [200, 0, 0]);
  assert.deepEqual(px(15, 15), [255, 255, 255]);
});
