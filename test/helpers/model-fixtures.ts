/**
 * Test helper: the parity fixtures of test/fixtures/models/ (made by scripts/fixtures/make_model_fixtures.py with
 * Debian's PyTorch; see that script for how each reference network was built).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { readTorchvisionSafetensors, toTfTensors } from '../../src/io/weights.ts';

export const FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models');

export interface ModelFixture {
  /** Path of the weights file (absent for the Keras fixture, whose weights are a layers model folder). */
  weightsPath: string;
  /** Reference inputs/outputs by name: input, pooled, cluster, embed.Class, embed.Shared, logits. */
  io: Map<string, tf.Tensor>;
  width: number;
  embedSizes: number[];
  featureDim: number;
}

/** Loads `<name>.io.safetensors` (and names the weights file). Tensors are tf tensors the caller disposes. */
export function loadFixture(name: string): ModelFixture {
  const { tensors, metadata } = readSafetensors(path.join(FIXTURE_DIR, `${name}.io.safetensors`));
  return {
    weightsPath: path.join(FIXTURE_DIR, `${name}.weights.safetensors`),
    io: toTfTensors(tensors),
    width: Number(metadata.width),
    embedSizes: JSON.parse(metadata.embedSizes) as number[],
    featureDim: Number(metadata.featureDim),
  };
}

/** The fixture's full state dict (backbone + heads) as tf tensors. */
export function loadFixtureWeights(fx: ModelFixture): Map<string, tf.Tensor> {
  return toTfTensors(readTorchvisionSafetensors(fx.weightsPath));
}

/** PyTorch NCHW → our NHWC. */
export function toNhwc(t: tf.Tensor): tf.Tensor4D {
  return tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;
}

/** max |a − b| over all elements, shapes must agree. */
export function maxAbsError(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape mismatch [${a.shape}] vs [${b.shape}]`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Why a training-step test cannot run on the current backend (wasm lacks the filter gradient until
 * src/backend installs it), or false when it can. */
export function noFilterGradient(): string | false {
  const backend = tf.getBackend();
  return tf.getKernel('Conv2DBackpropFilter', backend) ? false : `backend ${backend} has no Conv2DBackpropFilter kernel`;
}
