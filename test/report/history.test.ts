import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHistory, truncateHistory, valMetricColumns, valRows } from '../../src/report/history.ts';

test('log_val columns per dataset equal the original’s, VehicleID sets in order', () => {
  const head = ['Epochs', 'Time'];
  const header = (cols: string[]) => valRows(emptyHistory(cols), cols)[0].join(',');
  assert.equal(header(valMetricColumns([1, 2, 4, 8])), 'Epochs,Time,NMI,F1,Recall @ 1,Recall @ 2,Recall @ 4,Recall @ 8');
  assert.equal(header(valMetricColumns([1, 10, 100, 1000])), 'Epochs,Time,NMI,F1,Recall @ 1,Recall @ 10,Recall @ 100,Recall @ 1000');
  assert.equal(header(valMetricColumns([1, 10, 20, 30, 50])), 'Epochs,Time,NMI,F1,Recall @ 1,Recall @ 10,Recall @ 20,Recall @ 30,Recall @ 50');
  assert.deepEqual(
    [...head, ...valMetricColumns([1, 5], 3)],
    [
      'Epochs',
      'Time',
      'Set 0 NMI',
      'Set 0 F1',
      'Set 0 Recall @ 1',
      'Set 0 Recall @ 5',
      'Set 1 NMI',
      'Set 1 F1',
      'Set 1 Recall @ 1',
      'Set 1 Recall @ 5',
      'Set 2 NMI',
      'Set 2 F1',
      'Set 2 Recall @ 1',
      'Set 2 Recall @ 5',
    ],
  );
});

test('truncating to a checkpoint epoch drops later rows only', () => {
  const h = emptyHistory(['NMI']);
  for (let e = 0; e < 4; e++) {
    h.train.Epochs.push(e);
    h.train.Time.push(1);
    h.train['Train Loss'].push(10 - e);
    h.val.Epochs.push(e);
    h.val.Time.push(2);
    h.val.NMI.push(e / 10);
  }
  const t = truncateHistory(h, 1);
  assert.deepEqual(t.train['Train Loss'], [10, 9]);
  assert.deepEqual(t.val.NMI, [0, 0.1]);
  assert.equal(h.train.Epochs.length, 4, 'the input is not modified');
});
