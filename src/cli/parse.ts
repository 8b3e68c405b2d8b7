/**
 * Command-line parsing and validation. Precedence: command-line flag > --config file > dataset-specific
 * default (sample) > flag-table default. Every check runs before any work; a failure is a `UserError`
 * with one line naming the flag and what was expected (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { defaultRecallK } from '../data/datasets/index.ts';
import { UserError } from '../errors.ts';
import { readUserText } from '../io/safe-read.ts';
import { lossMines } from '../losses/registry.ts';
import { FLAGS, FLAG_BY_NAME, type FlagSpec } from './flags.ts';
import { COMMANDS, commandsHelp } from '../commands/index.ts';
import { suggestion, unknownFlagMessage } from './suggest.ts';
import { SAMPLE_DEFAULTS, type RunConfig } from './config.ts';

export const VERSION = '0.1.0';

/** Parse argv (without node/script) into the raw values given on the command line, by flag name. */
export function parseArgv(argv: string[]): Record<string, unknown> {
  const y = yargs(lastOccurrenceWins(argv))
    .scriptName('mic-train')
    .usage(
      `Usage: mic-train [options]  |  mic-train <command> [options]\n\nTrain a MIC deep-metric-learning embedding (Roth et al., ICCV 2019).\n\n${commandsHelp()}`,
    )
    .version(VERSION)
    .help('help')
    .alias('help', 'h')
    .strict()
    // Numbers arrive as the typed text and are parsed strictly by coerceOne (yargs would take '0x10' as 16).
    .parserConfiguration({
      'camel-case-expansion': false,
      'boolean-negation': false,
      'dot-notation': false,
      'duplicate-arguments-array': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
    })
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      const text = msg || err?.message || 'invalid arguments';
      throw new UserError(
        unknownFlagMessage(
          text,
          FLAGS.map((s) => s.name),
          'mic-train --help',
          argv,
          Object.keys(COMMANDS),
        ) ?? oneLine(text),
      );
    });
  for (const s of FLAGS) {
    const numeric = s.type === 'int' || s.type === 'float';
    y.option(s.name, {
      type: s.type === 'boolean' ? 'boolean' : s.type === 'string' ? 'string' : undefined,
      array: s.list ? true : undefined,
      // Choices are checked by coerceOne (one clear line), and listed in the help text here.
      describe: (s.choices ? `${s.help} [choices: ${s.choices.join(', ')}]` : s.help) + (numeric ? ` [${s.type}]` : ''),
      defaultDescription: describeDefault(s),
      requiresArg: s.type !== 'boolean',
    });
  }
  const parsed = y.parseSync() as Record<string, unknown>;
  if (Array.isArray(parsed._) && parsed._.length > 0) {
    throw new UserError(`unexpected argument '${parsed._[0]}' (flags start with --; see mic-train --help)`);
  }
  const out: Record<string, unknown> = {};
  for (const s of FLAGS) if (parsed[s.name] !== undefined) out[s.name] = parsed[s.name];
  return out;
}

/**
 * A flag given twice keeps only its last occurrence with its values (`Result_Runs.sh -- --n_epochs 1` appends
 * to a recipe that already has `--n_epochs 100`). Done here because yargs-parser 22 adds 1 instead of
 * replacing when a repeated number flag's new value is 1 (it mistakes the value for a count).
 */
export function lastOccurrenceWins(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  const groups: { name: string | null; tokens: string[] }[] = [];
  for (const tok of head) {
    if (tok.startsWith('--')) groups.push({ name: tok.slice(2).split('=')[0], tokens: [tok] });
    else if (groups.length) groups[groups.length - 1].tokens.push(tok);
    else groups.push({ name: null, tokens: [tok] });
  }
  const last = new Map<string, number>();
  groups.forEach((g, i) => g.name !== null && last.set(g.name, i));
  const kept = groups.filter((g, i) => g.name === null || last.get(g.name) === i).flatMap((g) => g.tokens);
  return end < 0 ? kept : [...kept, ...argv.slice(end)];
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ').trim();
}

function describeDefault(s: FlagSpec): string {
  if (s.default === undefined) return 'none';
  if (Array.isArray(s.default)) return s.default.length ? s.default.join(' ') : '(dataset default)';
  if (s.default === '') return "''";
  return String(s.default);
}

/** Fields hypa.json carries beside the flags (derived, or facts about the run): not flags, skipped when read back. */
const RUN_FACT_KEYS: ReadonlySet<string> = new Set(['tasks', 'dataFingerprint']);

/** A --config file's values by flag name, and the key each was written under in the file (for messages). */
export interface ConfigFileValues {
  values: Record<string, unknown>;
  keys: Record<string, string>;
  /** The run facts beside the flags in a hypa.json (`RUN_FACT_KEYS`), as written. */
  facts: Record<string, unknown>;
}

/** Read a --config JSON file: an object keyed by flag names (or RunConfig keys, as in hypa.json). */
export function readConfigFileWithKeys(path: string, flag = '--config'): ConfigFileValues {
  const text = readUserText(path, 'config', flag);
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${flag}: '${path}' is not valid JSON (${(e as Error).message})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new UserError(`${flag}: '${path}' must hold a JSON object of flag values`);
  }
  const byKey = new Map(FLAGS.map((s) => [s.key, s]));
  const values: Record<string, unknown> = {};
  const keys: Record<string, string> = {};
  const facts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const spec = FLAG_BY_NAME.get(k) ?? byKey.get(k);
    if (RUN_FACT_KEYS.has(k)) {
      facts[k] = v;
      continue;
    }
    if (!spec) throw new UserError(`${flag} '${path}': unknown key '${k}'${suggestion(k, [...FLAG_BY_NAME.keys()])}`);
    if (spec.name === 'config' || spec.name === 'resume') continue;
    // A run folder's hypa.json describes the run; only a --config file can ask for a dry run.
    if (spec.name === 'dry-run' && flag === '--resume') continue;
    if (v === null) continue;
    values[spec.name] = v;
    keys[spec.name] = k;
  }
  return { values, keys, facts };
}

/**
 * `--resume DIR` takes the run's own `hypa.json` as the base configuration; flags given with it override
 * (the run checks that only harmless keys changed, see `resumeConflicts`). The only read of that file.
 */
function readResumeConfig(dir: string): ConfigFileValues & { file: string } {
  const file = path.join(dir, 'hypa.json');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`--resume: '${dir}' is not a folder`);
  if (!fs.existsSync(file)) throw new UserError(`--resume: '${dir}' is not a mic-train run folder (no hypa.json)`);
  return { ...readConfigFileWithKeys(file, '--resume'), file };
}

/** What `--resume DIR` read from the run's hypa.json, for the run's own checks (configuration, dataset). */
export interface SavedRunConfig {
  /** The hypa.json read. */
  file: string;
  /** The run's configuration as written, by RunConfig key (flags given now are not applied). */
  config: Record<string, unknown>;
  /** The run facts stored beside it (e.g. `dataFingerprint`), unchecked. */
  facts: Record<string, unknown>;
}

/** A resolved configuration, and with `--resume` what the run folder's hypa.json said. */
export interface ResolvedRun {
  cfg: RunConfig;
  /** Present exactly when `cfg.resume` is set. */
  saved?: SavedRunConfig;
}

/** Keys that may differ between a run and its resumption (they do not change what is computed). */
export const RESUME_MAY_CHANGE: ReadonlySet<string> = new Set([
  'nEpochs',
  'backend',
  'kernels',
  'threads',
  'microBs',
  'gpu',
  'resume',
  'dryRun',
  'sourcePath',
  'savePath',
  'tasks',
  'offline',
  'maxBadImages',
  'logEvery',
]);

/** Keys whose values differ between the saved config and the resumed one (empty = compatible). */
export function resumeConflicts(saved: Record<string, unknown>, now: RunConfig): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(now)) {
    if (RESUME_MAY_CHANGE.has(k)) continue;
    if (JSON.stringify(saved[k]) !== JSON.stringify(v)) out.push(`${k} (run: ${JSON.stringify(saved[k])}, now: ${JSON.stringify(v)})`);
  }
  return out;
}

/** Resolve raw command-line values into a validated RunConfig. Throws UserError on any bad value. */
export function resolveConfig(cli: Record<string, unknown>): RunConfig {
  return resolveRun(cli).cfg;
}

/** `resolveConfig`, keeping what `--resume` read from the run folder. */
export function resolveRun(cli: Record<string, unknown>): ResolvedRun {
  const file: (ConfigFileValues & { file: string; flag: string }) | null =
    typeof cli['config'] === 'string'
      ? { ...readConfigFileWithKeys(cli['config'] as string), file: cli['config'] as string, flag: '--config' }
      : typeof cli['resume'] === 'string'
        ? { ...readResumeConfig(cli['resume'] as string), flag: '--resume' }
        : null;
  const fromFile = file?.values ?? {};
  const dataset = (cli['dataset'] ?? fromFile['dataset'] ?? 'cub200') as string;
  const datasetDefaults: Record<string, unknown> = dataset === 'sample' ? { ...SAMPLE_DEFAULTS } : {};
  // The sample runs from random weights unless weights are given explicitly.
  if ((cli['pretrained'] ?? fromFile['pretrained']) !== undefined) delete datasetDefaults['not_pretrained'];
  const raw: Record<string, unknown> = {};
  // How a value is named in messages: the flag, or the file and key it came from.
  const label: Record<string, string> = {};
  for (const s of FLAGS) {
    const fromCli = cli[s.name] !== undefined;
    const v = cli[s.name] ?? fromFile[s.name] ?? datasetDefaults[s.name] ?? s.default;
    raw[s.name] = Array.isArray(v) ? [...v] : v;
    label[s.name] = !fromCli && file && fromFile[s.name] !== undefined ? `${file.flag} '${file.file}', key '${file.keys[s.name]}'` : `--${s.name}`;
  }
  if (raw['loss'] !== undefined) {
    if (cli['losses'] !== undefined) throw new UserError('--loss and --losses both given: use one (--loss X sets both tasks).');
    const loss = coerce(FLAG_BY_NAME.get('loss')!, raw['loss'], label['loss']);
    raw['losses'] = [loss, loss];
    label['losses'] = label['loss'];
  }
  for (const s of FLAGS) raw[s.name] = coerce(s, raw[s.name], label[s.name]);
  try {
    validate(raw);
  } catch (e) {
    // Name the file for values that came from it (validate speaks in flags).
    const fromTheFile =
      file && e instanceof UserError
        ? [...new Set([...e.message.matchAll(/--([a-z_-]+)/g)].map((m) => m[1]))].filter((n) => label[n] && label[n] !== `--${n}`)
        : [];
    if (fromTheFile.length)
      throw new UserError(`${(e as UserError).message} (${fromTheFile.map((n) => `--${n}`).join(', ')} from ${file!.flag} '${file!.file}')`);
    throw e;
  }

  const cfg: Record<string, unknown> = {};
  for (const s of FLAGS) if (s.name !== 'loss' && s.name !== 'config') cfg[s.key] = raw[s.name];
  const c = cfg as unknown as RunConfig;
  if (c.kVals.length === 0) c.kVals = defaultRecallK(c.dataset);
  c.csPerBs = c.csPerBs.map((n, i) => (lossMines(c.losses[i]) ? n : 1));
  c.tasks = ['Class', 'Shared'];
  for (const k of Object.keys(c) as (keyof RunConfig)[]) if (c[k] === undefined) delete c[k];
  if (c.resume === undefined) return { cfg: Object.freeze(c) as RunConfig };
  // With --config as the base, the run folder's own hypa.json is still what the resume is checked against.
  const run = file?.flag === '--resume' ? file : readResumeConfig(c.resume);
  const config = Object.fromEntries(Object.entries(run.values).map(([name, v]) => [FLAG_BY_NAME.get(name)!.key, v]));
  return { cfg: Object.freeze(c) as RunConfig, saved: { file: run.file, config, facts: run.facts } };
}

function coerce(s: FlagSpec, v: unknown, label = `--${s.name}`): unknown {
  if (v === undefined) return v;
  if (s.list) {
    const arr = Array.isArray(v) ? v : [v];
    if (arr.length === 0 && (s.default as unknown[]).length > 0) throw new UserError(`${label}: expected one or more values`);
    return arr.map((x) => coerceOne(s, x, label));
  }
  if (Array.isArray(v)) throw new UserError(`${label}: expected a single value, got ${v.length}`);
  return coerceOne(s, v, label);
}

/** Decimal integers only: no hex, no exponent, no fraction (argparse's `int` refuses them too). */
const INT_TEXT = /^[+-]?\d+$/;
/** Decimal numbers as Python's float() reads them, without inf/nan: no hex, no empty text. */
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** numpy's seed range: 0 … 2³² − 1 (the original seeds numpy, torch and random with it). */
export const MAX_SEED = 2 ** 32 - 1;

/** One value, parsed strictly; errors echo the text as typed. */
function coerceOne(s: FlagSpec, v: unknown, flag: string): unknown {
  const shown = typeof v === 'string' ? v : JSON.stringify(v);
  switch (s.type) {
    case 'boolean':
      if (typeof v !== 'boolean') throw new UserError(`${flag}: expected true or false, got '${shown}'`);
      return v;
    case 'string':
      if (typeof v !== 'string' && typeof v !== 'number') throw new UserError(`${flag}: expected a string, got '${shown}'`);
      if (s.choices && !s.choices.includes(String(v))) {
        throw new UserError(`${flag}: unknown value '${String(v)}'; expected one of: ${s.choices.join(', ')}${suggestion(String(v), s.choices)}`);
      }
      return String(v);
    case 'int':
    case 'float': {
      const what = s.type === 'int' ? 'an integer' : 'a number';
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string' && (s.type === 'int' ? INT_TEXT : FLOAT_TEXT).test(v.trim())) n = Number(v.trim());
      else throw new UserError(`${flag}: expected ${what}, got '${shown}'`);
      if (!Number.isFinite(n)) throw new UserError(`${flag}: expected ${what}, got '${shown}'`);
      if (s.type === 'int' && !Number.isSafeInteger(n)) throw new UserError(`${flag}: expected an integer, got '${shown}'`);
      if (s.range === 'positive' && !(n > 0)) throw new UserError(`${flag}: expected a positive number, got '${shown}'`);
      if (s.range === 'nonneg' && !(n >= 0)) throw new UserError(`${flag}: expected a number >= 0, got '${shown}'`);
      if (s.range === 'prob' && !(n >= 0 && n <= 1)) throw new UserError(`${flag}: expected a number between 0 and 1, got '${shown}'`);
      if (s.range === 'seed' && !(n >= 0 && n <= MAX_SEED))
        throw new UserError(`${flag}: expected an integer from 0 to ${MAX_SEED} (numpy's seed range), got '${shown}'`);
      return n;
    }
  }
}

/** The original's sanity checks (docs/porting.md#flags-sanity-checks), plus mic-train's own. */
function validate(r: Record<string, unknown>): void {
  const len = (n: string) => (r[n] as unknown[]).length;
  const sameLength = (names: string[], what: string) => {
    const n0 = len(names[0]);
    for (const n of names.slice(1)) {
      if (len(n) !== n0) {
        throw new UserError(
          `--${n}: expected ${n0} value(s), one per ${what} like --${names[0]}, got ${len(n)} (${names.map((x) => `--${x}`).join(', ')} must have equal length)`,
        );
      }
    }
  };
  sameLength(['cs_per_bs', 'embed_sizes', 'losses', 'sampling'], 'task');
  sameLength(['embed_sizes', 'proxy_lr', 'beta_lr', 'margin', 'beta', 'nu', 'task_p'], 'task');
  if (len('embed_sizes') !== 2) throw new UserError(`--embed_sizes: expected 2 values (Class and Shared task), got ${len('embed_sizes')}`);
  sameLength(['adversarial', 'adv_weights'], 'adversarial direction');
  const bs = r['bs'] as number;
  for (const [i, c] of (r['cs_per_bs'] as number[]).entries()) {
    const loss = (r['losses'] as string[])[i];
    const mines = lossMines(loss);
    if (mines && bs % c !== 0) {
      throw new UserError(`--bs ${bs} / --cs_per_bs ${c}: bs must be a multiple of cs_per_bs (task ${i === 0 ? 'Class' : 'Shared'})`);
    }
    if (mines && bs / c < 2) {
      throw new UserError(`--bs ${bs} / --cs_per_bs ${c}: a batch needs at least 2 classes (bs >= 2 * cs_per_bs)`);
    }
    if (mines && c < 2) {
      throw new UserError(`--cs_per_bs: expected >= 2 for ${loss} (anchors need a positive), got ${c}`);
    }
  }
  if ((r['input-size'] as number) < 32) throw new UserError(`--input-size: expected at least 32 pixels, got ${r['input-size']}`);
  if ((r['shared_num_classes'] as number) < 2)
    throw new UserError(`--shared_num_classes: expected at least 2 clusters, got ${r['shared_num_classes']}`);
  if ((r['val-split'] as number) >= 1) throw new UserError(`--val-split: expected a fraction below 1, got ${r['val-split']}`);
  const dirs = r['adversarial'] as string[];
  if (new Set(dirs).size !== dirs.length) throw new UserError(`--adversarial: each direction at most once, got ${dirs.join(' ')}`);
  if (r['pretrained'] !== undefined && r['not_pretrained'] === true) {
    throw new UserError('--pretrained and --not_pretrained both given: use one');
  }
}
