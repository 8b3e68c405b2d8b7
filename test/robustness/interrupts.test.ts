/**
 * Issue 14, item 7: no hangs, no silent exits. `--save_path /proc/self/x` hung forever (recursive mkdir on
 * /proc); Ctrl-C during start-up or the initial clustering exited 130 without a word and left an empty run
 * folder that pushed the next run to `_1`; a second Ctrl-C did not say what `last/` holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkSavePath } from '../../src/report/run-folder.ts';
import { UserError } from '../../src/errors.ts';
import { assertUserError, runCli, runCliLive, folderDataset } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

test('--save_path on /proc or /sys is refused at once, naming the file system', () => {
  for (const [p, fsName] of [
    ['/proc/self/x', 'proc'],
    ['/proc/x/y/z', 'proc'],
    ['/sys/kernel/x', 'sysfs'],
  ]) {
    assert.throws(
      () => checkSavePath(p),
      (e: unknown) => e instanceof UserError && e.message.includes(`'${p}' is on the ${fsName} pseudo file system`),
    );
  }
  const r = runCli(['--dataset', 'sample', '--save_path', '/proc/self/x', '--backend', 'cpu'], { timeoutMs: 60_000 });
  assertUserError(r, /--save_path: '\/proc\/self\/x' is on the proc pseudo file system/);
  assert.doesNotMatch(r.stderr, /backend:/, 'refused before the backend started');
});

test('--save_path through a file, or a folder without write permission, is refused before any work', () => {
  const dir = tempDir();
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'x');
  assert.throws(() => checkSavePath(path.join(file, 'runs')), /is a file, not a folder/);
  if (process.getuid?.() !== 0) {
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o500 });
    assert.throws(() => checkSavePath(path.join(ro, 'runs')), /cannot write into/);
  }
  checkSavePath(path.join(dir, 'new', 'deeper')); // a folder that can be made is fine
});

/** A tiny dataset: 4 train + 4 test classes of 8 images. */
function tinyDataset(): string {
  return folderDataset(path.join(tempDir(), 'ds'), ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4'], 8);
}

/** A tiny wasm run of the Class task alone into `out/folder/r`, `epochs` long. */
function tinyRunArgs(out: string, epochs: number): string[] {
  const settings = '--savename r --backend wasm --not_pretrained --input-size 32 --bs 8 --task_p 1 0 --adv_weights 0 --kernels 1'.split(' ');
  return ['--dataset', 'folder', '--source_path', tinyDataset(), '--save_path', out, '--n_epochs', String(epochs), ...settings];
}

test('Ctrl-C during the initial clustering says so, exits 130 and leaves no run folder', async () => {
  const out = tempDir();
  let sent = false;
  const r = await runCliLive(
    // The sample trains the Class task alone by default; the Shared task brings the initial clustering back.
    ['--dataset', 'sample', '--task_p', '1', '1', '--input-size', '64', '--save_path', out, '--backend', 'wasm', '--kernels', '1'],
    (stderr, child) => {
      if (!sent && /initial clustering/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
    { timeoutMs: 240_000 },
  );
  assert.ok(sent, r.stderr);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /SIGINT during initial clustering: stopping now \(training has not started, so there is nothing to save\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
  assert.deepEqual(fs.readdirSync(out), [], 'no run folder left behind');
});

test('Ctrl-C during start-up (right after the backend starts) says so and exits 130', async () => {
  const out = tempDir();
  let sent = false;
  const r = await runCliLive(
    ['--dataset', 'folder', '--source_path', tinyDataset(), '--save_path', out, '--backend', 'cpu', '--not_pretrained', '--bs', '8'],
    (stderr, child) => {
      if (!sent && /backend: cpu/.test(stderr)) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  );
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /SIGTERM during (start-up \([a-z ]+\)|initial clustering): stopping now/);
  assert.deepEqual(fs.readdirSync(out), []);
});

test('two Ctrl-C after an epoch was saved: quits at once and says what last/ holds', async () => {
  const out = tempDir();
  const runDir = path.join(out, 'folder', 'r');
  let sent = false;
  const r = await runCliLive(
    tinyRunArgs(out, 3),
    (_stderr, child) => {
      if (!sent && fs.existsSync(path.join(runDir, 'last', 'state.json'))) {
        sent = true;
        // Two presses, as a person makes them (signals sent together can merge into one).
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    },
    { timeoutMs: 300_000 },
  );
  assert.ok(sent, `last/ never appeared:\n${r.stderr}`);
  assert.equal(r.code, 130, r.stderr);
  // (A heavily loaded machine may answer only once epoch 2 is evaluating; what last/ holds is the point.)
  assert.match(
    r.stderr,
    /SIGINT: stopping after the current step of epoch 2 \((training|evaluation)\), then saving last\/; press Ctrl-C again to quit at once \(last\/ holds epoch 1 complete\)/,
  );
  // The second signal is answered either before the trainer finished its step (quit at once) or after it saved.
  assert.match(
    r.stderr,
    /SIGINT again: quitting at once; last\/ holds epoch (1 complete|2 up to iteration \d+ of \d+)\. Continue with: npx mic-train --resume .*folder\/r|interrupted during epoch 2 at iteration \d+ of \d+; saved in last\//,
  );
  assert.ok(fs.existsSync(path.join(runDir, 'last', 'state.json')));
});

test('two Ctrl-C in the first epoch, before anything was saved: the run folder is removed, and said so', async () => {
  const out = tempDir();
  let sent = false;
  const r = await runCliLive(
    tinyRunArgs(out, 2),
    (stderr, child) => {
      // The untrained network is evaluated before epoch 1: its line is where the first epoch begins.
      if (!sent && /untrained network \(before epoch 1\)/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    },
    { timeoutMs: 300_000 },
  );
  assert.equal(r.code, 130, r.stderr);
  const quitAtOnce = /again: quitting at once; nothing was saved yet; the run folder .*folder\/r was removed/.test(r.stderr);
  const savedFirst = /interrupted during epoch 1 at iteration \d+ of \d+; saved in last\//.test(r.stderr);
  assert.ok(quitAtOnce || savedFirst, r.stderr);
  assert.equal(fs.existsSync(path.join(out, 'folder', 'r')), savedFirst, 'folder kept only when last/ was saved');
});

test('Ctrl-C during the evaluation of the untrained network says so, exits 130 and leaves no run folder', async () => {
  const out = tempDir();
  let sent = false;
  const r = await runCliLive(
    tinyRunArgs(out, 2),
    (stderr, child) => {
      // "run folder:" is the last line before the untrained evaluation starts.
      if (!sent && /run folder:/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
    { timeoutMs: 300_000 },
  );
  assert.equal(r.code, 130, r.stderr);
  assert.match(
    r.stderr,
    /SIGINT during the evaluation of the untrained network: stopping now \(training has not started, so there is nothing to save\); nothing was saved yet; the run folder .*folder\/r was removed/,
  );
  assert.deepEqual(fs.readdirSync(path.join(out, 'folder')), [], 'no run folder left behind');
});
