/**
 * Issue 14, item 1: files are read only when they are regular files (links followed) within a size cap per
 * kind. A link to /dev/zero named like an image or a weights file, a FIFO or a folder used to be read whole
 * (memory grew without bound) or blocked forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodeRgb, ImageDecodeError } from '../../src/data/decode.ts';
import { closeSharedDecoders, sharedWorkerDecoder } from '../../src/data/decode-pool.ts';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { DEFAULT_SIZE_CAPS, FileRefusedError, readFileCapped, readFileCappedAsync, sizeCap } from '../../src/io/safe-read.ts';
import { assertUserError, runCli, SAMPLE } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const PNG = path.join(SAMPLE, '001.Tshirt_top', '001_000.png');

function refused(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof FileRefusedError && reason.test(e.message));
}

test('a link to /dev/zero, a folder and a FIFO are refused by name, at once', async () => {
  const dir = tempDir();
  const zero = path.join(dir, 'x.jpg');
  fs.symlinkSync('/dev/zero', zero);
  const fifo = path.join(dir, 'pipe.jpg');
  execFileSync('mkfifo', [fifo]);
  const folder = path.join(dir, 'folder.jpg');
  fs.mkdirSync(folder);
  refused(() => readFileCapped(zero, 'image'), /x\.jpg' is a character device/);
  refused(() => readFileCapped(fifo, 'weights'), /pipe\.jpg' is a named pipe \(FIFO\)/);
  refused(() => readFileCapped(folder, 'config'), /folder\.jpg' is a folder/);
  await assert.rejects(readFileCappedAsync(zero, 'image'), /character device/);
  await assert.rejects(readFileCappedAsync(fifo, 'image'), /named pipe/);
  // The image decoder turns the refusal into a decode error naming the file (so the loader skips and lists it).
  await assert.rejects(decodeRgb(zero), (e: unknown) => e instanceof ImageDecodeError && e.path === zero && /character device/.test(e.message));
  await assert.rejects(decodeRgb(fifo), (e: unknown) => e instanceof ImageDecodeError && /named pipe/.test(e.message));
});

test('decode worker threads refuse a /dev/zero link too (their read is synchronous)', async () => {
  const dir = tempDir();
  const zero = path.join(dir, 'x.png');
  fs.symlinkSync('/dev/zero', zero);
  const out = new Float32Array(new SharedArrayBuffer(32 * 32 * 3 * 4));
  try {
    await assert.rejects(sharedWorkerDecoder(1).decode({ path: zero, size: 32, conv: IMAGENET_RGB, flip: false }, out, 0), /character device/);
  } finally {
    await closeSharedDecoders();
  }
});

test('the size cap: a file over it is refused with its size and the variable that raises it; under it reads whole', () => {
  const dir = tempDir();
  const file = path.join(dir, 'big.png');
  fs.writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 7));
  const before = process.env.MIC_TRAIN_MAX_IMAGE_MB;
  process.env.MIC_TRAIN_MAX_IMAGE_MB = '2';
  try {
    assert.equal(sizeCap('image'), 2 * 1024 * 1024);
    refused(() => readFileCapped(file, 'image'), /is 3\.0 MiB, over the 2\.0 MiB limit for image files \(set MIC_TRAIN_MAX_IMAGE_MB to raise it\)/);
    process.env.MIC_TRAIN_MAX_IMAGE_MB = '4';
    assert.deepEqual(readFileCapped(file, 'image'), fs.readFileSync(file));
  } finally {
    if (before === undefined) delete process.env.MIC_TRAIN_MAX_IMAGE_MB;
    else process.env.MIC_TRAIN_MAX_IMAGE_MB = before;
  }
  assert.equal(sizeCap('image'), DEFAULT_SIZE_CAPS.image);
  // Files that report size 0 but have content (/proc) are read to their end, bounded by the cap.
  assert.match(readFileCapped('/proc/self/status', 'config').toString('utf8'), /^Name:/);
  assert.deepEqual(readFileCapped(PNG, 'image'), fs.readFileSync(PNG));
});

test('a file name with bytes that are not UTF-8 is named as such, not just "not found"', () => {
  refused(() => readFileCapped('/tmp/caf\uFFFD.jpg', 'image'), /not valid UTF-8/);
});

test('--pretrained /dev/zero (or a link to it), --config /dev/zero: one line, exit 2, within seconds', () => {
  const dir = tempDir();
  const link = path.join(dir, 'resnet50.safetensors');
  fs.symlinkSync('/dev/zero', link);
  for (const [args, re] of [
    [
      ['--dataset', 'sample', '--pretrained', link, '--backend', 'cpu', '--save_path', dir],
      /--pretrained '.*resnet50\.safetensors' is a character device/,
    ],
    [
      ['--dataset', 'sample', '--pretrained', '/dev/zero', '--backend', 'cpu', '--save_path', dir],
      /--pretrained '\/dev\/zero' is a character device/,
    ],
    [['--config', '/dev/zero', '--save_path', dir], /--config '\/dev\/zero' is a character device/],
  ] as const) {
    const r = runCli([...args], { timeoutMs: 60_000 });
    assertUserError(r, re, args.join(' '));
  }
  assert.deepEqual(fs.readdirSync(dir), ['resnet50.safetensors'], 'no run folder');
});
