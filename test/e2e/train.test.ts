/**
 * End-to-end: the real CLI trains the full ResNet50 graph (32 px) on a tiny folder dataset cut from the sample
 * set, with initial clustering, re-clustering after every epoch, both task steps and the adversarial term.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTinyFolderDataset, readCsv, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const data = makeTinyFolderDataset(12);
const out = tempDir('mic-e2e-out-');
const base = [
  '--dataset',
  'folder',
  '--source_path',
  data,
  '--save_path',
  out,
  ...'--not_pretrained --backend wasm --input-size 32 --bs 16 --n_epochs 2 --shared_num_classes 4 --cluster_update_freq 0 --task_p 1 1 --adv_weights 250 --lr 1e-4 --tau 10 --kernels 2 --seed 3'.split(
    ' ',
  ),
];

test('a 2-epoch MIC run writes every output file with the original columns, and is deterministic', async () => {
  const a = runCli([...base, '--savename', 'a']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /initial surrogate labels: 4 clusters/);
  assert.match(a.stderr, /re-clustered the Shared embeddings/);
  const dir = path.join(out, 'folder', 'a');
  for (const f of [
    'Parameter_Info.txt',
    'hypa.json',
    'log_train_Class.csv',
    'log_val_Class.csv',
    'Curr_Summary_Class.txt',
    'InfoPlot_Class.svg',
    'sample_recoveries.png',
  ]) {
    assert.ok(fs.existsSync(path.join(dir, f)), f);
  }
  for (const f of ['model.safetensors', 'state.safetensors', 'state.json']) {
    assert.ok(fs.existsSync(path.join(dir, 'last', f)), `last/${f}`);
    assert.ok(fs.existsSync(path.join(dir, 'checkpoint_Class', f)), `checkpoint_Class/${f}`);
  }
  const train = readCsv(path.join(dir, 'log_train_Class.csv'));
  assert.deepEqual(train[0], ['Epochs', 'Time', 'Train Loss']);
  assert.equal(train.length, 3);
  const val = readCsv(path.join(dir, 'log_val_Class.csv'));
  assert.deepEqual(val[0], ['Epochs', 'Time', 'NMI', 'F1', 'Recall @ 1', 'Recall @ 2', 'Recall @ 4', 'Recall @ 8', 'MAP@R', 'R-Precision']);
  for (const row of val.slice(1)) for (const v of row.slice(2)) assert.ok(Number(v) >= 0 && Number(v) <= 1, `metric ${v}`);
  // Two task steps per iteration (task_p 1 1) with the adversarial term: the logged loss is finite.
  for (const row of train.slice(1)) assert.ok(Number.isFinite(Number(row[2])));
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'last', 'state.json'), 'utf8'));
  assert.equal(state.state?.numClusters ?? state.numClusters, 4);

  // What users do next: embed a folder with the best checkpoint, then query it with one of its own images.
  const gallery = path.join(out, 'gallery.safetensors');
  const e = runCli(['embed', '--checkpoint', path.join(dir, 'checkpoint_Class'), '--images', data, '--out', gallery, '--backend', 'wasm']);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /embedded 96 images \(128-d\)/);
  const probe = path.join(data, 'b_016.Digit_five', fs.readdirSync(path.join(data, 'b_016.Digit_five')).sort()[0]);
  const q = runCli(['query', '--gallery', gallery, '--k', '3', '--backend', 'wasm', probe]);
  assert.equal(q.code, 0, q.stderr);
  const first = q.stdout.split('\n')[1];
  assert.ok(first.includes(probe) && /distance 0\.0000/.test(first), `nearest neighbour of a gallery image is itself: ${q.stdout}`);

  const b = runCli([...base, '--savename', 'b']);
  assert.equal(b.code, 0, b.stderr);
  const dirB = path.join(out, 'folder', 'b');
  const col = (rows: string[][], from: number) => rows.map((r) => r.slice(from).join(','));
  assert.deepEqual(col(readCsv(path.join(dirB, 'log_train_Class.csv')), 2), col(train, 2), 'same seed, same losses');
  assert.deepEqual(col(readCsv(path.join(dirB, 'log_val_Class.csv')), 2), col(val, 2), 'same seed, same metrics');
});

test('learning happens: held-out Recall@1 after 3 epochs beats the untrained network with the same seed; the run prints both', () => {
  // Same seed = same initial weights and data; lr 1e-30 leaves the network as initialised (the "before" model).
  const ds = makeTinyFolderDataset(24);
  const common = [
    '--dataset',
    'folder',
    '--source_path',
    ds,
    '--save_path',
    out,
    ...'--not_pretrained --backend wasm --input-size 32 --bs 16 --task_p 1 0 --adv_weights 0 --tau 10 --seed 5'.split(' '),
  ];
  const before = runCli([...common, '--savename', 'before', '--n_epochs', '1', '--lr', '1e-30']);
  assert.equal(before.code, 0, before.stderr);
  const after = runCli([...common, '--savename', 'after', '--n_epochs', '3', '--lr', '3e-4']);
  assert.equal(after.code, 0, after.stderr);
  // Baseline mode (task_p 1 0, adv_weights 0): no initial clustering, no re-clustering, no Shared loader.
  assert.doesNotMatch(after.stderr, /surrogate labels|re-clustered/);
  const r1 = (name: string) =>
    readCsv(path.join(out, 'folder', name, 'log_val_Class.csv'))
      .slice(1)
      .map((r) => Number(r[4]));
  const loss = readCsv(path.join(out, 'folder', 'after', 'log_train_Class.csv'))
    .slice(1)
    .map((r) => Number(r[2]));
  const untrained = r1('before')[0];
  const trained = r1('after').at(-1)!;
  console.log(
    `held-out Recall@1: untrained ${untrained.toFixed(4)}, after 3 epochs ${trained.toFixed(4)}; train loss ${loss.map((l) => l.toFixed(3)).join(' → ')}`,
  );
  assert.ok(trained > untrained, `Recall@1 ${trained} should beat the untrained ${untrained}`);
  assert.ok(loss.at(-1)! < loss[0], `training loss should decrease: ${loss.join(', ')}`);
  // The run evaluates its untrained network before epoch 1 and prints it: the same figures the lr-1e-30 run logs.
  const nmi = (name: string) => Number(readCsv(path.join(out, 'folder', name, 'log_val_Class.csv'))[1][2]);
  const shown = after.stderr.match(/untrained network \(before epoch 1\): NMI (\d\.\d{3}), Recall @ 1 (\d\.\d{3})/);
  assert.ok(shown, after.stderr);
  assert.deepEqual([shown[1], shown[2]], [nmi('before').toFixed(3), untrained.toFixed(3)]);
  const gain = `Recall@1 ${untrained.toFixed(3)} → ${trained.toFixed(3)} (+${(trained - untrained).toFixed(3)})`;
  assert.ok(after.stderr.includes(gain), `improvement line "${gain}…" in:\n${after.stderr}`);
  assert.match(after.stderr, / over 3 epochs \(untrained → final epoch\)\n/);
  // The CSV keeps the original's rows: one per trained epoch, no row for the untrained evaluation.
  assert.equal(readCsv(path.join(out, 'folder', 'after', 'log_val_Class.csv')).length, 4);
});
