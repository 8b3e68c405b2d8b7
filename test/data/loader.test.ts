import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { UserError } from '../../src/errors.ts';
import { BatchLoader, evalBatches, loaderStats, resetLoaderStats, type EvalBatch, type LoadedBatch } from '../../src/data/loader.ts';
import { ClassBalancedSampler } from '../../src/data/samplers.ts';
import { loadSample } from '../../src/data/datasets/sample.ts';
import { labelsOf, splitItems } from '../../src/data/check-manifest.ts';
import { IMAGENET_RGB } from '../../src/data/image-convention.ts';
import { loadEvalImage } from '../../src/data/images.ts';
import { setDataWarningSink } from '../../src/data/warnings.ts';
import type { ManifestItem } from '../../src/data/manifest.ts';
import { closeSharedDecoders, InProcessDecoder, type ImageDecoder } from '../../src/data/decode-pool.ts';
import { Rng } from '../../src/rng.ts';
import { makeCorrupt } from '../helpers/dataset-layouts.ts';
import { tempDir } from '../helpers/tmp.ts';

async function collect(it: AsyncIterable<LoadedBatch>): Promise<LoadedBatch[]> {
  const out: LoadedBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const train = splitItems(loadSample(), 'train');
const labels = labelsOf(train);

test('BatchLoader: NHWC batches in sampler order, identical for concurrency 1 and 3 (draws on the calling thread)', async () => {
  const batches = new ClassBalancedSampler(labels, 16, 4, new Rng(1, 'sampler.class')).epoch().slice(0, 3);
  const load = (concurrency: number) => {
    return collect(
      new BatchLoader(train, batches, 32, IMAGENET_RGB, { train: true, flip: true }, new Rng(1, 'augment'), concurrency, { prefetch: 2 }),
    );
  };
  const a = await load(1);
  const b = await load(3);
  assert.equal(a.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.equal(a[i].n, 16);
    assert.equal(a[i].images.length, 16 * 32 * 32 * 3);
    assert.deepEqual(a[i].labels, batches[i].labels);
    assert.deepEqual(a[i].indices, batches[i].indices);
    assert.deepEqual(a[i].failed, []);
    assert.deepEqual(a[i].images, b[i].images);
  }
  // A different augmentation seed changes the pixels, the same one reproduces them.
  const c = await collect(new BatchLoader(train, batches.slice(0, 1), 32, IMAGENET_RGB, { train: true, flip: true }, new Rng(2, 'augment'), 2));
  assert.notDeepEqual(c[0].images, a[0].images);
});

test('BatchLoader: timing does not change the draws (a slow first batch, a ready second one)', async () => {
  // Batch 2 (2 images) is ready long before batch 1 (8) when both load at once; its augmentation must
  // still come after batch 1's in the stream.
  const specs = [
    { indices: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), labels: new Int32Array(8) },
    { indices: Int32Array.from([60, 61]), labels: Int32Array.from([1, 1]) },
  ];
  const run = async (concurrency: number, prefetch: number) => {
    return collect(new BatchLoader(train, specs, 16, IMAGENET_RGB, { train: true, flip: true }, new Rng(4, 'augment'), concurrency, { prefetch }));
  };
  const serial = await run(1, 1); // one batch at a time: the reference order
  const parallel = await run(2, 2);
  for (let i = 0; i < 2; i++) assert.deepEqual(parallel[i].images, serial[i].images);
});

test('BatchLoader eval mode: every slot equals loadEvalImage of its item', async () => {
  const spec = { indices: Int32Array.from([0, 77, 499]), labels: Int32Array.from([5, 6, 7]) };
  const [batch] = await collect(new BatchLoader(train, [spec], 24, IMAGENET_RGB, { train: false, flip: false }, null, 2));
  for (let k = 0; k < 3; k++) {
    const one = await loadEvalImage(train[spec.indices[k]].path, 24, IMAGENET_RGB);
    assert.deepEqual(batch.images.subarray(k * one.length, (k + 1) * one.length), one);
  }
});

test('BatchLoader: prefetch is bounded (at most prefetch batches started ahead of the consumer)', async () => {
  const batches = new ClassBalancedSampler(labels, 8, 2, new Rng(3)).epoch().slice(0, 6);
  let started = 0;
  const inner = new InProcessDecoder(2);
  const counting: ImageDecoder = {
    prefersSharedOutput: false,
    decode(...args) {
      started++;
      return inner.decode(...args);
    },
  };
  const loader = new BatchLoader(train, batches, 16, IMAGENET_RGB, { train: false, flip: false }, null, 2, { prefetch: 2, decoder: counting });
  let consumed = 0;
  for await (const b of loader) {
    consumed++;
    await new Promise((r) => setTimeout(r, 30)); // a slow training step
    // Started images never exceed (consumed + prefetch) batches' worth.
    assert.ok(started <= (consumed + 2) * 8, `started ${started} images after ${consumed} batches`);
    assert.equal(b.n, 8);
  }
  assert.equal(consumed, 6);
  assert.equal(started, 48);
});

test('worker-thread and in-process decoders give identical batches', async () => {
  const batches = new ClassBalancedSampler(labels, 8, 4, new Rng(5)).epoch().slice(0, 2);
  const load = (decoder: 'workers' | 'in-process') =>
    collect(new BatchLoader(train, batches, 24, IMAGENET_RGB, { train: true, flip: true }, new Rng(5, 'augment'), 2, { decoder }));
  const [w, p] = [await load('workers'), await load('in-process')];
  for (let i = 0; i < 2; i++) assert.deepEqual(w[i].images, p[i].images);
  await closeSharedDecoders();
});

test('corrupt files (truncated JPEG, 0-byte file, text named .jpg) are skipped, warned once each, counted', async () => {
  const parent = tempDir();
  const warnings: string[] = [];
  const prev = setDataWarningSink((w) => warnings.push(w));
  resetLoaderStats();
  try {
    const { good, bad } = await makeCorrupt(parent);
    // Item order: a_good, b_truncated, c_good, d_empty, e_good, f_text (class 0); then 2 sample images (class 1).
    const paths = [good[0], bad[0], good[1], bad[1], good[2], bad[2]];
    const items: ManifestItem[] = [
      ...paths.map((path) => ({ path, label: 0, split: 'train' as const })),
      { ...train[0], label: 1 },
      { ...train[1], label: 1 },
    ];
    const spec = { indices: Int32Array.from([1, 3, 5, 0, 6, 7]), labels: Int32Array.from([0, 0, 0, 0, 1, 1]) };
    for (let epoch = 0; epoch < 2; epoch++) {
      const [batch] = await collect(new BatchLoader(items, [spec], 16, IMAGENET_RGB, { train: true, flip: false }, new Rng(epoch), 2));
      // Bad slots now hold the next good image of the same class: 1 → 2, 3 → 4, 5 → 0 (cyclic).
      assert.deepEqual(Array.from(batch.indices), [2, 4, 0, 0, 6, 7]);
      assert.deepEqual(batch.labels, spec.labels);
      assert.deepEqual(batch.failed, []);
      for (let k = 0; k < 6; k++) {
        const slice = batch.images.subarray(k * 768, (k + 1) * 768);
        assert.ok(
          slice.some((v) => v !== 0),
          `slot ${k} holds an image`,
        );
      }
    }
    assert.equal(warnings.length, 3, 'each bad file warned once over two epochs');
    for (const b of bad)
      assert.ok(
        warnings.some((w) => w.includes(b)),
        `warning names ${b}`,
      );
    const stats = loaderStats();
    assert.equal(stats.failedFiles, 3);
    assert.deepEqual([...stats.failedPaths].sort(), [...bad].sort());
    assert.equal(stats.replaced, 6);

    // Evaluation keeps every slot: bad files become zero images, reported by position.
    const got: EvalBatch[] = [];
    for await (const b of evalBatches(paths, 4, 16, IMAGENET_RGB, { concurrency: 2 })) got.push(b);
    assert.deepEqual(
      got.map((b) => [b.start, b.n]),
      [
        [0, 4],
        [4, 2],
      ],
    );
    assert.deepEqual(
      got.flatMap((b) => b.failed),
      [1, 3, 5],
    );
    const slot = (pos: number) => got[Math.floor(pos / 4)].images.subarray((pos % 4) * 768, ((pos % 4) + 1) * 768);
    for (const pos of [1, 3, 5]) assert.ok(slot(pos).every((v) => v === 0));
    for (const pos of [0, 2, 4]) assert.deepEqual(slot(pos), await loadEvalImage(paths[pos], 16, IMAGENET_RGB));
    assert.equal(warnings.length, 3, 'no new warnings for known bad files');
  } finally {
    setDataWarningSink(prev);
    resetLoaderStats();
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('a class whose every image is bad is an error naming a file, never a black training image', async () => {
  const parent = tempDir();
  const prev = setDataWarningSink(() => undefined);
  resetLoaderStats();
  try {
    const { bad } = await makeCorrupt(parent);
    const items: ManifestItem[] = bad.map((path) => ({ path, label: 0, split: 'train' }));
    const spec = { indices: Int32Array.from([0, 1, 2]), labels: Int32Array.from([0, 0, 0]) };
    await assert.rejects(collect(new BatchLoader(items, [spec], 8, IMAGENET_RGB, { train: true, flip: true }, new Rng(1), 1)), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, /and every other image of its class cannot be decoded/);
      assert.ok(
        bad.some((b) => e.message.includes(b)),
        e.message,
      );
      return true;
    });
  } finally {
    setDataWarningSink(prev);
    resetLoaderStats();
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('recycle: buffers come back once the consumer moves on; every batch still holds its own images; a failed slot is zero', async () => {
  const parent = tempDir();
  const prev = setDataWarningSink(() => {});
  resetLoaderStats();
  try {
    const { bad } = await makeCorrupt(parent);
    // Seven batches of two; the last one holds a file that cannot be decoded (zero slot in evaluation).
    const paths = [...train.slice(0, 13).map((it) => it.path), bad[1]];
    const seen = new Set<ArrayBufferLike>();
    let b = 0;
    for await (const batch of evalBatches(paths, 2, 16, IMAGENET_RGB, { concurrency: 2, recycle: true })) {
      seen.add(batch.images.buffer);
      for (let k = 0; k < batch.n; k++) {
        const got = batch.images.subarray(k * 768, (k + 1) * 768);
        if (batch.start + k === 13)
          assert.ok(
            got.every((v) => v === 0),
            'failed slot zeroed in a reused buffer',
          );
        else assert.deepEqual(got, await loadEvalImage(paths[batch.start + k], 16, IMAGENET_RGB));
      }
      b++;
    }
    assert.equal(b, 7);
    assert.ok(seen.size <= 4, `at most prefetch + 2 buffers for 7 batches, saw ${seen.size}`);
  } finally {
    setDataWarningSink(prev);
    resetLoaderStats();
    fs.rmSync(parent, { recursive: true, force: true });
    await closeSharedDecoders();
  }
});
