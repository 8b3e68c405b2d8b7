/** `mic-train query`: the nearest gallery images (a file written by `embed`) of each query image. */
import { selectBackend } from '../backend/select.ts';
import { UserError } from '../errors.ts';
import { knnQueryGallery } from '../eval/knn.ts';
import { decodeRgb, ImageDecodeError } from '../data/decode.ts';
import { embedPaths, loadTrainedModel, type EmbeddedPaths } from '../eval/trained-model.ts';
import { readGallery } from '../io/gallery.ts';
import { checkBackend, commandParser, logToStderr, positionals, positiveInt, stopOnSignal, withBackend, type BackendName } from './common.ts';

export interface QueryArgs {
  gallery: string;
  images: string[];
  checkpoint?: string;
  k: number;
  backend: BackendName;
}

export function parseQueryArgs(argv: string[]): QueryArgs {
  const a = withBackend(
    commandParser(
      argv,
      'Usage: mic-train query --gallery EMB.safetensors [--k 5] IMAGE...\n\nNearest gallery images of each query image (the model is the one that made the gallery, or --checkpoint).',
    ),
  )
    .option('gallery', { type: 'string', demandOption: true, describe: 'embeddings written by `mic-train embed` (.safetensors)' })
    .option('checkpoint', { type: 'string', describe: 'checkpoint folder (default: the one recorded in the gallery file)' })
    .option('k', { type: 'string', default: 5, describe: 'neighbours per query' })
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
  const g = readGallery(a.gallery);
  const ckDir = a.checkpoint ?? g.checkpoint;
  if (!ckDir) throw new UserError('--checkpoint: the gallery file does not record its checkpoint; pass --checkpoint');
  // Every query image must decode: a query without a picture has no neighbours (checked before the model loads).
  for (const p of a.images) {
    try {
      await decodeRgb(p);
    } catch (e) {
      if (e instanceof ImageDecodeError) throw new UserError(`query: ${e.message}`);
      throw e;
    }
  }
  await selectBackend(a.backend, { log: logToStderr });
  const m = await loadTrainedModel(ckDir, (fingerprint) => {
    if (g.modelSha256 === undefined) {
      logToStderr(
        `warning: '${a.gallery}' records no model fingerprint (written by an older mic-train): cannot check that '${ckDir}' is the model that made it`,
      );
    } else if (fingerprint !== g.modelSha256) {
      throw new UserError(
        `--checkpoint '${ckDir}' is not the model that made the gallery '${a.gallery}' (weights ${fingerprint.slice(0, 12)}…, gallery made with ${g.modelSha256.slice(0, 12)}…); ` +
          'distances between embeddings of two models mean nothing: embed the gallery again with this checkpoint',
      );
    }
  });
  let q: EmbeddedPaths;
  try {
    q = await embedPaths(m, a.images, 32, 2);
  } finally {
    m.model.dispose();
  }
  if (q.failed.length > 0) throw new UserError(`query: cannot decode image '${a.images[q.failed[0]]}'`);
  const { n: ng, dim, embeddings: gd } = g;
  if (q.dim !== dim) throw new UserError(`--gallery: ${dim}-d embeddings, but the checkpoint embeds ${q.dim}-d`);
  const k = Math.min(a.k, ng);
  const ids = knnQueryGallery(q.embeddings, a.images.length, gd, ng, dim, k);
  a.images.forEach((img, i) => {
    process.stdout.write(`${img}\n`);
    for (let j = 0; j < k; j++) {
      const id = ids[i * k + j];
      if (id < 0) continue;
      let d2 = 0;
      for (let t = 0; t < dim; t++) d2 += (q.embeddings[i * dim + t] - gd[id * dim + t]) ** 2;
      process.stdout.write(`  ${j + 1}. ${g.paths[id]}  (distance ${Math.sqrt(d2).toFixed(4)})\n`);
    }
  });
}

export async function run(argv: string[]): Promise<number> {
  stopOnSignal('query', 'no answer was printed');
  await runQuery(parseQueryArgs(argv));
  return 0;
}
