import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { saveCheckpoint, loadCheckpoint, findCheckpoint, type CheckpointContents, type CheckpointFs } from '../../src/io/checkpoint.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { UserError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmpRoot = () => tempDir('mic-ckpt-');

/** A small checkpoint whose values identify it (`generation` is in every tensor and in the state). */
function contents(generation: number): CheckpointContents {
  return {
    tensors: new Map([
      ['conv1.weight', { shape: [2, 1, 1, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6], (x) => x * generation) }],
      ['fc.bias', { shape: [2], data: new Float32Array([generation, -generation]) }],
    ]),
    extraTensors: new Map([
      ['optimizer.m.fc.bias', { shape: [2], data: new Float32Array([0.5, generation]) }],
      ['cluster.labels', { shape: [3], data: new Int32Array([2, 0, generation]) }],
    ]),
    state: { epoch: generation, rng: { sampler: [1, 2, 3, 4] }, history: { train: { Epochs: [0] } } },
  };
}

function assertIsGeneration(dir: string, generation: number) {
  const c = loadCheckpoint(dir);
  assert.deepEqual(
    [...c.tensors.get('conv1.weight')!.data],
    [1, 2, 3, 4, 5, 6].map((x) => x * generation),
  );
  assert.deepEqual(c.tensors.get('conv1.weight')!.shape, [2, 1, 1, 3]);
  assert.ok(c.extraTensors.get('cluster.labels')!.data instanceof Int32Array);
  assert.deepEqual([...c.extraTensors.get('cluster.labels')!.data], [2, 0, generation]);
  assert.equal(c.state.epoch, generation);
}

test('round trip: tensors (float32 and int32), shapes and JSON state come back; no temp folders left', () => {
  const root = tmpRoot();
  const dir = path.join(root, 'run', 'last');
  saveCheckpoint(dir, contents(1));
  assertIsGeneration(dir, 1);
  assert.deepEqual(loadCheckpoint(dir).state, contents(1).state);
  saveCheckpoint(dir, contents(2)); // overwrite
  assertIsGeneration(dir, 2);
  assert.deepEqual(fs.readdirSync(path.join(root, 'run')), ['last']);
  // model.safetensors is a standard file: the generic reader sees the torchvision names and format metadata.
  const st = readSafetensors(path.join(dir, 'model.safetensors'));
  assert.deepEqual([...st.tensors.keys()].sort(), ['conv1.weight', 'fc.bias']);
  assert.equal(st.metadata.format, 'pt');
});

for (const stage of ['written', 'old-moved'] as const) {
  test(`a writer killed at stage '${stage}' leaves the previous checkpoint loadable`, () => {
    const root = tmpRoot();
    const dir = path.join(root, 'checkpoint_Class');
    saveCheckpoint(dir, contents(1));
    const kill = (s: string) => {
      if (s === stage) throw new Error('simulated SIGKILL');
    };
    assert.throws(() => saveCheckpoint(dir, contents(2), { onStage: kill }), /simulated SIGKILL/);
    if (stage === 'old-moved') assert.ok(!fs.existsSync(dir), 'killed between the two renames: only .old is complete');
    assertIsGeneration(dir, 1);
    // The next save (a resumed run, a new pid in real life) cleans up and succeeds.
    saveCheckpoint(dir, contents(3));
    assertIsGeneration(dir, 3);
    assert.deepEqual(fs.readdirSync(root), ['checkpoint_Class']);
  });
}

test('killed after the second rename: the new checkpoint is the one loaded', () => {
  const root = tmpRoot();
  const dir = path.join(root, 'last');
  saveCheckpoint(dir, contents(1));
  assert.throws(() =>
    saveCheckpoint(dir, contents(2), {
      onStage: (s) => {
        if (s === 'renamed') throw new Error('kill');
      },
    }),
  );
  assertIsGeneration(dir, 2);
  assert.equal(findCheckpoint(dir), path.resolve(dir));
});

test('disk full while writing: clear UserError, previous checkpoint intact, temp folder removed', () => {
  const root = tmpRoot();
  const dir = path.join(root, 'last');
  saveCheckpoint(dir, contents(1));
  let writes = 0;
  const fullDisk: CheckpointFs = {
    ...fs,
    writeSync: ((...args: Parameters<typeof fs.writeSync>) => {
      if (++writes === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync,
  };
  assert.throws(
    () => saveCheckpoint(dir, contents(2), { fs: fullDisk }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.includes(path.resolve(dir)) &&
      /no space left on device \(ENOSPC\)/.test(e.message) &&
      /previous checkpoint.*unchanged/.test(e.message),
  );
  assertIsGeneration(dir, 1);
  assert.deepEqual(fs.readdirSync(root), ['last']);
});

test('loading problems are UserErrors naming the path', () => {
  const root = tmpRoot();
  assert.throws(
    () => loadCheckpoint(path.join(root, 'nope')),
    (e: unknown) => e instanceof UserError && /no checkpoint at .*nope/.test(e.message),
  );
  const dir = path.join(root, 'last');
  saveCheckpoint(dir, contents(1));
  fs.writeFileSync(path.join(dir, 'state.json'), '{"format": "something else"}');
  assert.throws(
    () => loadCheckpoint(dir),
    (e: unknown) => e instanceof UserError && /not a mic-train checkpoint/.test(e.message),
  );
  fs.writeFileSync(path.join(dir, 'state.json'), '{ truncated');
  assert.throws(
    () => loadCheckpoint(dir),
    (e: unknown) => e instanceof UserError && /state\.json' is not valid JSON/.test(e.message),
  );
  saveCheckpoint(dir, contents(1));
  fs.rmSync(path.join(dir, 'model.safetensors'));
  assert.throws(
    () => loadCheckpoint(dir),
    (e: unknown) => e instanceof UserError && /model\.safetensors' (cannot be read|was not found)/.test(e.message),
  );
  saveCheckpoint(dir, contents(1));
  fs.truncateSync(path.join(dir, 'state.safetensors'), 100);
  assert.throws(
    () => loadCheckpoint(dir),
    (e: unknown) => e instanceof UserError && /state\.safetensors/.test(e.message),
  );
});
