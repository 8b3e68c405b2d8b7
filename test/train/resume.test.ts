/**
 * `--resume` without a training run: what `resolveRun` keeps from the run's hypa.json, and the checks made
 * before any work (configuration, last/, dataset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgv, resolveConfig, resolveRun } from '../../src/cli/parse.ts';
import { UserError } from '../../src/errors.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { writeRunInfo } from '../../src/report/run-info.ts';
import { checkSameDataset, openResume, resumingLine, savedDescription } from '../../src/train/resume.ts';
import type { PartialEpoch } from '../../src/train/run-state.ts';
import { validRunState } from '../helpers/run-state.ts';
import { tempDir } from '../helpers/tmp.ts';

const FINGERPRINT = { sha256: 'ab'.repeat(32), images: 96 };

/** A run folder with hypa.json (made with `flags`) and, unless `last` is false, a last/ checkpoint. */
function runFolder(flags: string[], opts: { last?: boolean; fingerprint?: boolean } = {}): string {
  const dir = tempDir('mic-resume-unit-');
  writeRunInfo(dir, resolveConfig(parseArgv(flags)), {}, opts.fingerprint === false ? {} : { dataFingerprint: FINGERPRINT });
  if (opts.last !== false) saveCheckpoint(path.join(dir, 'last'), { tensors: new Map(), extraTensors: new Map(), state: validRunState() });
  return dir;
}

const FLAGS = ['--dataset', 'folder', '--lr', '0.001', '--seed', '3', '--n_epochs', '4'];

test("resolveRun keeps the run's own hypa.json values (by RunConfig key) and facts beside the merged configuration", () => {
  const dir = runFolder(FLAGS);
  assert.equal(resolveRun(parseArgv(FLAGS)).saved, undefined, 'no --resume, nothing saved');
  const { cfg, saved } = resolveRun(parseArgv(['--resume', dir, '--n_epochs', '9', '--backend', 'cpu']));
  assert.equal(cfg.nEpochs, 9, 'a flag given with --resume overrides');
  assert.equal(cfg.lr, 0.001, 'the rest comes from hypa.json');
  assert.equal(saved!.file, path.join(dir, 'hypa.json'));
  assert.equal(saved!.config.nEpochs, 4, 'saved: the run as it was made');
  assert.equal(saved!.config.seed, 3);
  assert.equal(saved!.config.n_epochs, undefined, 'keyed by RunConfig key, not flag name');
  assert.deepEqual(saved!.facts, { tasks: ['Class', 'Shared'], dataFingerprint: FINGERPRINT });
  // With a --config file as the base, the run folder's hypa.json is still the one the resume is checked against.
  const other = path.join(tempDir('mic-resume-unit-'), 'other.json');
  fs.writeFileSync(other, JSON.stringify({ lr: 0.5 }));
  const both = resolveRun(parseArgv(['--config', other, '--resume', dir]));
  assert.equal(both.cfg.lr, 0.5);
  assert.equal(both.saved!.config.lr, 0.001);
});

test('openResume: a changed configuration names the differing keys; harmless keys may change', () => {
  const dir = runFolder(FLAGS);
  const open = (argv: string[]) => {
    const { cfg, saved } = resolveRun(parseArgv(argv));
    return openResume(cfg, saved!);
  };
  assert.throws(
    () => open(['--resume', dir, '--lr', '0.1', '--seed', '2']),
    (e: unknown) =>
      e instanceof UserError &&
      e.message === `--resume ${dir}: the run was made with a different configuration: seed (run: 3, now: 2); lr (run: 0.001, now: 0.1)`,
  );
  const point = open(['--resume', dir, '--n_epochs', '10', '--kernels', '1']);
  assert.equal(point.runDir, path.resolve(dir));
  assert.equal(point.last.path, path.join(path.resolve(dir), 'last'));
  assert.equal(point.last.state.epoch, 1);
  assert.equal(resumingLine(point, 10), `resuming ${path.resolve(dir)} after epoch 2 (2/10 epochs done)`);
});

test('openResume: a run stopped before its first epoch ended has no last/ to continue from', () => {
  const dir = runFolder(FLAGS, { last: false });
  const { cfg, saved } = resolveRun(parseArgv(['--resume', dir]));
  assert.throws(
    () => openResume(cfg, saved!),
    (e: unknown) => e instanceof UserError && /no last\/ checkpoint yet .*start it again instead$/.test(e.message),
  );
});

test('checkSameDataset: the same files pass, other files stop the run, a run without a fingerprint is warned about', () => {
  const { cfg, saved } = resolveRun(parseArgv(['--resume', runFolder(FLAGS)]));
  const logs: string[] = [];
  checkSameDataset(cfg, saved!, FINGERPRINT, (l) => logs.push(l));
  assert.equal(logs.length, 0);
  const other = { sha256: 'cd'.repeat(32), images: 96 };
  assert.throws(
    () => checkSameDataset(cfg, saved!, other, () => undefined),
    /not the one the run was made with \(both have 96 images, but other files, labels or sizes\)/,
  );
  assert.throws(
    () => checkSameDataset(cfg, saved!, { ...other, images: 80 }, () => undefined),
    /\(96 images then, 80 now\); point --source_path at the run's dataset$/,
  );

  const old = resolveRun(parseArgv(['--resume', runFolder(FLAGS, { fingerprint: false })]));
  checkSameDataset(old.cfg, old.saved!, other, (l) => logs.push(l));
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^warning: .*hypa\.json records no dataset fingerprint \(a run of an older mic-train\)/);
});

test('savedDescription and resumingLine speak in 1-based epochs', () => {
  const partial = { epoch: 2, iters: 5, lossSum: 0, steps: 0, trainSeconds: 0, startRng: {} as PartialEpoch['startRng'] };
  assert.equal(savedDescription({ epoch: 1, partial: null }), 'epoch 2 complete');
  assert.equal(savedDescription({ epoch: 1, partial }), 'epoch 3 up to iteration 5');
  assert.equal(savedDescription({ epoch: -1, partial: { ...partial, epoch: 0 } }), 'epoch 1 up to iteration 5');
  const point = { runDir: '/runs/a', last: { state: { epoch: 1, partial } } } as unknown as Parameters<typeof resumingLine>[0];
  assert.equal(resumingLine(point, 4), 'resuming /runs/a at iteration 5 of epoch 3 (2/4 epochs done)');
});
