import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { jpegSize } from '../../src/data/image-header.ts';

const base = () => sharp({ create: { width: 37, height: 23, channels: 3, background: { r: 1, g: 2, b: 3 } } });

/** An APPn segment of `n` payload bytes (marker FF En, big-endian length including itself). */
function appSegment(n: number, marker = 0xe1): Buffer {
  const seg = Buffer.alloc(4 + n, 0x20);
  seg[0] = 0xff;
  seg[1] = marker;
  seg.writeUInt16BE(n + 2, 2);
  return seg;
}

test('jpegSize agrees with sharp metadata on baseline, progressive, CMYK and big-APP-block JPEGs', async () => {
  const files: Record<string, Buffer> = {
    baseline: await base().jpeg().toBuffer(),
    progressive: await base().jpeg({ progressive: true }).toBuffer(),
    cmyk: await base().toColourspace('cmyk').jpeg().toBuffer(),
    grey: await base().toColourspace('b-w').jpeg().toBuffer(),
  };
  // Frame header beyond the first 64 KiB: three 30 KB APP segments before it.
  const jpg = files.baseline;
  files.bigExif = Buffer.concat([jpg.subarray(0, 2), appSegment(30000), appSegment(30000, 0xe2), appSegment(30000, 0xed), jpg.subarray(2)]);
  for (const [name, data] of Object.entries(files)) {
    const meta = await sharp(data).metadata();
    assert.deepEqual(jpegSize(data), { width: meta.width, height: meta.height }, name);
  }
});

test('jpegSize returns null for what is not a whole JPEG header: PNG, WebP, empty, text, cut before the frame', async () => {
  const jpg = await base().jpeg().toBuffer();
  const cut = jpg.subarray(0, 20); // SOI + part of APP0, no frame header yet
  for (const data of [await base().png().toBuffer(), await base().webp().toBuffer(), Buffer.alloc(0), Buffer.from('hello'), cut]) {
    assert.equal(jpegSize(data), null);
  }
});
