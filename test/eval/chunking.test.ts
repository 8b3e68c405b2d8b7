import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockBytes, blockRows, DEFAULT_BLOCK_BUDGET_BYTES } from '../../src/eval/chunking.ts';
import { knnBlockRows } from '../../src/eval/knn.ts';

test('blockRows: fits the budget, at least one row, at most all rows', () => {
  // 1000 columns × 8 bytes = 8000 bytes per row → 12 rows in 100 kB
  assert.equal(blockRows(1000, 500, { budgetBytes: 100_000 }), 12);
  assert.equal(blockRows(1000, 5, { budgetBytes: 100_000 }), 5);
  assert.equal(blockRows(1_000_000, 500, { budgetBytes: 1000 }), 1);
  // extra bytes per row count too: 8000 + 2000 per row → 10 rows
  assert.equal(blockRows(1000, 500, { budgetBytes: 100_000, extraBytesPerRow: 2000 }), 10);
});

test('SOP scale (60,502 × 128): one kNN block with k = 1000 stays within the default budget', () => {
  const n = 60502;
  const rows = knnBlockRows(n, n, 128, 1000);
  assert.ok(rows >= 64, `block of ${rows} rows is too small to be efficient`);
  assert.ok(rows < n / 50, `block of ${rows} rows is not a bounded chunk`);
  const bytes = blockBytes(rows, n, 1001 * 8 + 2 * 129 * 4);
  assert.ok(bytes <= DEFAULT_BLOCK_BUDGET_BYTES, `${bytes} bytes > budget`);
  // the full distance matrix would be 14.6 GB; the block is under 2 % of it
  assert.ok(bytes < 0.02 * n * n * 4);
});

test('SOP-scale NMI: k-means assignment blocks (11,316 centroids) stay within the default budget', () => {
  const rows = blockRows(11316, 60502, { extraBytesPerRow: 2 * 129 * 4 });
  assert.ok(rows * (11316 * 8 + 2 * 129 * 4) <= DEFAULT_BLOCK_BUDGET_BYTES);
  assert.ok(rows < 60502);
});
