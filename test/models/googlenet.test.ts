import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GOOGLENET_INPUT, GoogLeNet } from '../../src/models/googlenet.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { parityErrors } from '../helpers/model-parity.ts';

await useTestBackend();
const TOL = 1e-4;

test(`googlenet (width ÷8) matches torchvision's GoogLeNet forward within ${TOL}: pooled, conv3, both heads`, () => {
  const e = parityErrors('googlenet-w8', (width, embedSizes) => new GoogLeNet({ embedSizes, width, rng: new Rng(0, 'init'), randomBackbone: false }));
  assert.ok(e.pooled <= TOL, `pooled ${e.pooled}`);
  assert.ok(e.cluster <= TOL, `conv3 ${e.cluster}`);
  e.embeds.forEach((err, i) => assert.ok(err <= TOL, `head ${i}: ${err}`));
});

test('full-width GoogLeNet: 1024-d feature, torchvision parameter count without aux heads and fc', () => {
  const m = new GoogLeNet({ embedSizes: [128, 128], rng: new Rng(0, 'init'), randomBackbone: false });
  assert.equal(m.featureDim, 1024);
  // torchvision googlenet(aux_logits=False): 6,624,904 parameters, of which fc holds 1024·1000 + 1000.
  assert.equal(m.backboneParameterCount(), 6_624_904 - 1_025_000);
  assert.deepEqual(m.clusterLayer, { name: 'conv3', channels: 192, stride: 4 });
  m.dispose();
});

test('ImageNet files: fc and the auxiliary classifiers are dropped, the backbone is loaded strictly', () => {
  const m = new GoogLeNet({ embedSizes: [4, 4], rng: new Rng(1, 'init'), randomBackbone: true, width: 16 });
  const sd = m.stateDict();
  for (const [n, t] of sd) if (n.startsWith('last_linear.')) (t.dispose(), sd.delete(n));
  sd.set('fc.weight', tf.zeros([1000, 64]));
  sd.set('aux1.conv.conv.weight', tf.zeros([128, 32, 1, 1]));
  sd.set('aux2.fc2.bias', tf.zeros([1000]));
  m.loadPretrained(sd, 'googlenet.safetensors');
  const missing = new Map([...sd].filter(([n]) => n !== 'inception5b.branch4.1.bn.running_var'));
  assert.throws(() => m.loadPretrained(missing, 'googlenet.safetensors'), /missing 1: inception5b\.branch4\.1\.bn\.running_var/);
  tf.dispose([...sd.values()]);
  m.dispose();
});

test("input convention is what torchvision's transform_input produces: RGB, mean 0.5, std 0.5", () => {
  assert.deepEqual(GOOGLENET_INPUT, { order: 'RGB', scale: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  // transform_input maps ImageNet-normalised x_n to x_n·(σ/0.5) + (μ − 0.5)/0.5 = (p − 0.5)/0.5 for a pixel p.
  const mu = 0.485,
    sigma = 0.229,
    p = 0.8;
  const viaTorchvision = ((p - mu) / sigma) * (sigma / 0.5) + (mu - 0.5) / 0.5;
  assert.ok(Math.abs(viaTorchvision - (p - GOOGLENET_INPUT.mean[0]) / GOOGLENET_INPUT.std[0]) < 1e-12);
});
