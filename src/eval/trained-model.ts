/**
 * A model rebuilt from a checkpoint folder written by a run (`checkpoint_Class/` or `last/`), and the
 * embedding of arbitrary image files with it — what `embed` and `query` need.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { evalBatches } from '../data/loader.ts';
import { UserError } from '../errors.ts';
import { loadCheckpoint } from '../io/checkpoint.ts';
import { buildModel } from '../models/build-model.ts';
import type { EmbeddingModel } from '../models/types.ts';
import { rngFor } from '../rng.ts';
import { embedAll } from './embed.ts';

export interface TrainedModel {
  model: EmbeddingModel;
  inputSize: number;
}

export async function loadTrainedModel(dir: string): Promise<TrainedModel> {
  const ck = loadCheckpoint(dir);
  const cfg = (ck.state as { config?: { arch: string; embedSizes: number[]; inputSize: number; pretrainedFormat: 'torchvision' | 'keras' } }).config;
  if (!cfg) throw new UserError(`${dir}: checkpoint has no run configuration (not written by mic-train?)`);
  const model = await buildModel({ arch: cfg.arch, embedSizes: cfg.embedSizes, notPretrained: true, pretrainedFormat: cfg.pretrainedFormat, rng: rngFor(0, 'init') });
  const sd = new Map<string, tf.Tensor>();
  for (const [k, v] of ck.tensors) sd.set(k, tf.tensor(v.data, v.shape));
  try {
    model.loadStateDict(sd, path.join(ck.path, 'model.safetensors'));
  } finally {
    tf.dispose([...sd.values()]);
  }
  return { model, inputSize: cfg.inputSize };
}

/** Class embeddings of `paths`, row-major [paths.length, dim]. */
export async function embedPaths(m: TrainedModel, paths: string[], bs: number, kernels: number): Promise<Float32Array> {
  return embedAll(m.model, evalBatches(paths, bs, m.inputSize, m.model.input, { concurrency: kernels, recycle: true }), paths.length, 0);
}
