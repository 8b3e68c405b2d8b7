import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/errors.ts';
import { kerasResNet50ToTorchvision, permute, torchvisionModuleFor } from '../../src/io/keras-resnet50.ts';
import { readLayersModel } from '../../src/io/tfjs-layers-model.ts';
import { readPretrainedWeights, toTfTensors, disposeStateDict } from '../../src/io/weights.ts';
import { ResNet50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { FIXTURE_DIR, loadFixture, maxAbsError, toNhwc } from '../helpers/model-fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

await useTestBackend();

const KERAS_FIXTURE = path.join(FIXTURE_DIR, 'resnet50v1-keras-w16');
const tmp = tempDir('mic-keras-test-');
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** A writable copy of the Keras fixture folder, with `edit` applied to its parsed model.json. */
function editedFixture(name: string, edit: (doc: any) => void, shard?: (b: Buffer) => Buffer): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const doc = JSON.parse(fs.readFileSync(path.join(KERAS_FIXTURE, 'model.json'), 'utf8'));
  edit(doc);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
  const bin = fs.readFileSync(path.join(KERAS_FIXTURE, 'group1-shard1of1.bin'));
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), shard ? shard(bin) : bin);
  return path.join(dir, 'model.json');
}

test('Keras layer names map to torchvision modules (Keras 2.2.4 and tf.keras naming)', () => {
  const cases: Array<[string, string | null]> = [
    ['conv1', 'conv1'],
    ['bn_conv1', 'bn1'],
    ['res2a_branch2a', 'layer1.0.conv1'],
    ['bn3d_branch2c', 'layer2.3.bn3'],
    ['res4a_branch1', 'layer3.0.downsample.0'],
    ['bn5a_branch1', 'layer4.0.downsample.1'],
    ['fc1000', 'fc'],
    ['conv1_conv', 'conv1'],
    ['conv4_block6_2_conv', 'layer3.5.conv2'],
    ['conv2_block1_0_bn', 'layer1.0.downsample.1'],
    ['predictions', 'fc'],
    ['dense_1', null],
  ];
  for (const [keras, torch] of cases) assert.equal(torchvisionModuleFor(keras), torch, keras);
});

test('permute: HWIO → OIHW moves element [h][w][i][o] to [o][i][h][w]', () => {
  const shape = [2, 3, 4, 5];
  const data = Float32Array.from({ length: 120 }, (_, n) => n);
  const out = permute({ dtype: 'float32', shape, data }, [3, 2, 0, 1]);
  assert.deepEqual(out.shape, [5, 4, 2, 3]);
  const at = (h: number, w: number, i: number, o: number) => ((h * 3 + w) * 4 + i) * 5 + o;
  for (const [h, w, i, o] of [
    [0, 0, 0, 0],
    [1, 2, 3, 4],
    [1, 0, 2, 3],
    [0, 2, 1, 4],
  ]) {
    assert.equal(out.data[((o * 4 + i) * 2 + h) * 3 + w], at(h, w, i, o));
  }
});

test('the Keras v1 fixture (width ÷16) matches its PyTorch reference within 1e-4: pooled, layer1, logits', () => {
  const fx = loadFixture('resnet50v1-keras-w16');
  const w = readPretrainedWeights(path.join(KERAS_FIXTURE, 'model.json'), 'keras');
  assert.equal(w.bnEps, 1e-3);
  const m = new ResNet50({ embedSizes: [4], rng: new Rng(0, 'init'), randomBackbone: false, width: 16, variant: 'keras-v1', bnEps: w.bnEps });
  const sd = toTfTensors(w.tensors);
  m.loadPretrained(sd, 'fixture');
  tf.tidy(() => {
    const x = toNhwc(fx.io.get('input')!);
    const out = m.forward(x);
    const logits = tf.add(tf.matMul(out.pooled, sd.get('fc.weight')!, false, true), sd.get('fc.bias')!);
    assert.ok(maxAbsError(out.pooled, fx.io.get('pooled')!) <= 1e-4);
    assert.ok(maxAbsError(m.clusterFeatures(x), toNhwc(fx.io.get('cluster')!)) <= 1e-4);
    assert.ok(maxAbsError(logits, fx.io.get('logits')!) <= 1e-4);
  });
  disposeStateDict(sd);
  tf.dispose([...fx.io.values()]);
  m.dispose();
});

test('broken layers models: the error names model.json and the first bad weight or shard', () => {
  const truncated = editedFixture(
    'truncated',
    () => {},
    (b) => b.subarray(0, 1000),
  );
  const first = JSON.parse(fs.readFileSync(truncated, 'utf8')).weightsManifest[0].weights;
  // Sizes from the manifest: the first weight whose bytes end after byte 1000.
  let offset = 0;
  const firstBad = first.find((w: { shape: number[] }) => (offset += 4 * w.shape.reduce((a, b) => a * b, 1)) > 1000).name;
  assert.throws(
    () => readLayersModel(truncated),
    (e: unknown) =>
      e instanceof UserError && e.message.startsWith(truncated) && e.message.includes(`weight '${firstBad}'`) && /truncated shard/.test(e.message),
  );
  const longer = editedFixture(
    'longer',
    () => {},
    (b) => Buffer.concat([b, Buffer.alloc(8)]),
  );
  assert.throws(() => readLayersModel(longer), /describes \d+ \(wrong or mixed-up shard files\?\)/);
  const missing = editedFixture('missing', (d) => (d.weightsManifest[0].paths = ['group1-shard1of2.bin']));
  assert.throws(() => readLayersModel(missing), /weight shard '.*group1-shard1of2\.bin' was not found/);
  const graph = editedFixture('graph', (d) => (d.format = 'graph-model'));
  assert.throws(() => readLayersModel(graph), /graph model has no Keras layer names/);
});

test('a Keras model that is not ResNet50 v1 is refused', () => {
  const other = editedFixture('other', (d) => (d.weightsManifest[0].weights[0].name = 'dense_7/kernel'));
  assert.throws(() => readPretrainedWeights(other, 'keras'), /not a Keras ResNet50: 1 weight\(s\) have no ResNet50 counterpart \(dense_7\/kernel\)/);
  const v15 = editedFixture('v15', (d) => {
    for (const l of d.modelTopology.model_config.config.layers) if (l.config.name === 'res3a_branch2a') l.config.strides = [1, 1];
  });
  assert.throws(() => readPretrainedWeights(v15, 'keras'), /not a Keras ResNet50 v1/);
  const eps = editedFixture('eps', (d) => {
    const bn = d.modelTopology.model_config.config.layers.find((l: { class_name: string }) => l.class_name === 'BatchNormalization');
    bn.config.epsilon = 1e-5;
  });
  assert.throws(() => readPretrainedWeights(eps, 'keras'), /epsilons are missing or differ between layers \(0\.00001, 0\.001\)/);
});

test('quantised weights (uint8 affine, float16) are dequantised', () => {
  const dir = path.join(tmp, 'quantised');
  fs.mkdirSync(dir);
  const doc = {
    format: 'layers-model',
    weightsManifest: [
      {
        paths: ['shard.bin'],
        weights: [
          { name: 'q/u8', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
          { name: 'q/f16', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
        ],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
  fs.writeFileSync(path.join(dir, 'shard.bin'), Buffer.from([0, 2, 255, 0x00, 0x3c, 0x00, 0xc0])); // u8 0,2,255; f16 1.0, −2.0
  const m = readLayersModel(path.join(dir, 'model.json'));
  assert.deepEqual([...m.weights.get('q/u8')!.data], [-1, 0, 126.5]);
  assert.deepEqual([...m.weights.get('q/f16')!.data], [1, -2]);
});
