import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecisionAtR, MapAtRAccumulator } from '../../../src/eval/metrics/map-at-r.ts';

/** Reference labels where id i has label relevance[i] (1 = the query's label 7, 0 = another). */
function ranked(relevance: number[]): { ids: Int32Array; labels: number[] } {
  return { ids: Int32Array.from(relevance.keys()), labels: relevance.map((r) => (r ? 7 : 3)) };
}

test('Reality-Check definition: same R-precision, MAP@R rewards relevant items ranked first', () => {
  // R = 4. [1,1,0,0]: P(1)=1, P(2)=1 → AP = 2/4 = 0.5; R-precision = 2/4.
  const a = ranked([1, 1, 0, 0, 1, 1]);
  const ra = averagePrecisionAtR(a.ids, 0, 4, 7, a.labels);
  assert.ok(Math.abs(ra.apAtR - 0.5) < 1e-12);
  assert.equal(ra.rPrecision, 0.5);
  // [0,0,1,1]: P(3)=1/3, P(4)=2/4 → AP = (1/3 + 1/2)/4 = 5/24; same R-precision 0.5
  const b = ranked([0, 0, 1, 1, 1, 1]);
  const rb = averagePrecisionAtR(b.ids, 0, 4, 7, b.labels);
  assert.ok(Math.abs(rb.apAtR - 5 / 24) < 1e-12);
  assert.equal(rb.rPrecision, 0.5);
  // [1,0,1,1]: (1 + 2/3 + 3/4)/4
  const c = ranked([1, 0, 1, 1]);
  assert.ok(Math.abs(averagePrecisionAtR(c.ids, 0, 4, 7, c.labels).apAtR - (1 + 2 / 3 + 3 / 4) / 4) < 1e-12);
  // relevant items beyond rank R do not count
  const d = ranked([0, 1, 1]);
  assert.deepEqual(averagePrecisionAtR(d.ids, 0, 1, 7, d.labels), { apAtR: 0, rPrecision: 0 });
});

test('queries with R = 0 are left out of the means', () => {
  const acc = new MapAtRAccumulator();
  acc.add(0.5, 0.5);
  acc.add(NaN, NaN);
  acc.add(1, 1);
  assert.equal(acc.queries, 2);
  assert.deepEqual(acc.result(), { mapAtR: 0.75, rPrecision: 0.75 });
  assert.ok(Number.isNaN(new MapAtRAccumulator().result().mapAtR));
  assert.ok(Number.isNaN(averagePrecisionAtR(Int32Array.from([0]), 0, 0, 7, [7]).apAtR));
});
