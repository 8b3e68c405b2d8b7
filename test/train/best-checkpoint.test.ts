import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManifestItem } from '../../src/data/manifest.ts';
import { bestCheckpointChoices } from '../../src/train/trainer.ts';

const item = (set?: 1 | 2 | 3): ManifestItem => ({ path: 'x.jpg', label: 0, split: 'test', ...(set === undefined ? {} : { set }) });
const one = [item(), item()];
const three = [item(1), item(2), item(2), item(3)];

test('one test set: test Recall@1 chooses checkpoint_Class/', () => {
  assert.deepEqual(bestCheckpointChoices(one, false), [{ column: 'Recall @ 1', folder: 'checkpoint_Class', testGroups: [0] }]);
});

test('VehicleID: each test set chooses its own checkpoint_set<n>/', () => {
  assert.deepEqual(bestCheckpointChoices(three, false), [
    { column: 'Set 0 Recall @ 1', folder: 'checkpoint_set1', testGroups: [0] },
    { column: 'Set 1 Recall @ 1', folder: 'checkpoint_set2', testGroups: [1] },
    { column: 'Set 2 Recall @ 1', folder: 'checkpoint_set3', testGroups: [2] },
  ]);
});

test('--val-split: the validation Recall@1 chooses one checkpoint_Class/, and every test set is drawn with it', () => {
  assert.deepEqual(bestCheckpointChoices(one, true), [{ column: 'Val Recall @ 1', folder: 'checkpoint_Class', testGroups: [0] }]);
  // The column the reporter has for the validation split is 'Val Recall @ 1', never 'Val Set g Recall @ 1'.
  assert.deepEqual(bestCheckpointChoices(three, true), [{ column: 'Val Recall @ 1', folder: 'checkpoint_Class', testGroups: [0, 1, 2] }]);
});
