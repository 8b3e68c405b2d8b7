import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { RunReporter, columnSets } from '../../src/report/run-reporter.ts';
import { valMetricColumns } from '../../src/report/history.ts';
import { UserError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const newDir = () => tempDir('mic-report-');
const readCsv = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));
const cub = valMetricColumns([1, 2, 4, 8]);

/** Epoch e's metrics: R@1 peaks at epoch 1. */
const metricsFor = (cols: readonly string[], e: number) =>
  Object.fromEntries(cols.map((c, i) => [c, Number((0.1 * (i % 6) + (e === 1 ? 0.05 : 0.01 * e)).toFixed(4))]));

function runEpochs(r: RunReporter, epochs: number[], cols: readonly string[]) {
  const best: boolean[] = [];
  for (const e of epochs) {
    r.logTrain(e, 12.345678 + e, 0.5 - 0.1 * e);
    r.logVal(e, 3.6 + e, metricsFor(cols, e));
    best.push(r.isNewBest(cols.find((c) => c.endsWith('Recall @ 1'))!));
  }
  return best;
}

test('fresh run: CSV headers equal the original’s, one row per epoch, numbers parse, times rounded', () => {
  const dir = newDir();
  const r = new RunReporter(dir, cub);
  r.start();
  const best = runEpochs(r, [0, 1, 2], cub);
  assert.deepEqual(best, [true, true, false], 'new best R@1 in epochs 0 and 1 only');

  const train = readCsv(path.join(dir, 'log_train_Class.csv'));
  assert.deepEqual(train[0], ['Epochs', 'Time', 'Train Loss']);
  assert.deepEqual(
    train.slice(1).map((row) => row.map(Number)),
    [
      [0, 12.3457, 0.5],
      [1, 13.3457, 0.4],
      [2, 14.3457, 0.3],
    ],
  );

  const val = readCsv(path.join(dir, 'log_val_Class.csv'));
  assert.equal(val[0].join(','), 'Epochs,Time,NMI,F1,Recall @ 1,Recall @ 2,Recall @ 4,Recall @ 8');
  assert.equal(val.length, 4);
  for (const row of val.slice(1))
    assert.ok(
      row.every((x) => Number.isFinite(Number(x))),
      `numeric row ${row}`,
    );
  assert.deepEqual(val[2].slice(0, 3).map(Number), [1, 5, 0.05], 'Epochs, integer eval seconds, NMI');

  r.writeSummary();
  assert.match(fs.readFileSync(path.join(dir, 'Curr_Summary_Class.txt'), 'utf8'), /Max\. Recall @ 1: 0\.250/);
});

test('plots: InfoPlot_Class.svg for one test set; VehicleID gets one per set, each valid SVG', async () => {
  const dir = newDir();
  const r = new RunReporter(dir, cub);
  r.start();
  runEpochs(r, [0, 1], cub);
  assert.deepEqual(await r.writePlot(), [path.join(dir, 'InfoPlot_Class.svg')]);

  const vid = valMetricColumns([1, 5], 3);
  assert.deepEqual(columnSets(vid), [0, 1, 2]);
  const dir2 = newDir();
  const r2 = new RunReporter(dir2, vid);
  r2.start();
  runEpochs(r2, [0, 1], vid);
  const files = await r2.writePlot();
  assert.deepEqual(
    files.map((f) => path.basename(f)),
    ['InfoPlot_Class_Set1.svg', 'InfoPlot_Class_Set2.svg', 'InfoPlot_Class_Set3.svg'],
  );
  const svg2 = fs.readFileSync(files[1], 'utf8');
  assert.ok(svg2.includes('>Set 1 Recall @ 5<') && !svg2.includes('>Set 0 NMI<'), 'set 2 plot holds set 2 metrics only');
  await sharp(Buffer.from(svg2)).png().toBuffer();
  // VehicleID rows are in header order (the original swapped Epochs and Time).
  const val = readCsv(path.join(dir2, 'log_val_Class.csv'));
  assert.equal(val[0][2], 'Set 0 NMI');
  assert.deepEqual(val[2].slice(0, 2).map(Number), [1, 5]);
});

test('resume: history through the checkpoint epoch is restored, later rows vanish, logging continues without duplicates', () => {
  const dir = newDir();
  const a = new RunReporter(dir, cub);
  a.start();
  runEpochs(a, [0, 1], cub);
  const saved = JSON.parse(JSON.stringify(a.history())); // as stored in the checkpoint after epoch 1
  runEpochs(a, [2], cub); // epoch 2 rows reach the CSVs, then the run is killed before its checkpoint

  const b = new RunReporter(dir, cub);
  b.restore(saved, 1);
  assert.equal(readCsv(path.join(dir, 'log_train_Class.csv')).length, 3, 'header + epochs 0, 1');
  const best = runEpochs(b, [2, 3], cub);
  assert.deepEqual(best, [false, false], 'best-so-far continues from the restored history');

  // Identical to an uninterrupted run.
  const dirRef = newDir();
  const ref = new RunReporter(dirRef, cub);
  ref.start();
  runEpochs(ref, [0, 1, 2, 3], cub);
  for (const f of ['log_train_Class.csv', 'log_val_Class.csv']) {
    assert.equal(fs.readFileSync(path.join(dir, f), 'utf8'), fs.readFileSync(path.join(dirRef, f), 'utf8'), f);
  }
});

test('restoring a history of other columns is a UserError; logging a wrong metric set is a bug', () => {
  const dir = newDir();
  const r = new RunReporter(dir, cub);
  r.start();
  const other = new RunReporter(newDir(), valMetricColumns([1, 10, 100, 1000]));
  assert.throws(
    () => r.restore(other.history(), 0, 'run/last'),
    (e: unknown) => e instanceof UserError && /run\/last.*--k_vals/.test(e.message),
  );
  assert.throws(() => r.logVal(0, 1, { NMI: 1 }), /missing: F1/);
  r.logTrain(0, 1, 1);
  assert.throws(() => r.logTrain(0, 1, 1), /after epoch 0/);
});
