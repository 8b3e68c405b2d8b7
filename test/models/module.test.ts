import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { Module, torchShape } from '../../src/models/module.ts';
import { useTestBackend } from '../helpers/tf.ts';

await useTestBackend();

/** A two-layer toy: conv `block.conv.weight` [k=2, in=3, out=4] HWIO, linear `head.weight` [in=4, out=2], a buffer. */
class Toy extends Module {
  constructor() {
    super();
    const root = this.rootScope(null);
    // HWIO value v[h][w][i][o] = 1000h + 100w + 10i + o, so every transposition is recognisable.
    const conv = tf.tensor4d(
      Array.from({ length: 2 * 2 * 3 * 4 }, (_, n) => {
        const o = n % 4,
          i = Math.floor(n / 4) % 3,
          w = Math.floor(n / 12) % 2,
          h = Math.floor(n / 24);
        return 1000 * h + 100 * w + 10 * i + o;
      }),
      [2, 2, 3, 4],
    );
    root.child('block').child('conv').register('weight', conv, 'conv', true);
    root.child('head').register(
      'weight',
      tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]),
      'linear',
      true,
    );
    root.child('head').register('bias', tf.tensor1d([0.5, -0.5]), 'plain', true);
    root.child('bn').register('running_var', tf.tensor1d([1, 1, 1, 1]), 'plain', false);
  }
}

test('torchShape converts HWIO → OIHW and [in,out] → [out,in]', () => {
  assert.deepEqual(torchShape([7, 5, 3, 64], 'conv'), [64, 3, 7, 5]);
  assert.deepEqual(torchShape([2048, 128], 'linear'), [128, 2048]);
  assert.deepEqual(torchShape([64], 'plain'), [64]);
});

test('stateDict gives PyTorch layout: conv OIHW, linear [out,in]', () => {
  const m = new Toy();
  const sd = m.stateDict();
  const conv = sd.get('block.conv.weight')!;
  assert.deepEqual(conv.shape, [4, 3, 2, 2]);
  // OIHW element [o=3][i=2][h=1][w=0] must be the HWIO element [1][0][2][3] = 1000 + 0 + 20 + 3.
  assert.equal((conv.arraySync() as number[][][][])[3][2][1][0], 1023);
  assert.deepEqual(sd.get('head.weight')!.arraySync(), [
    [1, 3, 5, 7],
    [2, 4, 6, 8],
  ]);
  assert.deepEqual([...sd.keys()], ['block.conv.weight', 'head.weight', 'head.bias', 'bn.running_var']);
  tf.dispose([...sd.values()]);
  m.dispose();
});

test('loadStateDict round-trips a state dict and converts back to our layout', () => {
  const a = new Toy();
  const sd = a.stateDict();
  const scaled = new Map([...sd].map(([k, v]) => [k, tf.mul(v, 2)]));
  const b = new Toy();
  b.loadStateDict(scaled, 'test');
  const out = b.stateDict();
  for (const [k, v] of scaled) assert.deepEqual(out.get(k)!.arraySync(), v.arraySync(), k);
  // The variable itself holds HWIO: [h=1][w=1][i=2][o=3] = 2 × 1123.
  const convVar = b.parameters()[0].variable;
  assert.equal((convVar.arraySync() as number[][][][])[1][1][2][3], 2246);
  tf.dispose([...sd.values(), ...scaled.values(), ...out.values()]);
  a.dispose();
  b.dispose();
});

test('trainableVariables excludes buffers; parameterCount counts trainable scalars', () => {
  const m = new Toy();
  assert.equal(m.trainableVariables().length, 3);
  assert.equal(m.parameterCount(), 48 + 8 + 2);
  assert.equal(
    m.parameterCount((n) => n.startsWith('head.')),
    10,
  );
  m.dispose();
});

test('strict loading lists missing, unexpected and mismatched names and assigns nothing', () => {
  const m = new Toy();
  const good = m.stateDict();
  const bad = new Map(good);
  bad.delete('head.bias');
  bad.set('head.extra', tf.zeros([1]));
  bad.set('head.weight', tf.zeros([4, 2])); // transposed: PyTorch layout is [2, 4]
  bad.set('bn.running_var', tf.zeros([4], 'int32'));
  const before = m.parameters()[1].variable.arraySync();
  assert.throws(
    () => m.loadStateDict(bad, 'ckpt.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^ckpt\.safetensors: /);
      assert.match(e.message, /missing 1: head\.bias/);
      assert.match(e.message, /unexpected 1: head\.extra/);
      assert.match(e.message, /head\.weight \[4,2\] in file, model has \[2,4\]/);
      assert.match(e.message, /bn\.running_var dtype int32, expected float32/);
      return true;
    },
  );
  assert.deepEqual(m.parameters()[1].variable.arraySync(), before);
  tf.dispose([...good.values(), bad.get('head.extra')!, bad.get('head.weight')!, bad.get('bn.running_var')!]);
  m.dispose();
});

test('num_batches_tracked counters written by PyTorch are accepted and ignored', () => {
  const m = new Toy();
  const sd = m.stateDict();
  const counter = tf.scalar(7, 'int32');
  sd.set('bn.num_batches_tracked', counter);
  m.loadStateDict(sd, 'torch file');
  tf.dispose([...sd.values()]);
  m.dispose();
});

test('allowMissing / ignoreUnexpected support partial (pretrained) loads', () => {
  const m = new Toy();
  const sd = m.stateDict();
  sd.get('head.bias')!.dispose();
  sd.delete('head.bias');
  sd.set('fc.weight', tf.zeros([3, 3]));
  m.loadStateDict(sd, 'imagenet', { allowMissing: (n) => n.startsWith('head.'), ignoreUnexpected: (n) => n.startsWith('fc.') });
  // `keep`: present in the file, but the model's own value wins (pretrained loads keep the random heads).
  const headBefore = m.parameters()[1].variable.arraySync();
  const zeros = new Map([
    ['head.weight', tf.zeros([2, 4])],
    ['head.bias', tf.zeros([2])],
  ]);
  m.loadStateDict(new Map([...sd, ...zeros]), 'imagenet', { keep: (n) => n.startsWith('head.'), ignoreUnexpected: (n) => n.startsWith('fc.') });
  assert.deepEqual(m.parameters()[1].variable.arraySync(), headBefore);
  tf.dispose([...sd.values(), ...zeros.values()]);
  m.dispose();
});

test('variables from several models coexist and dispose cleanly', () => {
  const before = tf.memory().numTensors;
  const a = new Toy();
  const b = new Toy();
  a.dispose();
  b.dispose();
  assert.equal(tf.memory().numTensors, before);
});
