import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  closeSharedDecoders,
  InProcessDecoder,
  Limiter,
  sharedWorkerDecoder,
  WorkerDecoder,
  workerCountFor,
  type DecodeJob,
} from '../../src/data/decode-pool.ts';
import { ImageDecodeError, loadTrainImage } from '../../src/data/images.ts';
import { drawTrainRandoms, trainParamsFromRandoms } from '../../src/data/transforms.ts';
import { Rng } from '../../src/rng.ts';
import os from 'node:os';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { SAMPLE_ROOT } from '../../src/data/datasets/sample.ts';
import { tempDir } from '../helpers/tmp.ts';

const png = path.join(SAMPLE_ROOT, 'images', '003.Pullover', '003_000.png');

test('Limiter runs at most `limit` tasks at once, in call order', async () => {
  const limiter = new Limiter(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      limiter.run(async () => {
        order.push(i);
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
});

test('WorkerDecoder: same pixels as in-process; decode errors arrive as ImageDecodeError; close waits, then restarts on demand', async () => {
  const dir = tempDir('mic-pool-');
  const workers = new WorkerDecoder(2);
  try {
    const randoms = drawTrainRandoms(new Rng(8, 'augment'));
    const train: DecodeJob = { path: png, size: 16, conv: IMAGENET_RGB, randoms, flip: true };
    const evalJob: DecodeJob = { path: png, size: 16, conv: IMAGENET_RGB, flip: false };
    const a = new Float32Array(2 * 768);
    const b = new Float32Array(2 * 768);
    await Promise.all([workers.decode(train, a, 0), workers.decode(evalJob, a, 768)]);
    const local = new InProcessDecoder(1);
    await local.decode(train, b, 0);
    await local.decode(evalJob, b, 768);
    assert.deepEqual(a, b);
    // The worker turned the uniforms into the same crop box as the main thread would.
    assert.deepEqual(b.subarray(0, 768), await loadTrainImage(png, 16, IMAGENET_RGB, trainParamsFromRandoms(randoms, 28, 28, true)));

    const text = path.join(dir, 'text.jpg');
    fs.writeFileSync(text, 'not a jpeg');
    await assert.rejects(workers.decode({ ...train, path: text }, a, 0), (e: unknown) => e instanceof ImageDecodeError && e.path === text);

    await workers.close();
    const c = new Float32Array(768);
    await workers.decode(evalJob, c, 0);
    assert.deepEqual(c, b.subarray(768));
  } finally {
    await workers.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("WorkerDecoder on a JPEG (decoded into place in the worker) gives the main thread's pixels, into a shared batch buffer", async () => {
  const jpg = new URL('../fixtures/data/pil-input.jpg', import.meta.url).pathname;
  const workers = new WorkerDecoder(1);
  try {
    const randoms = drawTrainRandoms(new Rng(9, 'augment'));
    const jobs: DecodeJob[] = [
      { path: jpg, size: 24, conv: IMAGENET_RGB, randoms, flip: true },
      { path: jpg, size: 24, conv: IMAGENET_RGB, flip: false },
    ];
    const px = 24 * 24 * 3;
    const shared = new Float32Array(new SharedArrayBuffer(3 * px * 4)).subarray(px); // a view at an offset
    await Promise.all(jobs.map((j, i) => workers.decode(j, shared, i * px)));
    const local = new InProcessDecoder(1);
    const expected = new Float32Array(2 * px);
    for (const [i, j] of jobs.entries()) await local.decode(j, expected, i * px);
    assert.deepEqual(Array.from(shared), Array.from(expected));
    assert.ok(expected.some((v) => v !== 0));
  } finally {
    await workers.close();
  }
});

test('sharedWorkerDecoder returns one pool per size; worker count capped at the cores', async () => {
  assert.equal(workerCountFor(1), 1);
  assert.equal(workerCountFor(1000), os.availableParallelism());
  assert.equal(sharedWorkerDecoder(3), sharedWorkerDecoder(3));
  assert.notEqual(sharedWorkerDecoder(3), sharedWorkerDecoder(2));
  await closeSharedDecoders();
});
