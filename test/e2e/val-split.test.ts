// --val-split on a dataset with several test sets (VehicleID): the validation split is one set, so one
// checkpoint_Class/ is chosen on 'Val Recall @ 1' and every test set's recoveries picture is drawn with it.
// (It used to stop at the first evaluation asking for a 'Val Set 0 Recall @ 1' column that does not exist.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCsv, runCli } from '../helpers/cli.ts';
import { makeVehicleId } from '../helpers/paper-datasets.ts';
import { tempDir } from '../helpers/tmp.ts';

test('vehicle_id --val-split: runs, chooses one checkpoint on the validation split, draws every test set', async () => {
  const data = tempDir('mic-valsplit-data-');
  const out = tempDir('mic-valsplit-out-');
  await makeVehicleId(path.join(data, 'vehicle_id'));
  const r = runCli([
    '--dataset',
    'vehicle_id',
    '--source_path',
    data,
    '--save_path',
    out,
    ...'--savename v --val-split 0.5 --n_epochs 1 --input-size 32 --bs 8 --not_pretrained --backend wasm --kernels 1 --task_p 1 0 --adv_weights 0'.split(
      ' ',
    ),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const dir = path.join(out, 'vehicle_id', 'v');
  const header = readCsv(path.join(dir, 'log_val_Class.csv'))[0];
  for (const col of ['Set 0 Recall @ 1', 'Set 2 Recall @ 1', 'Val Recall @ 1']) assert.ok(header.includes(col), `${col} in ${header.join(',')}`);
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint_Class', 'state.json'), 'utf8'));
  assert.equal(state.state.chosenOn, 'Val Recall @ 1');
  for (const s of [1, 2, 3]) {
    assert.ok(!fs.existsSync(path.join(dir, `checkpoint_set${s}`)), `no checkpoint_set${s}/ with --val-split`);
    assert.ok(fs.existsSync(path.join(dir, `sample_recoveries_set${s}.png`)), `sample_recoveries_set${s}.png`);
  }
  assert.match(r.stderr, /checkpoint_Class/);
});
