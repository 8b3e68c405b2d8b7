import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgv, resolveConfig } from '../../src/cli/parse.ts';
import { FLAGS } from '../../src/cli/flags.ts';
import { SAMPLE_DEFAULTS, sampleDefaultsLine } from '../../src/cli/config.ts';
import { UserError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const resolve = (argv: string[]) => resolveConfig(parseArgv(argv));

/**
 * The original main.py's defaults, copied by hand from docs/porting.md#flags (name → default; the two paths relative,
 * as mic-train resolves them), independent of src/cli/flags.ts.
 */
const SPEC_DEFAULTS: Record<string, unknown> = {
  dataset: 'cub200',
  arch: 'resnet50',
  not_pretrained: false,
  k_vals: [],
  n_epochs: 130,
  kernels: 8,
  seed: 1,
  scheduler: 'step',
  gamma: 0.3,
  decay: 4e-4,
  tau: [80],
  task_p: [1, 0.8],
  lr: 1e-5,
  bs: 112,
  cs_per_bs: [4, 4],
  embed_sizes: [128, 128],
  losses: ['marginloss', 'marginloss'],
  sampling: ['distance', 'distance'],
  proxy_lr: [1e-5, 1e-5],
  beta: [1.2, 1.2],
  beta_lr: [5e-4, 5e-4],
  nu: [0, 0],
  margin: [0.2, 0.2],
  adversarial: ['Class-Shared'],
  adv_weights: [2500],
  adv_dim: 512,
  shared_num_classes: 30,
  cluster_update_freq: 3,
  cluster_mode: 'mean',
  random_cluster_pick_p: 0.2,
  gpu: 0,
  savename: '',
  make_graph: false,
  source_path: 'Datasets',
  save_path: 'Training_Results',
};
const SPEC_LISTS = [
  'k_vals',
  'tau',
  'task_p',
  'cs_per_bs',
  'embed_sizes',
  'losses',
  'sampling',
  'proxy_lr',
  'beta',
  'beta_lr',
  'nu',
  'margin',
  'adversarial',
  'adv_weights',
];

test('every flag of the original main.py exists with its default and arity', () => {
  for (const [name, def] of Object.entries(SPEC_DEFAULTS)) {
    const spec = FLAGS.find((f) => f.name === name);
    assert.ok(spec, `flag --${name} missing`);
    assert.deepEqual(spec.default, def, `default of --${name}`);
    assert.equal(Boolean(spec.list), SPEC_LISTS.includes(name), `arity of --${name}`);
    assert.equal(spec.origin, 'original');
    assert.ok(spec.help.length > 10, `help of --${name}`);
  }
  const originals = FLAGS.filter((f) => f.origin === 'original')
    .map((f) => f.name)
    .sort();
  assert.deepEqual(originals, Object.keys(SPEC_DEFAULTS).sort());
});

test('resolved defaults: cub200 k values, proxynca forces cs_per_bs 1, tasks', () => {
  const c = resolve([]);
  assert.deepEqual(c.kVals, [1, 2, 4, 8]);
  assert.equal(c.bs, 112);
  assert.deepEqual(c.taskP, [1, 0.8]);
  assert.deepEqual(c.tasks, ['Class', 'Shared']);
  assert.deepEqual(resolve(['--dataset', 'online_products']).kVals, [1, 10, 100, 1000]);
  assert.deepEqual(resolve(['--dataset', 'in-shop']).kVals, [1, 10, 20, 30, 50]);
  assert.deepEqual(resolve(['--dataset', 'vehicle_id']).kVals, [1, 5]);
  assert.deepEqual(resolve(['--k_vals', '1', '3']).kVals, [1, 3]);
  assert.deepEqual(resolve(['--losses', 'proxynca', 'marginloss']).csPerBs, [1, 4]);
});

test('list flags take one or more values (nargs=+)', () => {
  const c = resolve(['--tau', '20', '35', '--task_p', '1', '0.5', '--adv_weights', '250']);
  assert.deepEqual(c.tau, [20, 35]);
  assert.deepEqual(c.taskP, [1, 0.5]);
  assert.deepEqual(c.advWeights, [250]);
});

test('a repeated flag keeps its last value, also when that value is 1 (yargs would add 1 instead)', () => {
  const c = resolve([...'--n_epochs 100 --seed 0 --tau 20 35 --kernels 8 --n_epochs 1 --tau 1 --kernels=1 --lr 0.5 --lr 1'.split(' ')]);
  assert.equal(c.nEpochs, 1);
  assert.deepEqual(c.tau, [1]);
  assert.equal(c.kernels, 1);
  assert.equal(c.lr, 1);
  assert.equal(c.seed, 0);
  assert.equal(resolve(['--not_pretrained', '--bs', '8', '--not_pretrained']).notPretrained, true);
});

test('--loss is an alias that sets both tasks', () => {
  assert.deepEqual(resolve(['--loss', 'triplet']).losses, ['triplet', 'triplet']);
  assert.throws(() => resolve(['--loss', 'triplet', '--losses', 'triplet', 'triplet']), UserError);
});

function expectUserError(argv: string[], re: RegExp) {
  assert.throws(
    () => resolve(argv),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected UserError, got ${e}`);
      assert.equal(e.exitCode, 2);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.match(e.message, re);
      return true;
    },
  );
}

test('--crop-style: torchvision by default, torchvision-0.2 on request, anything else refused', () => {
  assert.equal(resolve([]).cropStyle, 'torchvision');
  assert.equal(resolve(['--crop-style', 'torchvision-0.2']).cropStyle, 'torchvision-0.2');
  expectUserError(['--crop-style', '0.2'], /--crop-style: unknown value '0.2'; expected one of: torchvision, torchvision-0.2/);
});

test('the original’s sanity checks fail with one line naming the flag', () => {
  expectUserError(['--dataset', 'nope'], /--dataset.*nope.*cub200/);
  expectUserError(['--bs', '10', '--cs_per_bs', '4', '4'], /--bs 10.*--cs_per_bs 4/);
  expectUserError(['--cs_per_bs', '4'], /--embed_sizes|--cs_per_bs/);
  expectUserError(['--task_p', '1'], /--task_p|--embed_sizes/);
  expectUserError(['--adversarial', 'Class-Shared', 'Shared-Class'], /--adv_weights/);
  expectUserError(['--losses', 'marginloss', 'nope'], /--losses.*nope/);
  expectUserError(['--sampling', 'distance', 'hard'], /--sampling.*hard/);
  expectUserError(['--lr', '-1'], /--lr.*positive/);
  expectUserError(['--n_epochs', '0'], /--n_epochs/);
  expectUserError(['--n_epochs', '2.5'], /--n_epochs.*integer/);
  expectUserError(['--bs', 'abc'], /--bs/);
  expectUserError(['--task_p', '1', '1.5'], /--task_p.*between 0 and 1/);
  expectUserError(['--input-size', '16'], /--input-size.*32/);
  expectUserError(['--foo', '1'], /foo/);
  expectUserError(['extra'], /argument.*extra/);
});

test('config file values apply, command-line flags override, unknown keys are errors', () => {
  const dir = tempDir('mic-cfg-');
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ n_epochs: 7, lr: 3e-5, tau: [2, 4], seed: 9 }));
  const c = resolve(['--config', file, '--seed', '3']);
  assert.equal(c.nEpochs, 7);
  assert.equal(c.lr, 3e-5);
  assert.deepEqual(c.tau, [2, 4]);
  assert.equal(c.seed, 3);
  // A hypa.json (RunConfig keys) round-trips.
  fs.writeFileSync(file, JSON.stringify(c));
  assert.deepEqual(resolve(['--config', file]), c);
  fs.writeFileSync(file, JSON.stringify({ nonsense: 1 }));
  expectUserError(['--config', file], /unknown key 'nonsense'/);
  fs.writeFileSync(file, '{not json');
  expectUserError(['--config', file], /not valid JSON/);
  expectUserError(['--config', path.join(dir, 'missing.json')], /missing\.json' was not found/);
});

test('sample dataset gets its own small defaults; explicit flags still win', () => {
  const c = resolve(['--dataset', 'sample']);
  assert.ok(c.inputSize < 224 && c.nEpochs < 130 && c.bs < 112);
  assert.equal(resolve(['--dataset', 'sample', '--bs', '16']).bs, 16);
});

test("the sample run's start line lists every sample default with the value the run uses", () => {
  const line = sampleDefaultsLine(resolve(['--dataset', 'sample', '--bs', '16', '--tau', '2', '3']));
  assert.match(line, /^sample dataset defaults: .* \(flags override them\)$/);
  for (const name of Object.keys(SAMPLE_DEFAULTS)) assert.ok(line.includes(`--${name}`), `--${name} in ${line}`);
  assert.ok(line.includes('--bs 16 ') && line.includes('--tau 2 3 '), line);
  assert.ok(!sampleDefaultsLine(resolve(['--dataset', 'sample', '--pretrained', 'w.safetensors'])).includes('--not_pretrained'));
});
