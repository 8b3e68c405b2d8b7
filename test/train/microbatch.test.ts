/**
 * Micro-batching with embedding-gradient caching gives the full-batch loss and gradients (to 1e-5) on a
 * small conv net with a frozen-BN affine, two L2-normalised heads and a loss that mines on the whole
 * batch and has its own learnable parameter.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend, maxAbsDiff } from '../helpers/tf.ts';
import { selectRows } from '../../src/losses/distances.ts';
import { installWasmTrainingKernels } from '../../src/backend/wasm-kernels.ts';
import { computeGradients, type MicrobatchGradientOptions } from '../../src/train/microbatch.ts';
import { UserError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';

before(async () => {
  await useTestBackend();
  if (tf.getBackend() === 'wasm') installWasmTrainingKernels();
});

const B = 8;

function seeded(rng: Rng, shape: number[], scale = 1): tf.Tensor {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal() * scale;
  return tf.tensor(v, shape);
}

function makeModel(tag: string) {
  const rng = new Rng(7, 'microbatch-model');
  const v = (name: string, shape: number[], scale: number) => tf.variable(seeded(rng, shape, scale), true, `${tag}.${name}`);
  const net = {
    conv1: v('conv1', [3, 3, 3, 6], 0.3),
    bnScale: v('bn.scale', [6], 0.2), // frozen BN as an affine map: trainable γ/√var, β − μγ/√var
    bnShift: v('bn.shift', [6], 0.1),
    conv2: v('conv2', [3, 3, 6, 8], 0.2),
    headA: v('headA', [8, 4], 0.5),
    headB: v('headB', [8, 3], 0.5),
  };
  const beta = tf.variable(tf.scalar(0.6), true, `${tag}.beta`);
  const forward = (x: tf.Tensor4D): tf.Tensor[] => {
    let h: tf.Tensor4D = tf.conv2d(x, net.conv1 as tf.Tensor4D, 2, 1);
    h = tf.relu(tf.add(tf.mul(h, tf.add(net.bnScale, 1)), net.bnShift)) as tf.Tensor4D;
    h = tf.relu(tf.conv2d(h, net.conv2 as tf.Tensor4D, 1, 'same'));
    h = tf.maxPool(h, 2, 2, 'valid');
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const l2 = (e: tf.Tensor2D) => tf.div(e, tf.norm(e, 2, 1, true));
    return [l2(tf.matMul(pooled, net.headA as tf.Tensor2D)), l2(tf.matMul(pooled, net.headB as tf.Tensor2D))];
  };
  return { net, beta, forward };
}

/** Margin-like loss that mines on the full batch: hardest negative per anchor (data-dependent indices). */
function marginLoss(beta: tf.Variable, labels: number[]) {
  return (embeds: tf.Tensor[]): tf.Scalar => {
    const [a, b] = embeds as tf.Tensor2D[];
    const d = tf.tidy(() => tf.sqrt(tf.relu(tf.sub(2, tf.mul(2, tf.matMul(a, a, false, true)))).add(1e-6)));
    const dv = d.arraySync() as number[][];
    d.dispose();
    const anchors: number[] = [];
    const positives: number[] = [];
    const negatives: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      const pos = labels.findIndex((l, j) => j !== i && l === labels[i]);
      let neg = -1;
      for (let j = 0; j < labels.length; j++) if (labels[j] !== labels[i] && (neg < 0 || dv[i][j] < dv[i][neg])) neg = j;
      anchors.push(i);
      positives.push(pos);
      negatives.push(neg);
    }
    // Rows picked as the losses pick them (no gather gradient on wasm).
    const rows = (e: tf.Tensor2D, xs: number[]) => selectRows(e, Int32Array.from(xs));
    const dist = (e: tf.Tensor2D, i: number[], j: number[]) => tf.sqrt(tf.sum(tf.square(tf.sub(rows(e, i), rows(e, j))), 1).add(1e-8));
    const dap = dist(a, anchors, positives);
    const dan = dist(a, anchors, negatives);
    const lossA = tf.mean(tf.add(tf.relu(tf.add(tf.sub(dap, beta), 0.2)), tf.relu(tf.add(tf.sub(beta, dan), 0.2))));
    // Head B: cosine similarity of mined pairs pulled towards head A's distance (couples the two heads).
    const cosB = tf.sum(tf.mul(rows(b, anchors), rows(b, negatives)), 1);
    const lossB = tf.mean(tf.square(tf.sub(cosB, dap)));
    return tf.add(lossA, tf.mul(0.5, lossB)) as tf.Scalar;
  };
}

function grab(grads: Map<string, tf.Tensor>): Map<string, Float32Array> {
  return new Map([...grads].map(([k, g]) => [k.split('.').slice(1).join('.'), g.dataSync().slice() as Float32Array]));
}

function setup(tag: string) {
  const model = makeModel(tag);
  const labels = [0, 0, 1, 1, 2, 2, 3, 3];
  const images = seeded(new Rng(8, 'microbatch-images'), [B, 9, 9, 3]) as tf.Tensor4D;
  const opts = (microBs: number): MicrobatchGradientOptions => ({
    images,
    microBs,
    forward: model.forward,
    loss: marginLoss(model.beta, labels),
    netVars: Object.values(model.net),
    lossVars: [model.beta],
  });
  const dispose = () => tf.dispose([images, model.beta, ...Object.values(model.net)]);
  return { opts, dispose };
}

test('micro-batched gradients equal the full-batch gradients (1e-5) for micro-batch sizes 1, 3, 5', () => {
  const { opts, dispose } = setup('mb1');
  const full = computeGradients(opts(B)); // single pass: the reference
  const ref = grab(full.grads);
  assert.equal(ref.size, 7, 'every variable, including β, gets a gradient');
  for (const microBs of [1, 3, 5]) {
    const r = computeGradients(opts(microBs));
    assert.ok(Math.abs(r.loss - full.loss) < 1e-5, `loss ${r.loss} vs ${full.loss}`);
    const got = grab(r.grads);
    assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort());
    for (const [name, g] of ref) {
      const scale = Math.max(1, ...Array.from(g, Math.abs));
      const d = maxAbsDiff(got.get(name)!, g);
      assert.ok(d <= 1e-5 * scale, `microBs ${microBs}, ${name}: max diff ${d}`);
    }
    tf.dispose([...r.grads.values()]);
  }
  assert.ok(
    [...ref.values()].every((g) => g.some((x) => Math.abs(x) > 1e-6)),
    'gradients are not trivially zero',
  );
  tf.dispose([...full.grads.values()]);
  dispose();
});

test('a batch-coupled forward pass (batch statistics) is NOT reproduced — the frozen-BN assumption matters', () => {
  const { opts, dispose } = setup('mb2');
  const coupled = (o: MicrobatchGradientOptions): MicrobatchGradientOptions => ({
    ...o,
    forward: (x, i) => o.forward(tf.sub(x, tf.mean(x, 0, true)) as tf.Tensor4D, i),
  });
  const full = computeGradients(coupled(opts(B)));
  const split = computeGradients(coupled(opts(2)));
  const a = full.grads.get('mb2.conv1')!.dataSync();
  const b = split.grads.get('mb2.conv1')!.dataSync();
  assert.ok(maxAbsDiff(a, b) > 1e-3);
  tf.dispose([...full.grads.values(), ...split.grads.values()]);
  dispose();
});

test('no tensors leak across repeated micro-batched steps', () => {
  const { opts, dispose } = setup('mb3');
  const step = () => tf.dispose([...computeGradients(opts(3)).grads.values()]);
  step();
  const n = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, n);
  dispose();
});

test('a bad micro-batch size is a UserError', () => {
  const { opts, dispose } = setup('mb4');
  assert.throws(() => computeGradients(opts(0)), UserError);
  assert.throws(() => computeGradients(opts(2.5)), UserError);
  dispose();
});

test('autoMicroBatchSize: 5 at 224 px (≈0.33 GB/image measured), whole small batches, never 0 or above the batch', async () => {
  const { autoMicroBatchSize } = await import('../../src/train/microbatch.ts');
  assert.equal(autoMicroBatchSize({ batch: 112, inputSize: 224 }), 5); // floor((2.6 − 0.7) GB / 0.33 GB)
  assert.equal(autoMicroBatchSize({ batch: 8, inputSize: 64 }), 8);
  assert.equal(autoMicroBatchSize({ batch: 112, inputSize: 448 }), 1);
  assert.equal(autoMicroBatchSize({ batch: 112, inputSize: 224, heapBudgetBytes: 0.7e9 + 3 * 0.33e9 }), 3);
});
