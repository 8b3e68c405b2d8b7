import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { nmi } from '../../../src/eval/metrics/nmi.ts';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/eval/cluster_metrics.json', import.meta.url), 'utf8')) as {
  cases: { name: string; true: number[]; pred: number[]; nmi_geometric: number; nmi_arithmetic: number }[];
};

test('hand-computed: identical partitions → 1; classes spread over singletons', () => {
  assert.equal(nmi([0, 0, 1, 1], [1, 1, 0, 0]), 1);
  // one class, four singleton clusters: I = 0 → 0 (scikit-learn's convention)
  assert.equal(nmi([0, 0, 0, 0], [0, 1, 2, 3]), 0);
  // both a single group → 1 by convention
  assert.equal(nmi([3, 3, 3], [7, 7, 7]), 1);
});

test('hand-computed: true [0,0,1,1] vs clusters [0,0,0,1]', () => {
  // H(true) = ln 2; H(pred) = −(3/4 ln 3/4 + 1/4 ln 1/4);
  // I = 2/4 ln((2·4)/(2·3)) + 1/4 ln((1·4)/(2·3)) + 1/4 ln((1·4)/(2·1))
  const hT = Math.log(2);
  const hP = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const mi = 0.5 * Math.log(8 / 6) + 0.25 * Math.log(4 / 6) + 0.25 * Math.log(2);
  assert.ok(Math.abs(nmi([0, 0, 1, 1], [0, 0, 0, 1]) - mi / Math.sqrt(hT * hP)) < 1e-12);
  assert.ok(Math.abs(nmi([0, 0, 1, 1], [0, 0, 0, 1], 'arithmetic') - mi / ((hT + hP) / 2)) < 1e-12);
});

for (const c of fixture.cases) {
  test(`scikit-learn fixture: ${c.name} (geometric and arithmetic)`, () => {
    assert.ok(Math.abs(nmi(c.true, c.pred, 'geometric') - c.nmi_geometric) < 1e-10, `geometric ${nmi(c.true, c.pred)} vs ${c.nmi_geometric}`);
    assert.ok(Math.abs(nmi(c.true, c.pred, 'arithmetic') - c.nmi_arithmetic) < 1e-10);
  });
}
