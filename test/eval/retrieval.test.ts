import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useTestBackend } from '../helpers/tf.ts';
import { identityExclusion } from '../../src/eval/knn.ts';
import { relevantCounts, retrievalPass } from '../../src/eval/retrieval.ts';

await useTestBackend();

test('relevant counts R exclude the query itself only when it is in the database', () => {
  const labels = [0, 0, 1, 0, 2];
  assert.deepEqual([...relevantCounts(labels, labels, identityExclusion(5))], [2, 2, 0, 2, 0]);
  assert.deepEqual([...relevantCounts([0, 2, 5], labels)], [3, 1, 0]);
});

test('faiss fixture: Recall@{1,2,4,8}, MAP@R, R-precision and the first neighbours agree', () => {
  const f = JSON.parse(readFileSync(new URL('../fixtures/eval/retrieval.json', import.meta.url), 'utf8'));
  const x = Float32Array.from(f.data);
  // small budget: the pass runs in many blocks
  const r = retrievalPass(x, f.labels, x, f.labels, f.dim, { kVals: f.k_vals, exclude: identityExclusion(f.n), budgetBytes: 20_000 });
  r.recall.forEach((v, i) => assert.ok(Math.abs(v - f.recall[i]) < 1e-12, `Recall@${f.k_vals[i]} ${v} vs ${f.recall[i]}`));
  assert.ok(Math.abs(r.mapAtR - f.map_at_r) < 1e-12, `MAP@R ${r.mapAtR} vs ${f.map_at_r}`);
  assert.ok(Math.abs(r.rPrecision - f.r_precision) < 1e-12);
  assert.equal(r.queriesWithRelevant, f.queries_with_relevant);
  for (let q = 0; q < f.n; q++) {
    assert.deepEqual([...r.neighbours.subarray(q * 3, q * 3 + 3)], f.neighbours8.slice(q * 8, q * 8 + 3), `query ${q}`);
  }
  assert.ok(r.searchDepth >= 8);
});
