import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readHeaderInfo } from '../../src/data/image-header.ts';
import { tempDir } from './fixture-layouts.ts';

const dir = tempDir('mic-header-');
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = () => sharp({ create: { width: 37, height: 23, channels: 3, background: { r: 1, g: 2, b: 3 } } });

/** An APPn segment of `n` payload bytes (marker FF En, big-endian length including itself). */
function appSegment(n: number, marker = 0xe1): Buffer {
  const seg = Buffer.alloc(4 + n, 0x20);
  seg[0] = 0xff;
  seg[1] = marker;
  seg.writeUInt16BE(n + 2, 2);
  return seg;
}

test('readHeaderInfo agrees with sharp metadata on JPEG (baseline, progressive, big APP blocks) and PNG variants', async () => {
  const files: Record<string, Buffer> = {
    'baseline.jpg': await base().jpeg().toBuffer(),
    'progressive.jpg': await base().jpeg({ progressive: true }).toBuffer(),
    'cmyk.jpg': await base().toColourspace('cmyk').jpeg().toBuffer(),
    'rgb.png': await base().png().toBuffer(),
    'rgba.png': await base().ensureAlpha(0.5).png().toBuffer(),
    'grey.png': await base().toColourspace('b-w').png().toBuffer(),
    'palette.png': await base().png({ palette: true }).toBuffer(),
    'palette-alpha.png': await base().ensureAlpha(0.5).png({ palette: true }).toBuffer(),
  };
  // JPEG whose frame header sits beyond the first 64 KiB: three 30 KB APP segments before it.
  const jpg = files['baseline.jpg'];
  files['big-exif.jpg'] = Buffer.concat([jpg.subarray(0, 2), appSegment(30000), appSegment(30000, 0xe2), appSegment(30000, 0xed), jpg.subarray(2)]);
  for (const [name, data] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, data);
    const meta = await sharp(file).metadata();
    const info = await readHeaderInfo(file);
    assert.deepEqual(info, { width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha === true }, name);
  }
});

test('readHeaderInfo returns null for what it does not parse (sharp decides): WebP, empty, text, missing', async () => {
  const webp = path.join(dir, 'a.webp');
  await base().webp().toFile(webp);
  const empty = path.join(dir, 'empty.jpg');
  fs.writeFileSync(empty, '');
  const text = path.join(dir, 'text.jpg');
  fs.writeFileSync(text, 'hello');
  for (const f of [webp, empty, text, path.join(dir, 'missing.jpg')]) assert.equal(await readHeaderInfo(f), null, f);
});
