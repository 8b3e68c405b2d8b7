/** Training (no command word): `mic-train [options]`, the original `main.py`. Flags are the table in `cli/flags.ts`. */
import { parseArgv, resolveConfig } from '../cli/parse.ts';

export async function run(argv: string[]): Promise<number> {
  const cfg = resolveConfig(parseArgv(argv));
  if (cfg.dryRun) {
    process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
    return 0;
  }
  const { runTraining } = await import('../train/run.ts');
  await runTraining(cfg);
  return 0;
}
