import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend, maxAbsDiff } from '../helpers/tf.ts';
import { GroupedAdam, adamStateToTensors, adamStateFromTensors, type AdamImpl } from '../../src/train/optimizer.ts';
import { UserError } from '../../src/errors.ts';

const tf = await useTestBackend();

let uid = 0;
/** Fresh variables with unique names (tfjs registers variable names globally). */
function makeVars(id = ++uid) {
  return {
    w: tf.variable(tf.tensor1d([1.0, -2.0]), true, `opt${id}.w`),
    b: tf.variable(tf.tensor1d([3.0]), true, `opt${id}.b`),
    c: tf.variable(tf.tensor1d([0.5]), true, `opt${id}.c`),
  };
}
type Vars = ReturnType<typeof makeVars>;

function makeAdam(v: Vars, impl: AdamImpl) {
  return new GroupedAdam(
    [
      { name: 'network', vars: [v.w], lr: 0.1, weightDecay: 0.01 },
      { name: 'beta', vars: [v.b, v.c], lr: 0.01, weightDecay: 0 },
    ],
    { impl },
  );
}

const grads1 = (v: Vars) =>
  new Map([
    [v.w.name, tf.tensor1d([0.5, 0.25])],
    [v.b.name, tf.tensor1d([2.0])],
  ]);
const grads2 = (v: Vars) => new Map([[v.w.name, tf.tensor1d([-0.1, 0.3])]]); // b: no gradient this step, c: never

/*
 * Expected values, by hand (β1 0.9, β2 0.999, ε 1e-8), for w[0] = 1, lr 0.1, wd 0.01:
 *  step 1: g = 0.5 + 0.01·1 = 0.51; m = 0.051; v = 0.001·0.51² ; step size 0.1/(1−0.9) = 1;
 *          denom = √v/√0.001 + ε = 0.51 + ε  →  w = 1 − 0.051/0.51 = 0.9 (+2e-9 from ε)
 *  step 2: g = −0.1 + 0.01·0.9 = −0.091; m = 0.9·0.051 + 0.1·(−0.091) = 0.0368;
 *          v = 0.999·0.0002601 + 0.001·0.008281 = 0.0002681209; step size 0.1/0.19;
 *          denom = √v/√(1−0.999²) + ε = 0.0163744/0.0447102 = 0.366235  →  w = 0.9 − 0.526316·0.100482 = 0.847115
 * b (lr 0.01, no decay): step 1 moves by lr exactly (3 → 2.99); step 2 has no gradient but had one before,
 * so (as torch 1.x after zero_grad) it is updated with g = 0: m = 0.18, v = 0.003996 → b = 2.983299.
 * c never has a gradient and must not move. The same numbers come out of torch.optim.Adam (float64, torch
 * 1.13): w = [0.8471146658685269, -2.2000393836813443], b = 2.983299417556027.
 */
const W1 = [0.9000000019607843, -2.099999995652174];
const B1 = [2.99000000005];
const W2 = [0.8471146658685269, -2.2000393836813443];
const B2 = [2.983299417556027];

function stepWith(adam: GroupedAdam, grads: Map<string, import('@tensorflow/tfjs').Tensor>) {
  adam.step(grads);
  for (const g of grads.values()) g.dispose();
}

for (const impl of ['host', 'tensor'] as const) {
  test(`two Adam steps with groups and L2 decay equal the hand-computed update (${impl})`, () => {
    const v = makeVars();
    const adam = makeAdam(v, impl);
    stepWith(adam, grads1(v));
    assert.ok(maxAbsDiff(v.w.dataSync(), W1) < 1e-6, `step 1 w ${v.w.dataSync()}`);
    assert.ok(maxAbsDiff(v.b.dataSync(), B1) < 1e-6, `step 1 b ${v.b.dataSync()}`);
    stepWith(adam, grads2(v));
    assert.ok(maxAbsDiff(v.w.dataSync(), W2) < 1e-6, `step 2 w ${v.w.dataSync()}`);
    assert.ok(maxAbsDiff(v.b.dataSync(), B2) < 1e-6, `step 2 b ${v.b.dataSync()}`);
    assert.deepEqual([...v.c.dataSync()], [0.5]);
    const st = adam.state();
    assert.deepEqual(st.steps, { [v.w.name]: 2, [v.b.name]: 2 });
    assert.ok(!(v.c.name in st.m), 'a variable that never had a gradient has no moments');
    adam.dispose();
    Object.values(v).forEach((x) => x.dispose());
  });

  test(`the group lr set by a schedule is the one used (${impl})`, () => {
    const v = makeVars();
    const adam = makeAdam(v, impl);
    adam.group('network').lr = 0.05; // half of base: the first Adam step moves by lr·sign(g)
    stepWith(adam, grads1(v));
    assert.ok(Math.abs(v.w.dataSync()[0] - 0.95) < 1e-6);
    assert.equal(adam.group('network').baseLr, 0.1);
    adam.dispose();
    Object.values(v).forEach((x) => x.dispose());
  });

  test(`state → tensors → loadState resumes to the same second step (${impl})`, () => {
    const v = makeVars();
    const adam = makeAdam(v, impl);
    stepWith(adam, grads1(v));
    const { tensors, json } = adamStateToTensors(adam.state());
    const saved = JSON.parse(JSON.stringify(json));
    assert.equal(tensors.get(`optimizer.m.${v.w.name}`)?.data.length, 2);
    const w1 = v.w.dataSync().slice();
    const b1 = v.b.dataSync().slice();
    adam.dispose();
    Object.values(v).forEach((x) => x.dispose());

    // A fresh optimizer over fresh variables of the same names, restored, continues identically.
    const v2 = makeVars(uid);
    v2.w.assign(tf.tensor1d(w1));
    v2.b.assign(tf.tensor1d(b1));
    const adam2 = makeAdam(v2, impl);
    adam2.loadState(adamStateFromTensors(saved, tensors));
    stepWith(adam2, grads2(v2));
    assert.ok(maxAbsDiff(v2.w.dataSync(), W2) < 1e-6);
    assert.ok(maxAbsDiff(v2.b.dataSync(), B2) < 1e-6);
    adam2.dispose();
    Object.values(v2).forEach((x) => x.dispose());
  });

  test(`loadState rejects a checkpoint of another set-up with a UserError and changes nothing (${impl})`, () => {
    const v = makeVars();
    const adam = makeAdam(v, impl);
    stepWith(adam, grads1(v));
    const good = adam.state();
    const bad = { ...good, m: { ...good.m, [v.w.name]: new Float32Array(3) } };
    assert.throws(
      () => adam.loadState(bad, 'run/last'),
      (e: unknown) => e instanceof UserError && /run\/last.*wrong size/.test(e.message),
    );
    assert.throws(() => adam.loadState({ ...good, groups: [{ name: 'proxies', baseLr: 1, lr: 1, weightDecay: 0 }] }), UserError);
    assert.deepEqual(adam.state().steps, good.steps);
    adam.dispose();
    Object.values(v).forEach((x) => x.dispose());
  });

  test(`tensor count stays flat across steps (${impl})`, () => {
    const v = makeVars();
    const adam = makeAdam(v, impl);
    stepWith(adam, grads1(v)); // first step allocates the moments
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) stepWith(adam, grads2(v));
    assert.equal(tf.memory().numTensors, before);
    adam.dispose();
    Object.values(v).forEach((x) => x.dispose());
  });
}

test('host and tensor implementations agree over several steps with random gradients', async () => {
  const { Rng } = await import('../../src/rng.ts');
  const rng = new Rng(3, 'test');
  const n = 257;
  const init = Float32Array.from({ length: n }, () => rng.normal());
  const grads = Array.from({ length: 6 }, () => Float32Array.from({ length: n }, () => rng.normal() * 0.1));
  const finals: Float32Array[] = [];
  for (const impl of ['host', 'tensor'] as const) {
    const p = tf.variable(tf.tensor1d(init), true, `agree.${impl}`);
    const adam = new GroupedAdam([{ name: 'network', vars: [p], lr: 1e-3, weightDecay: 4e-4 }], { impl });
    for (const g of grads) {
      const t = tf.tensor1d(g);
      adam.step(new Map([[p.name, t]]));
      t.dispose();
    }
    finals.push(p.dataSync().slice() as Float32Array);
    adam.dispose();
    p.dispose();
  }
  assert.ok(maxAbsDiff(finals[0], finals[1]) < 1e-6, `max diff ${maxAbsDiff(finals[0], finals[1])}`);
  assert.ok(maxAbsDiff(finals[0], init) > 1e-3, 'the parameters did move');
});

test('a variable in two groups is a bug caught at construction', () => {
  const v = makeVars();
  assert.throws(
    () =>
      new GroupedAdam([
        { name: 'a', vars: [v.w], lr: 1, weightDecay: 0 },
        { name: 'b', vars: [v.w], lr: 1, weightDecay: 0 },
      ]),
    /more than one optimizer group/,
  );
  Object.values(v).forEach((x) => x.dispose());
});
