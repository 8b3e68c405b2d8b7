/**
 * Entry point: wiring only. Parses flags, then hands over to the run. Any UserError ends the process with
 * its one-line message and exit code 2; anything else is a bug and shows its stack.
 */
import { UserError } from './errors.ts';
import { parseArgv, resolveConfig } from './cli/parse.ts';

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'embed' || argv[0] === 'query') {
    const sub = await import('./cli/subcommands.ts');
    const cmd = await import('./eval/embed-command.ts');
    if (argv[0] === 'embed') await cmd.runEmbed(sub.parseEmbedArgs(argv.slice(1)));
    else await cmd.runQuery(sub.parseQueryArgs(argv.slice(1)));
    return 0;
  }
  const cfg = resolveConfig(parseArgv(argv));
  if (cfg.dryRun) {
    process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
    return 0;
  }
  const { runTraining } = await import('./train/run.ts');
  await runTraining(cfg);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`mic-train: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`mic-train: internal error (a bug, please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
