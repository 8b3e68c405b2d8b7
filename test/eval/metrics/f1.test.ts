import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pairwiseF1 } from '../../../src/eval/metrics/f1.ts';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/eval/cluster_metrics.json', import.meta.url), 'utf8')) as {
  cases: { name: string; true: number[]; pred: number[]; f1: number }[];
};

test('hand-computed: true [0,0,1,1] vs clusters [0,0,0,1] → F1 0.4', () => {
  // TP = C(2,2) = 1; same-class pairs = 1 + 1 = 2; same-cluster pairs = C(3,2) = 3 → P = 1/2, R = 1/3
  assert.ok(Math.abs(pairwiseF1([0, 0, 1, 1], [0, 0, 0, 1]) - 0.4) < 1e-12);
  assert.equal(pairwiseF1([5, 5, 6], [1, 1, 0]), 1);
  assert.equal(pairwiseF1([0, 0, 1, 1], [0, 1, 2, 3]), 0);
});

for (const c of fixture.cases) {
  test(`pair_confusion_matrix fixture: ${c.name}`, () => {
    assert.ok(Math.abs(pairwiseF1(c.true, c.pred) - c.f1) < 1e-12, `${pairwiseF1(c.true, c.pred)} vs ${c.f1}`);
  });
}

test('vectorised: 60k items, 11k classes and clusters in well under a second', () => {
  const n = 60_000;
  const t = new Int32Array(n).map((_, i) => i % 11_000);
  // 7·i mod 11000 is a function of i mod 11000 and a bijection (gcd(7, 11000) = 1): the same partition
  const p = new Int32Array(n).map((_, i) => (i * 7) % 11_000);
  const start = performance.now();
  assert.equal(pairwiseF1(t, p), 1);
  assert.ok(performance.now() - start < 1000);
  p[0] = 11_000; // move one item to a cluster of its own: TP loses 5 pairs of its class of 6 → F1 < 1
  assert.ok(pairwiseF1(t, p) < 1);
});
