import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstHitRank, recallAtK } from '../../../src/eval/metrics/recall.ts';

test('first hit rank ignores -1 padding and reads from an offset', () => {
  const refLabels = [0, 1, 1, 2];
  const ids = Int32Array.from([9, 9, 3, 0, 2, -1]);
  assert.equal(firstHitRank(ids, 2, 4, 1, refLabels), 2); // ids 3 (label 2), 0 (label 0), 2 (label 1)
  assert.equal(firstHitRank(ids, 2, 2, 1, refLabels), -1); // not within depth 2
  assert.equal(firstHitRank(Int32Array.from([-1, -1]), 0, 2, 0, refLabels), -1);
});

test('Recall@k from first-hit ranks; queries without a hit count as misses', () => {
  const hits = Int32Array.from([0, 1, 3, -1]);
  assert.deepEqual(recallAtK(hits, [1, 2, 4, 8]), [0.25, 0.5, 0.75, 0.75]);
});
