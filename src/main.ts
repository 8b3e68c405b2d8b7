/**
 * Entry point: wiring only. Parses flags, then hands over to the run. Any UserError ends the process with
 * its one-line message and exit code 2, and so does a file-system error on a named path (a full disk, a
 * permission): the user's machine, not a bug. Anything else is a bug and shows its stack.
 */
import { UserError } from './errors.ts';
import { COMMANDS } from './commands/index.ts';
import { systemErrorLine } from './system-errors.ts';

/** `mic-train <command> …` runs that command; anything else is training (the original's `main.py`). */
export async function main(argv: string[]): Promise<number> {
  const cmd = argv.length > 0 ? COMMANDS[argv[0]] : undefined;
  if (cmd && Object.hasOwn(COMMANDS, argv[0])) return (await cmd.load()).run(argv.slice(1));
  return (await import('./commands/train.ts')).run(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const sys = err instanceof UserError ? null : systemErrorLine(err);
    if (err instanceof UserError) {
      process.stderr.write(`mic-train: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (sys) {
      process.stderr.write(`mic-train: ${sys}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`mic-train: internal error (a bug, please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
