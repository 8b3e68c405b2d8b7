/**
 * `mic-train embed` / `mic-train query`: load a checkpoint written by a run, embed images with its Class head,
 * and search an embedded gallery.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.ts';
import type { EmbedArgs, QueryArgs } from '../cli/subcommands.ts';
import { IMAGE_EXTENSIONS } from '../data/datasets/layout.ts';
import { evalBatches } from '../data/loader.ts';
import { UserError } from '../errors.ts';
import { loadCheckpoint } from '../io/checkpoint.ts';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import { buildModel } from '../models/registry.ts';
import type { EmbeddingModel } from '../models/types.ts';
import { rngFor } from '../rng.ts';
import { embedAll } from './embed.ts';
import { knnQueryGallery } from './knn.ts';

interface TrainedModel {
  model: EmbeddingModel;
  inputSize: number;
}

async function loadTrainedModel(dir: string): Promise<TrainedModel> {
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

function listImages(root: string): string[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UserError(`--images: '${root}' is not a folder`);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(p);
    }
  };
  walk(root);
  if (out.length === 0) throw new UserError(`--images: no images (${[...IMAGE_EXTENSIONS].join(', ')}) under '${root}'`);
  return out;
}

async function embedPaths(m: TrainedModel, paths: string[], bs: number, kernels: number): Promise<Float32Array> {
  return embedAll(m.model, evalBatches(paths, bs, m.inputSize, m.model.input, { concurrency: kernels, recycle: true }), paths.length, 0);
}

/** A NumPy .npy (format 1.0) float32 C-order array. */
function npyBytes(data: Float32Array, shape: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export async function runEmbed(a: EmbedArgs): Promise<void> {
  await selectBackend(a.backend, { log: (l) => process.stderr.write(`${l}\n`) });
  const m = await loadTrainedModel(a.checkpoint);
  const paths = listImages(a.images);
  const emb = await embedPaths(m, paths, a.bs, a.kernels);
  const dim = emb.length / paths.length;
  if (a.out.endsWith('.npy')) {
    fs.writeFileSync(a.out, npyBytes(emb, [paths.length, dim]));
    fs.writeFileSync(a.out.replace(/\.npy$/, '.paths.txt'), paths.join('\n') + '\n');
  } else {
    writeSafetensors(a.out, new Map([['embeddings', { dtype: 'float32', shape: [paths.length, dim], data: emb }]]), {
      paths: JSON.stringify(paths),
      checkpoint: path.resolve(a.checkpoint),
    });
  }
  process.stdout.write(`embedded ${paths.length} images (${dim}-d) into ${a.out}\n`);
  m.model.dispose();
}

export async function runQuery(a: QueryArgs): Promise<void> {
  const { tensors, metadata } = readSafetensors(a.gallery);
  const g = tensors.get('embeddings');
  if (!g || g.shape.length !== 2 || !metadata.paths) throw new UserError(`--gallery: '${a.gallery}' was not written by mic-train embed (no embeddings/paths)`);
  const galleryPaths = JSON.parse(metadata.paths) as string[];
  const ckDir = a.checkpoint ?? metadata.checkpoint;
  if (!ckDir) throw new UserError('--checkpoint: the gallery file does not record its checkpoint; pass --checkpoint');
  for (const p of a.images) if (!fs.existsSync(p)) throw new UserError(`query image '${p}' does not exist`);
  await selectBackend(a.backend, { log: (l) => process.stderr.write(`${l}\n`) });
  const m = await loadTrainedModel(ckDir);
  const q = await embedPaths(m, a.images, 32, 2);
  const [ng, dim] = g.shape;
  if (q.length / a.images.length !== dim) throw new UserError(`--gallery: ${dim}-d embeddings, but the checkpoint embeds ${q.length / a.images.length}-d`);
  const k = Math.min(a.k, ng);
  const ids = knnQueryGallery(q, a.images.length, g.data as Float32Array, ng, dim, k);
  a.images.forEach((img, i) => {
    process.stdout.write(`${img}\n`);
    for (let j = 0; j < k; j++) {
      const id = ids[i * k + j];
      if (id < 0) continue;
      let d2 = 0;
      for (let t = 0; t < dim; t++) d2 += (q[i * dim + t] - (g.data as Float32Array)[id * dim + t]) ** 2;
      process.stdout.write(`  ${j + 1}. ${galleryPaths[id]}  (distance ${Math.sqrt(d2).toFixed(4)})\n`);
    }
  });
  m.model.dispose();
}
