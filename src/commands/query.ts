/** `mic-train query`: the nearest gallery images (a file written by `embed`) of each query image. */
import fs from 'node:fs';
import { selectBackend } from '../backend/select.ts';
import { UserError } from '../errors.ts';
import { knnQueryGallery } from '../eval/knn.ts';
import { embedPaths, loadTrainedModel } from '../eval/trained-model.ts';
import { readSafetensors } from '../io/safetensors.ts';
import { checkBackend, commandParser, logToStderr, positionals, positiveInt, withBackend, type BackendName } from './common.ts';

export interface QueryArgs {
  gallery: string;
  images: string[];
  checkpoint?: string;
  k: number;
  backend: BackendName;
}

export function parseQueryArgs(argv: string[]): QueryArgs {
  const a = withBackend(
    commandParser(argv, 'Usage: mic-train query --gallery EMB.safetensors [--k 5] IMAGE...\n\nNearest gallery images of each query image (the model is the one that made the gallery, or --checkpoint).'),
  )
    .option('gallery', { type: 'string', demandOption: true, describe: 'embeddings written by `mic-train embed` (.safetensors)' })
    .option('checkpoint', { type: 'string', describe: 'checkpoint folder (default: the one recorded in the gallery file)' })
    .option('k', { type: 'number', default: 5, describe: 'neighbours per query' })
    .parseSync() as Record<string, unknown>;
  const images = positionals(a);
  if (images.length === 0) throw new UserError('query: give one or more image files after the flags');
  return {
    gallery: String(a.gallery),
    images,
    checkpoint: a.checkpoint === undefined ? undefined : String(a.checkpoint),
    k: positiveInt('k', a.k),
    backend: checkBackend(a.backend),
  };
}

export async function runQuery(a: QueryArgs): Promise<void> {
  const { tensors, metadata } = readSafetensors(a.gallery);
  const g = tensors.get('embeddings');
  if (!g || g.shape.length !== 2 || !metadata.paths) throw new UserError(`--gallery: '${a.gallery}' was not written by mic-train embed (no embeddings/paths)`);
  const galleryPaths = JSON.parse(metadata.paths) as string[];
  const ckDir = a.checkpoint ?? metadata.checkpoint;
  if (!ckDir) throw new UserError('--checkpoint: the gallery file does not record its checkpoint; pass --checkpoint');
  for (const p of a.images) if (!fs.existsSync(p)) throw new UserError(`query image '${p}' does not exist`);
  await selectBackend(a.backend, { log: logToStderr });
  const m = await loadTrainedModel(ckDir);
  const q = await embedPaths(m, a.images, 32, 2);
  const [ng, dim] = g.shape;
  if (q.length / a.images.length !== dim) throw new UserError(`--gallery: ${dim}-d embeddings, but the checkpoint embeds ${q.length / a.images.length}-d`);
  const k = Math.min(a.k, ng);
  const gd = g.data as Float32Array;
  const ids = knnQueryGallery(q, a.images.length, gd, ng, dim, k);
  a.images.forEach((img, i) => {
    process.stdout.write(`${img}\n`);
    for (let j = 0; j < k; j++) {
      const id = ids[i * k + j];
      if (id < 0) continue;
      let d2 = 0;
      for (let t = 0; t < dim; t++) d2 += (q[i * dim + t] - gd[id * dim + t]) ** 2;
      process.stdout.write(`  ${j + 1}. ${galleryPaths[id]}  (distance ${Math.sqrt(d2).toFixed(4)})\n`);
    }
  });
  m.model.dispose();
}

export async function run(argv: string[]): Promise<number> {
  await runQuery(parseQueryArgs(argv));
  return 0;
}
