/**
 * Exact resume: a run killed with SIGKILL during its third epoch and continued with --resume ends with the same
 * CSV rows as an uninterrupted 3-epoch run with the same seed (issue: outputs and resume).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTinyFolderDataset, runCli, runCliAndKill, runCliLive, tinyMicRunArgs } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const data = makeTinyFolderDataset(8);
const out = tempDir('mic-resume-');
const args = (name: string) => tinyMicRunArgs(data, out, name, 7);
const csvs = (name: string) =>
  ['log_train_Class.csv', 'log_val_Class.csv'].map((f) =>
    fs
      .readFileSync(path.join(out, 'folder', name, f), 'utf8')
      .trim()
      .split('\n')
      .map((l) =>
        l
          .split(',')
          .filter((_, i) => i !== 1)
          .join(','),
      ),
  );

test('SIGKILL during epoch 3 then --resume reproduces the uninterrupted run', async () => {
  const ref = runCli(args('ref'));
  assert.equal(ref.code, 0, ref.stderr);

  const killed = await runCliAndKill(args('cut'), (err) => /epoch 2\/3:/.test(err));
  assert.ok(killed.killed, `the run finished before it could be killed:\n${killed.stderr}`);
  const resumed = runCli(['--resume', path.join(out, 'folder', 'cut')]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* (after epoch \d|at iteration \d+ of epoch \d)/);
  // Times differ between runs (column 1 is dropped); epochs, losses and metrics must be identical.
  assert.deepEqual(csvs('cut'), csvs('ref'));
  // The untrained network is evaluated by the fresh runs only; the resumed run takes its figures from the
  // checkpoint, so its closing comparison is the uninterrupted run's.
  assert.match(ref.stderr, /untrained network \(before epoch 1\): NMI \d\.\d{3}, Recall @ 1 \d\.\d{3}/);
  assert.match(killed.stderr, /untrained network \(before epoch 1\)/);
  assert.doesNotMatch(resumed.stderr, /untrained network/);
  const gain = (err: string) => err.match(/\nRecall@1 .* over 3 epochs \(untrained → final epoch\)\n/)?.[0];
  assert.ok(gain(ref.stderr), ref.stderr);
  assert.equal(gain(resumed.stderr), gain(ref.stderr));
});

test('Ctrl-C (SIGINT) mid-run saves where it stopped; --resume continues to the same result', async () => {
  // One SIGINT a little after training has started (inside the first epoch's iterations); a second one would
  // mean "quit at once".
  let scheduled = false;
  const { code, stderr } = await runCliLive(
    args('int'),
    (err, child) => {
      if (scheduled || !/run folder:/.test(err)) return;
      scheduled = true;
      setTimeout(() => child.kill('SIGINT'), 2500);
    },
    { timeoutMs: 900_000 },
  );
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: stopping after the current step/);
  assert.match(stderr, /Continue with: npx mic-train --resume /);
  assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+\)/, 'no stack trace');
  const resumed = runCli(['--resume', path.join(out, 'folder', 'int')]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* (at iteration \d+ of epoch \d+|after epoch \d+)/);
  assert.deepEqual(csvs('int'), csvs('ref'));
});

test('--resume refuses a changed configuration and names the differing keys', () => {
  const r = runCli(['--resume', path.join(out, 'folder', 'ref'), '--lr', '0.1', '--seed', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /different configuration: .*lr .*seed|different configuration: .*seed.*lr/);
});

test('--resume of a folder that is not a run is a clear error', () => {
  const r = runCli(['--resume', data]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a mic-train run folder/);
});
