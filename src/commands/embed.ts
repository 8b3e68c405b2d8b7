/** `mic-train embed`: embed every image under a folder with a trained model's Class embedding. */
import fs from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../backend/select.ts';
import { listImagesRecursive } from '../data/datasets/layout.ts';
import { UserError } from '../errors.ts';
import { embedPaths, loadTrainedModel } from '../eval/trained-model.ts';
import { npyBytes } from '../io/npy.ts';
import { writeSafetensors } from '../io/safetensors.ts';
import { checkBackend, commandParser, logToStderr, positionals, positiveInt, withBackend, type BackendName } from './common.ts';

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
    commandParser(argv, "Usage: mic-train embed --checkpoint RUN/checkpoint_Class --images FOLDER --out FILE.safetensors|FILE.npy\n\nEmbed every image under FOLDER (recursively) with a trained model's Class embedding."),
  )
    .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint folder (checkpoint_Class/ or last/ of a run)' })
    .option('images', { type: 'string', demandOption: true, describe: 'folder of images (searched recursively)' })
    .option('out', { type: 'string', demandOption: true, describe: 'output: .safetensors (embeddings + paths in metadata) or .npy (+ .paths.txt beside it)' })
    .option('bs', { type: 'number', default: 64, describe: 'images per forward pass' })
    .option('kernels', { type: 'number', default: 2, describe: 'images decoded at once' })
    .parseSync() as Record<string, unknown>;
  const extra = positionals(a);
  if (extra.length) throw new UserError(`embed: unexpected argument '${extra[0]}'`);
  const out = String(a.out);
  if (!/\.(safetensors|npy)$/.test(out)) throw new UserError(`--out: expected a file name ending in .safetensors or .npy, got '${out}'`);
  return { checkpoint: String(a.checkpoint), images: String(a.images), out, bs: positiveInt('bs', a.bs), kernels: positiveInt('kernels', a.kernels), backend: checkBackend(a.backend) };
}

export async function runEmbed(a: EmbedArgs): Promise<void> {
  await selectBackend(a.backend, { log: logToStderr });
  const m = await loadTrainedModel(a.checkpoint);
  const paths = listImagesRecursive(a.images, '--images');
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

export async function run(argv: string[]): Promise<number> {
  await runEmbed(parseEmbedArgs(argv));
  return 0;
}
