/**
 * Result_Runs.sh as a command: recipe selection, the baseline recipes' flags (checked through mic-train's own
 * --dry-run, so a renamed flag breaks this test), stopping at the first failing recipe, unknown names.
 * The paper recipes themselves are trained in paper-recipes.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/cli.ts';

const script = path.join(REPO, 'Result_Runs.sh');
const runScript = (args: string[]) => spawnSync('bash', [script, ...args], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });

/** The JSON configurations `mic-train --dry-run` printed, one per run, in order. */
function dryRunConfigs(stdout: string): Record<string, unknown>[] {
  const docs = stdout.split(/^(?=\{$)/m).filter((s) => s.startsWith('{'));
  return docs.map((d) => JSON.parse(d.slice(0, d.indexOf('\n}') + 2)));
}

test('--list shows the five paper recipes and the baselines with their flags', () => {
  const r = runScript(['--list']);
  assert.equal(r.status, 0, r.stderr);
  const names = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names.slice(0, 5), ['cub200', 'cars196', 'online_products', 'in-shop', 'vehicle_id']);
  assert.ok(names.includes('baseline-proxynca-cub200') && names.includes('baseline-margin-vehicle_id'), names.join(' '));
  assert.match(
    r.stdout,
    /^online_products +--dataset online_products --seed 0 --savename result_run_sop --shared_num_classes 50 --cluster_update_freq 3 --adv_weights 250 --task_p 1 0\.5 --tau 20 35 --n_epochs 45 --random_cluster_pick_p 0\.2$/m,
  );
});

test('baseline recipes are single-task runs with their schedules (validated by mic-train --dry-run)', () => {
  const names = [
    'baseline-margin-cub200',
    'baseline-triplet-cub200',
    'baseline-proxynca-cub200',
    'baseline-margin-online_products',
    'baseline-margin-in-shop',
  ];
  const r = runScript([...names, '--', '--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  const cfgs = dryRunConfigs(r.stdout);
  assert.equal(cfgs.length, names.length, r.stdout);
  const pick = (c: Record<string, unknown>) => ({
    dataset: c.dataset,
    taskP: c.taskP,
    advWeights: c.advWeights,
    losses: c.losses,
    sampling: c.sampling,
    csPerBs: c.csPerBs,
    tau: c.tau,
    nEpochs: c.nEpochs,
  });
  const single = { taskP: [1, 0], advWeights: [0] };
  assert.deepEqual(cfgs.map(pick), [
    {
      dataset: 'cub200',
      ...single,
      losses: ['marginloss', 'marginloss'],
      sampling: ['distance', 'distance'],
      csPerBs: [4, 4],
      tau: [30],
      nEpochs: 50,
    },
    { dataset: 'cub200', ...single, losses: ['triplet', 'triplet'], sampling: ['semihard', 'semihard'], csPerBs: [4, 4], tau: [30], nEpochs: 50 },
    { dataset: 'cub200', ...single, losses: ['proxynca', 'proxynca'], sampling: ['distance', 'distance'], csPerBs: [1, 1], tau: [30], nEpochs: 50 },
    {
      dataset: 'online_products',
      ...single,
      losses: ['marginloss', 'marginloss'],
      sampling: ['distance', 'distance'],
      csPerBs: [4, 4],
      tau: [30],
      nEpochs: 40,
    },
    {
      dataset: 'in-shop',
      ...single,
      losses: ['marginloss', 'marginloss'],
      sampling: ['distance', 'distance'],
      csPerBs: [4, 4],
      tau: [25],
      nEpochs: 40,
    },
  ]);
  assert.match(r.stdout, /5 run\(s\) finished; run folders:\n {2}baseline-margin-cub200 -> \(no run folder written\)/);
});

test('stops at the first recipe that fails, naming it, and starts no later recipe', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-noroot-'));
  try {
    const r = runScript(['cars196', 'cub200', '--', '--source_path', empty, '--backend', 'cpu']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Result_Runs\.sh: recipe 'cars196' failed \(exit 2\)/);
    assert.match(r.stderr, /mic-train: .*cars196/);
    assert.doesNotMatch(r.stderr, /=== Result_Runs\.sh: cub200/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test('an unknown recipe name is refused with the list of names', () => {
  const r = runScript(['cub', '--', '--dry-run']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown recipe 'cub'; expected one of: cub200 cars196 online_products in-shop vehicle_id baseline-margin-cub200/);
  assert.equal(r.stdout, '');
});
