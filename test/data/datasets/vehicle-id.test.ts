import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadVehicleId } from '../../../src/data/datasets/vehicle-id.ts';
import { UserError } from '../../../src/errors.ts';
import { makeVehicleId } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('vehicle_id: train list + three test sets (set 1/2/3) with one shared label mapping', async () => {
  const parent = tempDir();
  try {
    const root = await makeVehicleId(parent);
    const m = loadVehicleId(root);
    const train = m.items.filter((it) => it.split === 'train');
    assert.equal(train.length, 5);
    assert.deepEqual(m.classNames.train, ['0000007', '0000050']);
    assert.deepEqual(
      train.map((it) => it.label),
      [1, 1, 0, 0, 0],
    );
    assert.equal(train[0].path, path.join(root, 'image', '0000001.jpg'));
    assert.deepEqual(m.classNames.test, ['0000100', '0000101', '0000102']);
    const bySet = (s: number) => m.items.filter((it) => it.split === 'test' && it.set === s);
    assert.deepEqual(
      [1, 2, 3].map((s) => bySet(s).length),
      [2, 4, 6],
    );
    assert.deepEqual(
      bySet(1).map((it) => it.label),
      [1, 1],
    );
    assert.deepEqual(
      bySet(3).map((it) => it.label),
      [1, 1, 0, 0, 2, 2],
    );
    // The same image keeps the same label in every set it appears in.
    const img1001 = m.items.filter((it) => it.path.endsWith('0001001.jpg'));
    assert.deepEqual(
      img1001.map((it) => [it.set, it.label]),
      [
        [1, 1],
        [2, 1],
        [3, 1],
      ],
    );
    assert.ok(m.items.every((it) => it.role === undefined));
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('vehicle_id: a missing test list is a UserError naming it; a malformed line names file and line', async () => {
  const parent = tempDir();
  try {
    const root = await makeVehicleId(parent);
    const list = path.join(root, 'train_test_split', 'test_list_1600.txt');
    fs.writeFileSync(list, '0001001 0000101\n0001002\n');
    assert.throws(
      () => loadVehicleId(root),
      (e: unknown) => e instanceof UserError && e.message.includes(`${list}' line 2: expected 2 fields`),
    );
    fs.rmSync(list);
    assert.throws(
      () => loadVehicleId(root),
      (e: unknown) => e instanceof UserError && e.message.includes(`'${list}' not found`),
    );
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
