/**
 * Issue 14, item 8: no silently wrong settings. `--threads 99` was accepted (and 3.7× slower), `--seed
 * 4294967299` was the same run as `--seed 3`, `--lr 0x10` was 16 and `--lr abc` answered "got 'NaN'", `--loss
 * foo` was blamed on `--losses`, config-file errors did not name the file, `"dry-run": true` in a config
 * started a real run, `--resume` continued on a different dataset of the same size, and a too large
 * `--shared_num_classes` was reduced without a word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgv, resolveConfig } from '../../src/cli/parse.ts';
import { UserError } from '../../src/errors.ts';
import { settingNotes } from '../../src/train/preflight.ts';
import { assertUserError, runCli, runCliLive, folderDataset } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

function refused(argv: string[], re: RegExp): void {
  assert.throws(
    () => resolveConfig(parseArgv(argv)),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `${argv.join(' ')}: ${String(e)}`);
      assert.match(e.message, re, argv.join(' '));
      assert.ok(!e.message.includes('\n'));
      return true;
    },
  );
}

test('numbers are parsed strictly and the typed text is echoed', () => {
  refused(['--lr', '0x10'], /^--lr: expected a number, got '0x10'$/);
  refused(['--lr', 'abc'], /^--lr: expected a number, got 'abc'$/);
  refused(['--lr', ''], /--lr: expected a number, got ''/);
  refused(['--bs', '1e2'], /^--bs: expected an integer, got '1e2'$/);
  refused(['--bs', '0b11'], /--bs: expected an integer, got '0b11'/);
  refused(['--n_epochs', '99999999999999999999'], /--n_epochs: expected an integer/);
  refused(['--task_p', '1', 'Infinity'], /--task_p: expected a number, got 'Infinity'/);
  const c = resolveConfig(parseArgv(['--lr', '3e-5', '--beta', '-1', '.5', '--bs', '+16', '--cs_per_bs', '4', '4']));
  assert.equal(c.lr, 3e-5);
  assert.deepEqual(c.beta, [-1, 0.5]);
  assert.equal(c.bs, 16);
});

test("seeds outside numpy's 0 … 2^32−1 are refused (4294967299 was taken as 3)", () => {
  refused(['--seed', '4294967299'], /--seed: expected an integer from 0 to 4294967295.*got '4294967299'/);
  refused(['--seed', '-1'], /--seed: expected an integer from 0 to 4294967295/);
  assert.equal(resolveConfig(parseArgv(['--seed', '4294967295'])).seed, 4294967295);
  assert.equal(resolveConfig(parseArgv(['--seed', '0'])).seed, 0);
});

test('--loss errors name --loss, with the closest value', () => {
  refused(['--loss', 'foo'], /^--loss: unknown value 'foo'; expected one of: marginloss, triplet, proxynca$/);
  refused(['--loss', 'triplett'], /^--loss: unknown value 'triplett'.*did you mean 'triplet'\?$/);
});

test('errors of values from a --config file name the file and the key; validation names the file too', () => {
  const dir = tempDir();
  const f = (name: string, obj: unknown) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, JSON.stringify(obj));
    return p;
  };
  const a = f('a.json', { lr: 'abc' });
  refused(['--config', a], new RegExp(`^--config '${a}', key 'lr': expected a number, got 'abc'$`));
  const b = f('b.json', { nEpochs: 2.5 });
  refused(['--config', b], new RegExp(`^--config '${b}', key 'nEpochs': expected an integer, got '2.5'$`));
  const c = f('c.json', { bs: 10, cs_per_bs: [4, 4] });
  refused(['--config', c], new RegExp(`bs must be a multiple of cs_per_bs.*\\(--bs, --cs_per_bs from --config '${c}'\\)$`));
  // The command line overrides the file, and then the flag is named.
  refused(['--config', a, '--lr', 'xyz'], /^--lr: expected a number, got 'xyz'$/);
  assert.equal(resolveConfig(parseArgv(['--config', a, '--lr', '0.1'])).lr, 0.1);
  const d = f('d.json', { n_epoch: 3 });
  refused(['--config', d], /unknown key 'n_epoch'; did you mean 'n_epochs'\?/);
});

test('"dry-run": true in a --config file is honoured: the configuration is printed, nothing starts', () => {
  const dir = tempDir();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ 'dry-run': true, dataset: 'sample', n_epochs: 2, save_path: dir }));
  const r = runCli(['--config', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).nEpochs, 2);
  assert.doesNotMatch(r.stderr, /backend:/);
  assert.deepEqual(fs.readdirSync(dir), ['c.json']);
});

test('--threads / --kernels above the core count and --micro-bs above --bs are announced', () => {
  const base = { threads: 0, kernels: 8, microBs: 0, bs: 32, backend: 'auto' as const };
  assert.deepEqual(settingNotes(base, 2), [], 'defaults say nothing');
  const notes = settingNotes({ ...base, threads: 99, kernels: 16, microBs: 64 }, 2);
  assert.equal(notes.length, 3, notes.join('\n'));
  assert.match(notes[0], /^warning: --threads 99 is more than the 2 cores here/);
  assert.match(notes[1], /^warning: --kernels 16 is more than the 2 cores here: 2 image decoding threads are used/);
  assert.match(notes[2], /^note: --micro-bs 64 is larger than --bs 32/);
  assert.deepEqual(settingNotes({ ...base, threads: 2, kernels: 2 }, 2), []);
  // From the CLI, before any work (here the dataset is missing, so nothing else happens).
  const r = runCli(['--threads', '99', '--dataset', 'folder', '--source_path', path.join(tempDir(), 'none'), '--backend', 'wasm']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^warning: --threads 99 is more than the \d+ cores here/m);
});

test('a --shared_num_classes larger than the training images is announced, not silently reduced', async () => {
  const ds = folderDataset(path.join(tempDir(), 'ds'), ['a1', 'a2', 'b1', 'b2'], 4);
  let killed = false;
  const r = await runCliLive(
    [
      '--dataset',
      'folder',
      '--source_path',
      ds,
      '--save_path',
      tempDir(),
      ...'--bs 4 --cs_per_bs 2 2 --shared_num_classes 40 --backend cpu --not_pretrained'.split(' '),
    ],
    (stderr, child) => {
      if (!killed && /initial clustering|backend:/.test(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  );
  assert.match(r.stderr, /note: --shared_num_classes 40 is more than the 8 training images: at most 8 clusters are made/);
});

test('--resume on a different dataset of the same size is refused; the same dataset moved elsewhere is fine', () => {
  const dir = tempDir();
  const a = folderDataset(path.join(dir, 'A'), ['a1', 'a2', 'b1', 'b2'], 4);
  const b = folderDataset(path.join(dir, 'B'), ['c1', 'c2', 'd1', 'd2'], 4, '011.Sandal');
  const out = path.join(dir, 'out');
  const run = runCli(
    [
      '--dataset',
      'folder',
      '--source_path',
      a,
      '--save_path',
      out,
      ...'--savename r --not_pretrained --backend wasm --input-size 32 --bs 4 --cs_per_bs 2 2 --n_epochs 1 --task_p 1 0 --adv_weights 0 --kernels 1'.split(
        ' ',
      ),
    ],
    { timeoutMs: 300_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  const runDir = path.join(out, 'folder', 'r');
  const hypa = JSON.parse(fs.readFileSync(path.join(runDir, 'hypa.json'), 'utf8'));
  assert.match(hypa.dataFingerprint.sha256, /^[0-9a-f]{64}$/);
  assert.equal(hypa.dataFingerprint.images, 16);
  const other = runCli(['--resume', runDir, '--source_path', b]);
  assertUserError(other, /--resume .*r: the dataset is not the one the run was made with \(both have 16 images, but other files, labels or sizes\)/);
  fs.renameSync(a, path.join(dir, 'A-moved'));
  const moved = runCli(['--resume', runDir, '--source_path', path.join(dir, 'A-moved')], { timeoutMs: 300_000 });
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stderr, /resuming .* after epoch 1 \(1\/1 epochs done\)/);
});
