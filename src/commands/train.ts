/** Training (no command word): `mic-train [options]`, the original `main.py`. Flags are the table in `cli/flags.ts`. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgv, resolveRun } from '../cli/parse.ts';
import { UserError } from '../errors.ts';

export async function run(argv: string[]): Promise<number> {
  // A first try with no options would only meet "Datasets/cub200 not found": point at the bundled sample.
  if (argv.length === 0 && !fs.existsSync(path.resolve('Datasets', 'cub200'))) {
    throw new UserError(
      'no options given, and the default dataset (Datasets/cub200) is not here. New here? Try `npx mic-train --dataset sample` ' +
        '(a complete run on the bundled sample, a few minutes on a CPU); `npx mic-train --help` lists every option',
    );
  }
  const { cfg, saved } = resolveRun(parseArgv(argv));
  if (cfg.dryRun) {
    process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
    return 0;
  }
  const { runTraining } = await import('../train/run.ts');
  await runTraining(cfg, saved);
  return 0;
}
