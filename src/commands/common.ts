/**
 * What every sub-command's parser shares: a strict yargs instance whose failures become one-line
 * `UserError`s (exit 2), and the small value checks the sub-commands repeat.
 */
import fs from 'node:fs';
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { UserError } from '../errors.ts';
import { BACKENDS } from '../cli/flags.ts';
import { unknownFlagMessage } from '../cli/suggest.ts';

export type BackendName = (typeof BACKENDS)[number];

/** A yargs parser for `mic-train <command>` with the project's conventions (no camel-case, one-line errors). */
export function commandParser(argv: string[], usage: string): Argv {
  const y = yargs(argv)
    .scriptName('mic-train')
    .usage(usage)
    .help('help')
    .alias('help', 'h')
    .version(false)
    .strictOptions()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false, 'duplicate-arguments-array': false });
  return y.fail((msg, err) => {
    const text = msg || err?.message || 'invalid arguments';
    const known = Object.keys((y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
    // yargs reports a missing required flag before a mistyped one; the typo is the real mistake.
    const typos = argv
      .filter((a) => a.startsWith('--'))
      .map((a) => a.slice(2).split('=')[0])
      .filter((n) => n !== '' && !known.includes(n));
    const help = `${/^Usage: (mic-train \w+)/.exec(usage)?.[1] ?? 'mic-train'} --help`;
    const unknown = unknownFlagMessage(typos.length > 0 ? `Unknown arguments: ${typos.join(', ')}` : text, known, help, argv);
    throw new UserError(unknown ?? text.replace(/\s*\n\s*/g, '; '));
  });
}

/** Adds the `--backend` flag every model-running command takes. */
export function withBackend(y: Argv): Argv {
  return y.option('backend', { type: 'string', default: 'auto', describe: `tfjs backend [choices: ${BACKENDS.join(', ')}]` });
}

export function checkBackend(b: unknown): BackendName {
  const s = String(b);
  if (!(BACKENDS as readonly string[]).includes(s)) throw new UserError(`--backend: unknown value '${s}'; expected one of: ${BACKENDS.join(', ')}`);
  return s as BackendName;
}

export function positiveInt(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--${name}: expected a positive integer, got '${String(v)}'`);
  return n;
}

/** Positional arguments yargs left over (as strings). */
export function positionals(a: Record<string, unknown>): string[] {
  return ((a._ as unknown[]) ?? []).map(String);
}

/** Log lines of a command go to stderr so stdout stays machine-readable. */
export const logToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * An output file the command will write at the end: its folder must exist and be writable, and it must not
 * be a folder itself. Checked before any work, so a typo does not cost the whole computation.
 */
export function checkOutputFile(flag: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UserError(`${flag}: folder '${dir}' does not exist; create it first (mkdir -p)`);
  }
  if (!st.isDirectory()) throw new UserError(`${flag}: '${dir}' is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UserError(`${flag}: cannot write into folder '${dir}' (permission denied)`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UserError(`${flag}: '${file}' is a folder; give a file name`);
}

/**
 * Ctrl-C / SIGTERM in a command that writes its output only at the end: say so and stop at once (exit 130)
 * rather than vanishing without a word.
 */
export function stopOnSignal(command: string, leftBehind: string): void {
  const stop = (sig: NodeJS.Signals) => {
    process.stderr.write(`\nmic-train ${command}: stopped by ${sig}; ${leftBehind}\n`);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
