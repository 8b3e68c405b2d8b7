/** `mic-train embed`: embed every image under a folder with a trained model's Class embedding. */
import fs from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../backend/select.ts';
import { listImagesRecursive } from '../data/datasets/layout.ts';
import { UserError } from '../errors.ts';
import { embedPaths, loadTrainedModel, type EmbeddedPaths } from '../eval/trained-model.ts';
import { writeGallery } from '../io/gallery.ts';
import { npyBytes } from '../io/npy.ts';
import {
  checkBackend,
  checkOutputFile,
  commandParser,
  logToStderr,
  positionals,
  positiveInt,
  stopOnSignal,
  withBackend,
  type BackendName,
} from './common.ts';

export interface EmbedArgs {
  checkpoint: string;
  images: string;
  out: string;
  bs: number;
  backend: BackendName;
  kernels: number;
}

export function parseEmbedArgs(argv: string[]): EmbedArgs {
  const a = withBackend(
    commandParser(
      argv,
      "Usage: mic-train embed --checkpoint RUN/checkpoint_Class --images FOLDER --out FILE.safetensors|FILE.npy\n\nEmbed every image under FOLDER (recursively) with a trained model's Class embedding.",
    ),
  )
    .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint folder (checkpoint_Class/ or last/ of a run)' })
    .option('images', { type: 'string', demandOption: true, describe: 'folder of images (searched recursively)' })
    .option('out', {
      type: 'string',
      demandOption: true,
      describe: 'output: .safetensors (embeddings + paths in metadata) or .npy (+ .paths.txt beside it)',
    })
    .option('bs', { type: 'string', default: 64, describe: 'images per forward pass' })
    .option('kernels', { type: 'string', default: 2, describe: 'images decoded at once' })
    .parseSync() as Record<string, unknown>;
  const extra = positionals(a);
  if (extra.length) throw new UserError(`embed: unexpected argument '${extra[0]}'`);
  const out = String(a.out);
  if (!/\.(safetensors|npy)$/.test(out)) throw new UserError(`--out: expected a file name ending in .safetensors or .npy, got '${out}'`);
  checkOutputFile('--out', out);
  return {
    checkpoint: String(a.checkpoint),
    images: String(a.images),
    out,
    bs: positiveInt('bs', a.bs),
    kernels: positiveInt('kernels', a.kernels),
    backend: checkBackend(a.backend),
  };
}

export async function runEmbed(a: EmbedArgs): Promise<void> {
  const paths = listImagesRecursive(a.images, '--images');
  await selectBackend(a.backend, { log: logToStderr });
  const m = await loadTrainedModel(a.checkpoint);
  let embedded: EmbeddedPaths;
  try {
    embedded = await embedPaths(m, paths, a.bs, a.kernels);
  } finally {
    m.model.dispose();
  }
  const { embeddings, dim, failed } = embedded;
  const bad = new Set(failed);
  const kept = paths.filter((_, i) => !bad.has(i));
  const skipped = failed.map((i) => paths[i]);
  if (kept.length === 0)
    throw new UserError(`--images: none of the ${paths.length} image(s) under '${a.images}' could be decoded (see the warnings above)`);
  if (a.out.endsWith('.npy')) {
    fs.writeFileSync(a.out, npyBytes(embeddings, [kept.length, dim]));
    fs.writeFileSync(a.out.replace(/\.npy$/, '.paths.txt'), kept.join('\n') + '\n');
  } else {
    writeGallery(a.out, {
      embeddings,
      n: kept.length,
      dim,
      paths: kept,
      checkpoint: path.resolve(a.checkpoint),
      modelSha256: m.fingerprint,
      skipped,
    });
  }
  if (skipped.length > 0) {
    logToStderr(`left out ${skipped.length} of ${paths.length} image(s) that could not be decoded: ${skipped.join(', ')}`);
  }
  process.stdout.write(
    `embedded ${kept.length} images (${dim}-d) into ${a.out}${skipped.length ? ` (${skipped.length} undecodable image(s) left out)` : ''}\n`,
  );
}

export async function run(argv: string[]): Promise<number> {
  stopOnSignal('embed', 'nothing was written');
  await runEmbed(parseEmbedArgs(argv));
  return 0;
}
