/**
 * `mic-train embed` and `mic-train query`: what users do next with a trained model. Parsing only; the work is
 * in `src/eval/embed-command.ts`.
 */
import yargs from 'yargs';
import { UserError } from '../errors.ts';
import { BACKENDS } from './flags.ts';

export interface EmbedArgs {
  checkpoint: string;
  images: string;
  out: string;
  bs: number;
  backend: (typeof BACKENDS)[number];
  kernels: number;
}

export interface QueryArgs {
  gallery: string;
  images: string[];
  checkpoint?: string;
  k: number;
  backend: (typeof BACKENDS)[number];
}

function base(argv: string[], usage: string) {
  return yargs(argv)
    .scriptName('mic-train')
    .usage(usage)
    .help('help')
    .alias('help', 'h')
    .version(false)
    .strictOptions()
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false })
    .fail((msg, err) => {
      throw new UserError((msg || err?.message || 'invalid arguments').replace(/\s*\n\s*/g, '; '));
    })
    .option('backend', { type: 'string', default: 'auto', describe: `tfjs backend [choices: ${BACKENDS.join(', ')}]` });
}

function checkBackend(b: string): (typeof BACKENDS)[number] {
  if (!(BACKENDS as readonly string[]).includes(b)) throw new UserError(`--backend: unknown value '${b}'; expected one of: ${BACKENDS.join(', ')}`);
  return b as (typeof BACKENDS)[number];
}

function positiveInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--${name}: expected a positive integer, got '${String(v)}'`);
  return n;
}

export function parseEmbedArgs(argv: string[]): EmbedArgs {
  const a = base(argv, 'Usage: mic-train embed --checkpoint RUN/checkpoint_Class --images FOLDER --out FILE.safetensors|FILE.npy\n\nEmbed every image under FOLDER (recursively) with a trained model\'s Class embedding.')
    .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint folder (checkpoint_Class/ or last/ of a run)' })
    .option('images', { type: 'string', demandOption: true, describe: 'folder of images (searched recursively)' })
    .option('out', { type: 'string', demandOption: true, describe: 'output: .safetensors (embeddings + paths in metadata) or .npy (+ .paths.txt beside it)' })
    .option('bs', { type: 'number', default: 64, describe: 'images per forward pass' })
    .option('kernels', { type: 'number', default: 2, describe: 'images decoded at once' })
    .parseSync() as Record<string, unknown>;
  if ((a._ as unknown[]).length) throw new UserError(`unexpected argument '${(a._ as unknown[])[0]}'`);
  const out = String(a.out);
  if (!/\.(safetensors|npy)$/.test(out)) throw new UserError(`--out: expected a file name ending in .safetensors or .npy, got '${out}'`);
  return { checkpoint: String(a.checkpoint), images: String(a.images), out, bs: positiveInt('bs', a.bs), kernels: positiveInt('kernels', a.kernels), backend: checkBackend(String(a.backend)) };
}

export function parseQueryArgs(argv: string[]): QueryArgs {
  const a = base(argv, 'Usage: mic-train query --gallery EMB.safetensors [--k 5] IMAGE...\n\nNearest gallery images of each query image (the model is the one that made the gallery, or --checkpoint).')
    .option('gallery', { type: 'string', demandOption: true, describe: 'embeddings written by `mic-train embed` (.safetensors)' })
    .option('checkpoint', { type: 'string', describe: 'checkpoint folder (default: the one recorded in the gallery file)' })
    .option('k', { type: 'number', default: 5, describe: 'neighbours per query' })
    .parseSync() as Record<string, unknown>;
  const images = (a._ as unknown[]).map(String);
  if (images.length === 0) throw new UserError('query: give one or more image files after the flags');
  return {
    gallery: String(a.gallery),
    images,
    checkpoint: a.checkpoint === undefined ? undefined : String(a.checkpoint),
    k: positiveInt('k', a.k),
    backend: checkBackend(String(a.backend)),
  };
}
