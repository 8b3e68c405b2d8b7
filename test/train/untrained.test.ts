import { test } from 'node:test';
import assert from 'node:assert/strict';
import { improvementLine, untrainedFigures, untrainedLine } from '../../src/train/untrained.ts';
import { emptyHistory } from '../../src/report/history.ts';

const FIGURES = { NMI: 0.5641, F1: 0.3, 'Recall @ 1': 0.85, 'Recall @ 2': 0.9 };

function historyWith(rows: Record<string, number>[]) {
  const h = emptyHistory(['NMI', 'F1', 'Recall @ 1', 'Recall @ 2']);
  rows.forEach((r, e) => {
    h.val.Epochs.push(e);
    h.val.Time.push(1);
    for (const [k, v] of Object.entries(r)) h.val[k].push(v);
  });
  return h;
}

test('untrainedLine names NMI and Recall@1 of each evaluated group, 3 decimals', () => {
  assert.equal(untrainedLine(FIGURES), 'untrained network (before epoch 1): NMI 0.564, Recall @ 1 0.850');
  const sets = { 'Set 0 NMI': 0.5, 'Set 0 Recall @ 1': 0.25, 'Set 0 Recall @ 5': 0.5, 'Val NMI': 0.125, 'Val Recall @ 1': 0.75 };
  assert.equal(
    untrainedLine(sets),
    'untrained network (before epoch 1): Set 0 NMI 0.500, Set 0 Recall @ 1 0.250, Val NMI 0.125, Val Recall @ 1 0.750',
  );
});

test('improvementLine: untrained → final epoch with signed differences and the epoch count', () => {
  const h = historyWith([
    { NMI: 0.6, F1: 0.3, 'Recall @ 1': 0.9, 'Recall @ 2': 0.95 },
    { NMI: 0.55, F1: 0.3, 'Recall @ 1': 0.875, 'Recall @ 2': 0.95 },
  ]);
  // 0.875 − 0.85 = +0.025; 0.55 − 0.5641 = −0.0141 → −0.014.
  assert.equal(improvementLine(FIGURES, h), 'Recall@1 0.850 → 0.875 (+0.025), NMI 0.564 → 0.550 (−0.014) over 2 epochs (untrained → final epoch)');
  assert.equal(improvementLine(undefined, h), undefined, 'no figures (a resumed run from an older checkpoint)');
  assert.equal(improvementLine(FIGURES, historyWith([])), undefined, 'no epoch logged');
  const one = historyWith([{ NMI: 0.6, F1: 0.3, 'Recall @ 1': 0.9, 'Recall @ 2': 0.95 }]);
  assert.match(improvementLine(FIGURES, one)!, / over 1 epoch \(/);
});

test("untrainedFigures evaluates and logs a fresh run, reuses the checkpoint's figures on resume, and stores them for later checkpoints", async () => {
  const logs: string[] = [];
  let calls = 0;
  const evaluate = async () => (calls++, { metrics: { ...FIGURES } });
  const meta: Record<string, unknown> = { format: 'mic-train' };
  const fresh = await untrainedFigures(evaluate, undefined, meta, (l) => logs.push(l));
  assert.deepEqual(fresh, FIGURES);
  assert.equal(calls, 1);
  assert.match(logs[0], /^untrained network \(before epoch 1\): NMI 0\.564, Recall @ 1 0\.850 \(\d+\.\d s\)$/);
  assert.deepEqual(meta.untrained, FIGURES);

  const resumedMeta: Record<string, unknown> = {};
  const resumed = await untrainedFigures(evaluate, { untrained: { NMI: 0.25, 'Recall @ 1': 0.5 } }, resumedMeta, (l) => logs.push(l));
  assert.deepEqual(resumed, { NMI: 0.25, 'Recall @ 1': 0.5 });
  assert.deepEqual(resumedMeta.untrained, resumed);
  assert.equal(calls, 1, 'not evaluated again on resume');
  assert.equal(logs.length, 1, 'nothing logged on resume');
  assert.equal(await untrainedFigures(evaluate, {}, {}, () => undefined), undefined, 'older checkpoint without figures');
  assert.equal(calls, 1);
});
