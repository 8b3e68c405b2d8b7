/**
 * A model rebuilt from a checkpoint folder written by a run (`checkpoint_Class/` or `last/`), and the
 * embedding of arbitrary image files with it — what `embed` and `query` need.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evalBatches } from '../data/loader.ts';
import { UserError } from '../errors.ts';
import { loadCheckpoint } from '../io/checkpoint.ts';
import { modelFingerprint } from '../io/gallery.ts';
import type { PretrainedFormat } from '../io/weights.ts';
import { buildModel } from '../models/build-model.ts';
import type { EmbeddingModel } from '../models/types.ts';
import { rngFor } from '../rng.ts';
import { embedAll } from './embed.ts';

export interface TrainedModel {
  model: EmbeddingModel;
  inputSize: number;
  /** `modelFingerprint` of the checkpoint's weights. */
  fingerprint: string;
}

/** What rebuilding a checkpoint's network takes from the run configuration in its state (`train/run-state.ts` writes it). */
export interface CheckpointModelConfig {
  arch: string;
  embedSizes: number[];
  inputSize: number;
  pretrainedFormat: PretrainedFormat;
}

/** The network's settings from a checkpoint's state; a UserError when they are missing or malformed. */
export function checkpointModelConfig(state: Record<string, unknown>, dir: string): CheckpointModelConfig {
  const c = state.config;
  const fields = c !== null && typeof c === 'object' ? (c as Record<string, unknown>) : {};
  const { arch, embedSizes, inputSize, pretrainedFormat } = fields;
  if (
    typeof arch !== 'string' ||
    !Array.isArray(embedSizes) ||
    !embedSizes.every((n) => Number.isInteger(n)) ||
    typeof inputSize !== 'number' ||
    !Number.isInteger(inputSize)
  ) {
    throw new UserError(`${dir}: checkpoint has no usable run configuration (arch, embedSizes, inputSize); not written by mic-train?`);
  }
  // Runs store the format they were made with; anything but Keras's is the torchvision convention.
  return { arch, embedSizes, inputSize, pretrainedFormat: pretrainedFormat === 'keras' ? 'keras' : 'torchvision' };
}

/**
 * The model of checkpoint folder `dir`. `checkFingerprint` sees the weights' fingerprint before the network
 * is built (and may throw, e.g. when it is not the model a gallery was made with).
 */
export async function loadTrainedModel(dir: string, checkFingerprint?: (fingerprint: string) => void): Promise<TrainedModel> {
  const ck = loadCheckpoint(dir);
  const fingerprint = modelFingerprint(ck.tensors);
  checkFingerprint?.(fingerprint);
  const cfg = checkpointModelConfig(ck.state, dir);
  const model = await buildModel({ ...cfg, notPretrained: true, rng: rngFor(0, 'init') });
  const sd = new Map<string, tf.Tensor>();
  for (const [k, v] of ck.tensors) sd.set(k, tf.tensor(v.data, v.shape));
  try {
    model.loadStateDict(sd, path.join(ck.path, 'model.safetensors'));
  } finally {
    tf.dispose([...sd.values()]);
  }
  return { model, inputSize: cfg.inputSize, fingerprint };
}

/** Embeddings of the images that could be decoded, and the indices (into `paths`) of those that could not. */
export interface EmbeddedPaths {
  /** [paths.length − failed.length, dim], rows in `paths` order with the failed ones left out. */
  embeddings: Float32Array;
  dim: number;
  failed: number[];
}

/** Class embeddings of `paths`; undecodable images are left out (never zero rows) and listed in `failed`. */
export async function embedPaths(m: TrainedModel, paths: string[], bs: number, kernels: number): Promise<EmbeddedPaths> {
  const failed: number[] = [];
  async function* tracked() {
    for await (const b of evalBatches(paths, bs, m.inputSize, m.model.input, { concurrency: kernels, recycle: true })) {
      failed.push(...b.failed);
      yield b;
    }
  }
  const all = await embedAll(m.model, tracked(), paths.length, 0);
  const dim = paths.length > 0 ? all.length / paths.length : 0;
  if (failed.length === 0) return { embeddings: all, dim, failed };
  const bad = new Set(failed);
  const out = new Float32Array((paths.length - bad.size) * dim);
  let row = 0;
  for (let i = 0; i < paths.length; i++) if (!bad.has(i)) out.set(all.subarray(i * dim, (i + 1) * dim), row++ * dim);
  return { embeddings: out, dim, failed: [...bad].sort((a, b) => a - b) };
}
