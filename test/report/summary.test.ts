import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary } from '../../src/report/summary.ts';
import { emptyHistory } from '../../src/report/history.ts';

test('Curr_Summary_Class.txt: sections, elapsed epochs/time, min loss and per-metric maxima with 3 decimals', () => {
  const cols = ['NMI', 'F1', 'Recall @ 1'];
  const h = emptyHistory(cols);
  // Best NMI is in epoch 0, best R@1 in epoch 2: maxima are per metric (a kept quirk, docs/porting.md#checkpoint-selection).
  const rows = [
    [0, 10.1, 0.5, 12, 0.6123, 0.2, 0.5],
    [1, 10.2, 0.3, 13, 0.6001, 0.2394, 0.55],
    [2, 10.3, 0.4, 11, 0.5, 0.1, 0.56149],
  ];
  for (const [e, tt, loss, vt, nmi, f1, r1] of rows) {
    h.train.Epochs.push(e);
    h.train.Time.push(tt);
    h.train['Train Loss'].push(loss);
    h.val.Epochs.push(e);
    h.val.Time.push(vt);
    h.val.NMI.push(nmi);
    h.val.F1.push(f1);
    h.val['Recall @ 1'].push(r1);
  }
  assert.equal(
    formatSummary(h, cols),
    [
      '----- train:',
      'Epochs Elapsed: 2',
      'Time Elapsed: 30.6s',
      'Min. Train Loss: 0.300',
      '',
      '----- val:',
      'Epochs Elapsed: 2',
      'Time Elapsed: 36s',
      'Max. NMI: 0.612',
      'Max. F1: 0.239',
      'Max. Recall @ 1: 0.561',
      '',
    ].join('\n'),
  );
});

test('before any epoch the summary says n/a instead of failing', () => {
  assert.match(formatSummary(emptyHistory(['NMI']), ['NMI']), /Min\. Train Loss: n\/a[\s\S]*Max\. NMI: n\/a/);
});
