/** `mic-train prepare <dataset> --from DIR`: files fetched by hand → the layout the dataset loader reads. */
import { PREPARERS } from '../data/prepare/index.ts';
import { verifyInstalled } from '../data/prepare/install.ts';
import { UserError } from '../errors.ts';
import { commandParser, logToStderr, positionals } from './common.ts';

export interface PrepareArgs {
  dataset: string;
  from: string;
  sourcePath: string;
  noVerify: boolean;
}

export function parsePrepareArgs(argv: string[]): PrepareArgs {
  const usage =
    'Usage: mic-train prepare <dataset> --from DIR [--source_path PARENT]\n\n' +
    'Arrange the files of a dataset you fetched by hand into <source_path>/<dataset>, exactly as training reads ' +
    'it, and check the result with the loader. The input is never modified (images are hard-linked where possible, ' +
    'else copied).';
  const epilog = ['What --from DIR must hold:', ...Object.entries(PREPARERS).map(([k, p]) => `- ${k}: ${p.inputs}`)].join('\n');
  const a = commandParser(argv, usage)
    .epilog(epilog)
    .option('from', { type: 'string', demandOption: true, describe: 'folder holding the files you fetched' })
    .option('source_path', { type: 'string', default: 'Datasets', describe: 'parent folder of the dataset folders (as in training)' })
    .option('no-verify', { type: 'boolean', default: false, describe: 'cub200 / online_products: skip the sha256 check of the archive' })
    .parseSync() as Record<string, unknown>;
  const words = positionals(a);
  if (words.length !== 1) throw new UserError(`prepare: name one dataset: ${Object.keys(PREPARERS).join(', ')}`);
  if (!Object.hasOwn(PREPARERS, words[0]))
    throw new UserError(`prepare: unknown dataset '${words[0]}'; expected one of ${Object.keys(PREPARERS).join(', ')}`);
  return { dataset: words[0], from: String(a.from), sourcePath: String(a.source_path), noVerify: Boolean(a['no-verify']) };
}

export async function run(argv: string[]): Promise<number> {
  const a = parsePrepareArgs(argv);
  const present = verifyInstalled(a.dataset, a.sourcePath);
  if (present) {
    process.stdout.write(`${present}; nothing to do\n`);
    return 0;
  }
  const root = await PREPARERS[a.dataset].run(a.from, { sourcePath: a.sourcePath, log: logToStderr, noVerify: a.noVerify });
  process.stdout.write(`${a.dataset}: ${root} (installed, layout checked)\n`);
  return 0;
}
