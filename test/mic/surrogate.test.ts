import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layer1PoolWindow, pooledSide, standardiseByClass, ReclusterSchedule, l2NormalizeRows, compactLabels } from '../../src/mic/surrogate.ts';

test('layer1 pooling: 224 px gives the original kernel 18 / stride 12 and a 4×4 grid (4096-d)', () => {
  assert.deepEqual(layer1PoolWindow(56), { kernel: 18, stride: 12 });
  assert.equal(pooledSide(56, 18, 12), 4);
  const w64 = layer1PoolWindow(16); // 64 px input
  assert.deepEqual(w64, { kernel: 5, stride: 3 });
  assert.equal(pooledSide(16, w64.kernel, w64.stride), 4);
  const w32 = layer1PoolWindow(8);
  assert.ok(pooledSide(8, w32.kernel, w32.stride) >= 2);
});

test('class centring subtracts each class mean (hand-computed)', () => {
  // two classes, dim 2: class 0 rows (1,2),(3,4) mean (2,3); class 1 rows (10,0) mean (10,0)
  const x = Float32Array.from([1, 2, 10, 0, 3, 4]);
  standardiseByClass(x, 3, 2, Int32Array.from([0, 1, 0]), 'mean');
  assert.deepEqual([...x], [-1, -1, 0, 0, 1, 1]);
});

test('no_norm still centres (kept quirk); mstd divides by class std and guards zero std', () => {
  const a = Float32Array.from([1, 2, 3, 4]);
  standardiseByClass(a, 2, 2, Int32Array.from([0, 0]), 'no_norm');
  assert.deepEqual([...a], [-1, -1, 1, 1]);
  // class 0: values (1,5),(3,5): centred (-1,0),(1,0); std dim0 = 1, dim1 = 0 (guarded)
  const b = Float32Array.from([1, 5, 3, 5, 7, 7]);
  standardiseByClass(b, 3, 2, Int32Array.from([0, 0, 1]), 'mstd');
  assert.deepEqual([...b], [-1, 0, 1, 0, 0, 0]);
});

test('re-clustering after epochs 3, 7, 11 for freq 3', () => {
  const s = new ReclusterSchedule(3);
  const at: number[] = [];
  for (let e = 0; e < 13; e++) if (s.afterEpoch()) at.push(e);
  assert.deepEqual(at, [3, 7, 11]);
  const every = new ReclusterSchedule(0);
  assert.deepEqual(
    [0, 1, 2].map(() => every.afterEpoch()),
    [true, true, true],
  );
});

test('row L2 normalisation and label compaction', () => {
  const x = Float32Array.from([3, 4, 0, 0]);
  l2NormalizeRows(x, 2, 2);
  assert.deepEqual(
    [...x].map((v) => +v.toFixed(6)),
    [0.6, 0.8, 0, 0],
  );
  assert.deepEqual([...compactLabels(Int32Array.from([5, 2, 5, 9]))], [1, 0, 1, 2]);
});
