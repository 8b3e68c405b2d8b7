import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from '../helpers/tf.ts';
import { evaluateAllVsAll, evaluateManifest, evaluateQueryGallery, metricColumns, reidSplit } from '../../src/eval/evaluate.ts';
import { nmi } from '../../src/eval/metrics/nmi.ts';
import { pairwiseF1 } from '../../src/eval/metrics/f1.ts';
import type { ManifestItem } from '../../src/data/manifest.ts';
import { UserError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';

await useTestBackend();

// Six items on a line (second coordinate 0): A at 0, 1, 3; B at 0 (a duplicate of item 0), 100, 101.
const X = Float32Array.from([0, 0, 0, 0, 1, 0, 100, 0, 101, 0, 3, 0]);
const A = 0;
const B = 1;
const LABELS = [A, B, A, B, B, A];
const opts = (seed = 1) => ({ kVals: [1, 2, 4], rng: new Rng(seed, 'kmeans') });

test('all-vs-all on hand-made embeddings: Recall@k, MAP@R, R-precision, NMI/F1 and recoveries', () => {
  const r = evaluateAllVsAll(X, LABELS, opts());
  assert.deepEqual(r.columns, ['NMI', 'F1', 'Recall @ 1', 'Recall @ 2', 'Recall @ 4', 'MAP@R', 'R-Precision']);
  assert.deepEqual(Object.keys(r.metrics), r.columns);
  // first same-label neighbour (self excluded by index; ties → lower index):
  // 0: [1(B), 2(A)] → rank 1;  1: [0(A), 2(A), 5(A), 3(B)] → rank 3;  2: [0(A)] → 0;  3: [4] → 0;  4: [3] → 0;  5: [2] → 0
  assert.equal(r.metrics['Recall @ 1'], 4 / 6);
  assert.equal(r.metrics['Recall @ 2'], 5 / 6);
  assert.equal(r.metrics['Recall @ 4'], 1);
  // R = 2 for every item. AP@R: 0: [B,A] → ½·½ = .25; 1: [A,A] → 0; 2: [A,B] → .5; 3: [B,A] → .5; 4: .5; 5: [A,A] → 1
  assert.ok(Math.abs(r.metrics['MAP@R'] - 2.75 / 6) < 1e-12);
  assert.ok(Math.abs(r.metrics['R-Precision'] - 3 / 6) < 1e-12);
  // k-means (k = 2 classes) must split left {0,1,2,5} from right {3,4}, whatever the initial points
  const clusters = [0, 0, 0, 1, 1, 0];
  assert.ok(Math.abs(r.metrics.NMI - nmi(LABELS, clusters)) < 1e-12);
  assert.ok(Math.abs(r.metrics.F1 - pairwiseF1(LABELS, clusters)) < 1e-12);
  // recoveries: item 1's three nearest other items are 0, 2, 5 (its duplicate first, itself never)
  const rec = r.recoveries[0];
  assert.equal(rec.keep, 3);
  assert.deepEqual([...rec.neighbours.subarray(3, 6)], [0, 2, 5]);
  assert.deepEqual([...rec.neighbours.subarray(0, 3)], [1, 2, 5]);
});

test('NMI normalisation option reaches the metric', () => {
  const g = evaluateAllVsAll(X, LABELS, { ...opts(), nmiAverage: 'geometric' });
  const a = evaluateAllVsAll(X, LABELS, { ...opts(), nmiAverage: 'arithmetic' });
  const clusters = [0, 0, 0, 1, 1, 0];
  assert.ok(Math.abs(a.metrics.NMI - nmi(LABELS, clusters, 'arithmetic')) < 1e-12);
  assert.notEqual(a.metrics.NMI, g.metrics.NMI);
});

test('query → gallery: no self exclusion needed, NMI on query ∪ gallery with k = distinct query labels', () => {
  // queries 0 (A at 0), 3 (B at 100); gallery: 1 (B at 0), 2 (A at 1), 4 (B at 101), 5 (A at 3)
  const r = evaluateQueryGallery(X, LABELS, Int32Array.from([0, 3]), Int32Array.from([1, 2, 4, 5]), opts());
  // query 0: gallery by distance 1(B, 0), 2(A, 1) → first hit rank 1; query 3: 4 (B) → rank 0
  assert.equal(r.metrics['Recall @ 1'], 0.5);
  assert.equal(r.metrics['Recall @ 2'], 1);
  // R: query 0 has gallery A items 2, 5 → [1(B), 2(A)] → AP = ½·½; query 3 has B items 1, 4 → [4(B), 5(A)] → ½
  assert.ok(Math.abs(r.metrics['MAP@R'] - (0.25 + 0.5) / 2) < 1e-12);
  assert.deepEqual([...r.recoveries[0].neighbours], [1, 2, 5, 4, 5, 2]);
  assert.ok(Math.abs(r.metrics.NMI - nmi(LABELS, [0, 0, 0, 1, 1, 0])) < 1e-12);
});

test('evaluateManifest: role-less, set-less items are all-vs-all with plain column names', () => {
  const items: ManifestItem[] = LABELS.map((label, i) => ({ path: `/x/${i}.jpg`, label, split: 'test' }));
  const m = evaluateManifest(X, items, opts());
  const direct = evaluateAllVsAll(X, LABELS, opts());
  assert.deepEqual(m.metrics, direct.metrics);
});

test('evaluateManifest: roles give query → gallery; an item without role is both but never its own neighbour', () => {
  const roles: (ManifestItem['role'] | undefined)[] = ['query', 'gallery', 'gallery', 'query', 'gallery', undefined];
  const items: ManifestItem[] = LABELS.map((label, i) => ({ path: `/x/${i}.jpg`, label, split: 'test', role: roles[i] }));
  const m = evaluateManifest(X, items, opts());
  const rec = m.recoveries[0];
  assert.deepEqual([...rec.queryRows], [0, 3, 5]);
  assert.deepEqual([...rec.galleryRows], [1, 2, 4, 5]);
  // item 5 (A at 3): gallery without itself → 2 (A, d 2), 1 (B, d 3) → hit at rank 0
  assert.deepEqual([...rec.neighbours.subarray(6, 9)], [2, 1, 4]);
  assert.ok(Math.abs(m.metrics['Recall @ 1'] - 2 / 3) < 1e-12);
});

test('evaluateManifest: sets are evaluated separately with "Set i " prefixes in ascending set order', () => {
  // set 2: items 0..2 (A, B, A); set 1: items 3..5 (B, B, A)
  const items: ManifestItem[] = LABELS.map((label, i) => ({ path: `/x/${i}.jpg`, label, split: 'test', set: i < 3 ? 2 : 1 }));
  const m = evaluateManifest(X, items, { kVals: [1], rng: new Rng(1) });
  assert.deepEqual(m.columns, [...metricColumns([1], 'Set 0 '), ...metricColumns([1], 'Set 1 ')]);
  // Set 0 = set 1 = items 3 (B,100), 4 (B,101), 5 (A,3): 3→4 hit, 4→3 hit, 5→3 miss
  assert.ok(Math.abs(m.metrics['Set 0 Recall @ 1'] - 2 / 3) < 1e-12);
  // Set 1 = set 2 = items 0 (A,0), 1 (B,0), 2 (A,1): 0→1 miss, 1→0 miss, 2→0 hit
  assert.ok(Math.abs(m.metrics['Set 1 Recall @ 1'] - 1 / 3) < 1e-12);
  assert.deepEqual([...m.recoveries[0].queryRows], [3, 4, 5]);
});

test('re-ID protocol: one random gallery item per label, the rest are queries; reproducible', () => {
  const rows = Int32Array.from([0, 1, 2, 3, 4, 5, 6]);
  const labels = [0, 0, 0, 1, 1, 2, 3];
  const a = reidSplit(rows, labels, new Rng(5));
  const b = reidSplit(rows, labels, new Rng(5));
  assert.deepEqual(a, b);
  assert.equal(a.galleryRows.length, 4);
  assert.deepEqual([...new Set([...a.galleryRows].map((r) => labels[r]))].sort(), [0, 1, 2, 3]);
  assert.equal(a.queryRows.length, 3);
  assert.deepEqual([...a.queryRows, ...a.galleryRows].sort(), [0, 1, 2, 3, 4, 5, 6]);
  const items: ManifestItem[] = LABELS.map((label, i) => ({ path: `/x/${i}.jpg`, label, split: 'test' }));
  const m = evaluateManifest(X, items, { ...opts(), protocol: 'reid' });
  assert.equal(m.recoveries[0].queryRows.length, 4);
  assert.equal(m.recoveries[0].galleryRows.length, 2);
});

test('a group without queries is a UserError naming the set', () => {
  const items: ManifestItem[] = [0, 1].map((i) => ({ path: `/x/${i}.jpg`, label: i, split: 'test', role: 'gallery', set: 3 }));
  assert.throws(
    () => evaluateManifest(Float32Array.from([0, 1]), items, { kVals: [1], rng: new Rng(1) }),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /Set 0.*no query/);
      return true;
    },
  );
});
