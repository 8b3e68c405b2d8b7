import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initialSurrogateLabels, reclusterSharedLabels } from '../../src/mic/clustering.ts';
import { SharedClusters, type ClusterSettings } from '../../src/mic/shared-clusters.ts';
import { buildModel } from '../../src/models/build-model.ts';
import { rngFor } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'Datasets', 'sample', 'images');
const CLASSES = ['001.Tshirt_top', '002.Trouser', '006.Digit_zero'];
const paths = CLASSES.flatMap((c) =>
  fs
    .readdirSync(path.join(SAMPLE, c))
    .sort()
    .slice(0, 4)
    .map((f) => path.join(SAMPLE, c, f)),
);
const classLabels = Int32Array.from(paths, (_, i) => Math.floor(i / 4));
const settings = (updateFreq: number): ClusterSettings => ({
  k: 3,
  iters: 10,
  maxPointsPerCentroid: 256,
  mode: 'mstd',
  updateFreq,
  kmeansRng: () => rngFor(4, 'kmeans'),
});

async function setUp(updateFreq = 1) {
  await useTestBackend('cpu');
  const model = await buildModel({
    arch: 'resnet50',
    embedSizes: [8, 8],
    notPretrained: true,
    pretrainedFormat: 'torchvision',
    rng: rngFor(3, 'init'),
    width: 16,
  });
  const inputs = { model, paths, classLabels, bs: 4, inputSize: 32, conv: model.input, concurrency: 1 };
  return { model, inputs, clusters: new SharedClusters(inputs, settings(updateFreq)) };
}

test('initial clustering and re-clustering run on the inputs given once; re-clustering keeps the initial cluster count as k', async () => {
  const { model, inputs, clusters } = await setUp();
  try {
    assert.equal(clusters.labels, null);
    const initial = await clusters.makeInitial();
    const kmeans = { iters: 10, maxPointsPerCentroid: 256, rng: rngFor(4, 'kmeans') };
    assert.deepEqual(initial, await initialSurrogateLabels(inputs, classLabels, 'mstd', { ...kmeans, k: 3 }));
    assert.equal(initial.length, paths.length);
    assert.equal(clusters.labels, initial);
    assert.equal(clusters.numClusters, new Set(initial).size);
    assert.ok(clusters.numClusters >= 1 && clusters.numClusters <= 3);

    const seen: number[] = [];
    const again = await clusters.recluster({ onProgress: (done) => seen.push(done) });
    assert.deepEqual(again, await reclusterSharedLabels(inputs, { ...kmeans, rng: rngFor(4, 'kmeans'), k: clusters.numClusters }));
    assert.equal(clusters.labels, again);
    assert.deepEqual(seen, [4, 8, 12], 'progress after each batch of 4');
    assert.deepEqual(await clusters.makeInitial(), initial, 'every clustering starts from the fixed-seed k-means stream');
  } finally {
    model.dispose();
  }
});

test('the re-clustering counter moves every epoch; a re-clustering is due only where there are labels', async () => {
  const { model, clusters } = await setUp(2);
  try {
    // freq 2: the counter counts 0, 1, 2 and is due when it reaches 2 (after the 3rd, 6th … epoch).
    const baseline = Array.from({ length: 6 }, () => [clusters.dueAfterEpoch(), clusters.state().reclusterCounter]);
    assert.deepEqual(
      baseline,
      [
        [false, 1],
        [false, 2],
        [false, 0],
        [false, 1],
        [false, 2],
        [false, 0],
      ],
      'no labels (baseline mode): never due, counter still moves',
    );
    clusters.restore({ sharedLabels: [0, 1, 0], numClusters: 2, reclusterCounter: 0 });
    assert.deepEqual(
      Array.from({ length: 6 }, () => clusters.dueAfterEpoch()),
      [false, false, true, false, false, true],
    );
  } finally {
    model.dispose();
  }
});

test('state → restore gives back the labels, the cluster count and the counter', async () => {
  const { model, clusters } = await setUp(3);
  try {
    const st = { sharedLabels: [2, 0, 1, 1], numClusters: 3, reclusterCounter: 2 };
    clusters.restore(st);
    assert.ok(clusters.labels instanceof Int32Array);
    assert.deepEqual(Array.from(clusters.labels!), st.sharedLabels);
    assert.deepEqual(clusters.state(), st);
    assert.equal(clusters.dueAfterEpoch(), false, 'counter 2 of 3 moves on to 3');
    assert.equal(clusters.dueAfterEpoch(), true);
    clusters.restore({ sharedLabels: null, numClusters: 0, reclusterCounter: 1 });
    assert.deepEqual(clusters.state(), { sharedLabels: null, numClusters: 0, reclusterCounter: 1 });
  } finally {
    model.dispose();
  }
});
