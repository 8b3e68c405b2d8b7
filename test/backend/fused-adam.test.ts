import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend, maxAbsDiff } from '../helpers/tf.ts';
import { GroupedAdam } from '../../src/train/optimizer.ts';
import { fusedAdamAvailable } from '../../src/backend/kernels/fused-adam.ts';
import { compileWat, WASM_MODULES } from '../../scripts/wat.ts';
import fs from 'node:fs';
import { Rng } from '../../src/rng.ts';

// The fused kernel works on the wasm backend's heap, so this file always runs on wasm.
const tf = await useTestBackend('wasm');

test('the committed heap-kernels.wasm and heap-kernels-shared.wasm are the compiled heap-kernels.wat (run `npm run build:wasm` after editing it)', async () => {
  const mods = WASM_MODULES.filter((x) => x.wat.pathname.endsWith('heap-kernels.wat'));
  assert.equal(mods.length, 2);
  for (const { wat, wasm, variant } of mods) {
    const text = fs.readFileSync(wat, 'utf8');
    assert.deepEqual(new Uint8Array(fs.readFileSync(wasm)), await compileWat(variant ? variant(text) : text), wasm.pathname);
  }
});

test('on the wasm backend GroupedAdam defaults to the fused kernel', () => {
  assert.equal(fusedAdamAvailable(), true);
  const p = tf.variable(tf.zeros([3]), true, 'fused.default');
  assert.equal(new GroupedAdam([{ name: 'network', vars: [p], lr: 1, weightDecay: 0 }]).impl, 'fused');
  p.dispose();
});

test('fused (WebAssembly over the wasm heap) equals the tensor implementation bit for bit, tail and missing gradients included', async () => {
  const rng = new Rng(4, 'test');
  const n = 1027; // not a multiple of 4: the scalar tail runs too
  const init = Float32Array.from({ length: n }, () => rng.normal());
  const grads = Array.from({ length: 5 }, (_, k) => (k === 2 ? null : Float32Array.from({ length: n }, () => rng.normal() * 0.1)));
  const finals: { p: Float32Array; m: Float32Array; v: Float32Array }[] = [];
  for (const impl of ['tensor', 'fused'] as const) {
    const p = tf.variable(tf.tensor2d(init, [13, 79]), true, `bits.${impl}`);
    const adam = new GroupedAdam([{ name: 'network', vars: [p], lr: 3e-3, weightDecay: 4e-4 }], { impl });
    for (const g of grads) {
      const t = g && tf.tensor1d(g); // flat gradient for a 2-D variable, as variableGrads may reshape
      adam.step(t ? new Map([[p.name, t]]) : new Map());
      t?.dispose();
    }
    const st = adam.state();
    finals.push({ p: p.dataSync().slice() as Float32Array, m: st.m[p.name], v: st.v[p.name] });
    adam.dispose();
    p.dispose();
  }
  assert.deepEqual(finals[1].p, finals[0].p);
  assert.deepEqual(finals[1].m, finals[0].m);
  assert.deepEqual(finals[1].v, finals[0].v);
  assert.ok(maxAbsDiff(finals[1].p, init) > 1e-3, 'the parameters did move');
});

test('fused update leaks no tensor and gives the variable a new buffer (convolution caches key on it)', () => {
  const p = tf.variable(tf.ones([64]), true, 'fused.leak');
  const adam = new GroupedAdam([{ name: 'network', vars: [p], lr: 0.1, weightDecay: 0 }], { impl: 'fused' });
  const g = tf.fill([64], 0.5);
  adam.step(new Map([[p.name, g]])); // allocates the moments
  const before = tf.memory().numTensors;
  const id = p.dataId;
  for (let i = 0; i < 3; i++) adam.step(new Map([[p.name, g]]));
  assert.equal(tf.memory().numTensors, before);
  assert.notEqual(p.dataId, id);
  assert.ok(Math.abs(p.dataSync()[0] - (1 - 0.4)) < 1e-5, `four steps of lr·sign(g): ${p.dataSync()[0]}`);
  g.dispose();
  adam.dispose();
  p.dispose();
});
