import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimateRun, formatDuration, PAPER_RUNS } from '../../src/train/eta.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test("the table's recipes are Result_Runs.sh's (epochs, task_p, cluster_update_freq per dataset)", () => {
  // `Result_Runs.sh --list` prints every recipe with its flags; the paper's five are the ones not named baseline-*.
  const listed = execFileSync('bash', [path.join(REPO, 'Result_Runs.sh'), '--list'], { encoding: 'utf8' });
  const lines = listed.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('baseline-'));
  assert.equal(lines.length, PAPER_RUNS.length);
  for (const line of lines) {
    const flag = (name: string, n = 1) => {
      const words = line.split(/\s+/);
      const i = words.indexOf(`--${name}`);
      return words.slice(i + 1, i + 1 + n);
    };
    const run = PAPER_RUNS.find((r) => r.dataset === flag('dataset')[0]);
    assert.ok(run, `dataset ${flag('dataset')[0]} in the table`);
    assert.equal(run.epochs, Number(flag('n_epochs')[0]));
    assert.deepEqual(run.taskP, flag('task_p', 2).map(Number));
    assert.equal(run.clusterUpdateFreq, Number(flag('cluster_update_freq')[0]));
  }
});

test('estimate of a run from a measured step, by hand', () => {
  const run = { dataset: 'x', train: 1000, evaluated: 500, countsNote: '', epochs: 10, taskP: [1, 0.5] as [number, number], clusterUpdateFreq: 1 };
  // Measured: 2 s per step of 8 images (0.25 s per image), 0.01 s per image to embed.
  const e = estimateRun(run, { stepSeconds: 2, bs: 8, evalSecondsPerImage: 0.01 }, 100);
  // floor(1000/100) = 10 iterations × 1.5 steps × 25 s = 375 s; evaluation 500 × 0.01 = 5 s;
  // re-clustering 1000 × 0.01 / 2 = 5 s per epoch → 385 s; run: initial clustering 10 s + 10 × 385 s.
  assert.equal(e.itersPerEpoch, 10);
  assert.ok(Math.abs(e.epochSeconds - 385) < 1e-9, String(e.epochSeconds));
  assert.ok(Math.abs(e.runSeconds - 3860) < 1e-9, String(e.runSeconds));
  // Scaled 4× (e.g. from 112 px to 224 px): every compute time ×4.
  assert.ok(Math.abs(estimateRun(run, { stepSeconds: 2, bs: 8, evalSecondsPerImage: 0.01 }, 100, 4).runSeconds - 4 * 3860) < 1e-6);
  // Without a Shared task there is no clustering at all.
  const baseline = estimateRun({ ...run, taskP: [1, 0] }, { stepSeconds: 2, bs: 8, evalSecondsPerImage: 0.01 }, 100);
  assert.ok(Math.abs(baseline.epochSeconds - (10 * 25 + 5)) < 1e-9);
  assert.ok(Math.abs(baseline.runSeconds - 10 * 255) < 1e-9);
});

test('durations in the unit a person would use', () => {
  assert.equal(formatDuration(4.25), '4.3 s');
  assert.equal(formatDuration(75), '75 s');
  assert.equal(formatDuration(600), '10.0 min');
  assert.equal(formatDuration(3 * 3600), '3.0 h');
  assert.equal(formatDuration(10 * 86400), '10.0 days');
  assert.equal(formatDuration(3 * 365 * 86400), '3.0 years');
  assert.equal(formatDuration(NaN), '—');
});
