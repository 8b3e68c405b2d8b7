// Port of: auxiliaries.py `set_logging` / `gimme_save_string` (`Parameter_Info.txt`, `hypa.pkl`) (docs/porting.md#outputs)
/**
 * The two once-per-run description files:
 * - `Parameter_Info.txt`: every option, key on one line and its value on the next indented with a tab
 *   (a dict expanded one level as `\tsubkey: value` lines), a blank line after each entry. Keys are the
 *   original flag names; values are printed the way Python prints them (`[1, 2, 4, 8]`, `True`,
 *   `1e-05`, `['marginloss', 'marginloss']`), then the run's extras (backend, device, versions…).
 * - `hypa.json`: the resolved RunConfig as JSON; `mic-train --config hypa.json` reproduces the run.
 *
 * Porting note: `hypa.pkl` (a Python pickle) becomes `hypa.json` (docs/porting.md#port-decisions).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../cli/config.ts';
import { FLAGS, type FlagType } from '../cli/flags.ts';

const TYPE_BY_KEY = new Map<string, FlagType>(FLAGS.map((s) => [s.key, s.type]));
const NAME_BY_KEY = new Map<string, string>(FLAGS.map((s) => [s.key, s.name]));

/** A number as Python's repr prints it: floats keep `.0`, exponent form below 1e-4 with a 2-digit exponent. */
export function pythonNumber(x: number, asFloat: boolean): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (!asFloat && Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    return x.toExponential().replace(/e([+-])(\d)$/, (_, sign: string, d: string) => `e${sign}0${d}`);
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/** A value as Python's `str()` prints it; strings are quoted only inside containers. */
export function pythonValue(v: unknown, type?: FlagType, nested = false): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pythonNumber(v, type === 'float');
  if (typeof v === 'string') return nested ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v;
  if (Array.isArray(v)) return `[${v.map((x) => pythonValue(x, type, true)).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `'${k}': ${pythonValue(x, undefined, true)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/**
 * Text of `Parameter_Info.txt` for a config and extra entries (e.g. `{ backend, device, versions }`).
 * Config keys are written under their flag names; a plain-object value is expanded one level.
 */
export function formatParameterInfo(cfg: RunConfig | Record<string, unknown>, extras: Record<string, unknown> = {}): string {
  const entries: [string, unknown, FlagType | undefined][] = [
    ...Object.entries(cfg).map(([k, v]): [string, unknown, FlagType | undefined] => [NAME_BY_KEY.get(k) ?? k, v, TYPE_BY_KEY.get(k)]),
    ...Object.entries(extras).map(([k, v]): [string, unknown, FlagType | undefined] => [k, v, undefined]),
  ];
  let out = '';
  for (const [key, value, type] of entries) {
    out += `${key}\n`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [sub, x] of Object.entries(value as Record<string, unknown>)) out += `\t${sub}: ${pythonValue(x)}\n`;
    } else {
      out += `\t${pythonValue(value, type)}\n`;
    }
    out += '\n';
  }
  return out;
}

/**
 * Write `Parameter_Info.txt` and `hypa.json` into the run folder. `facts` (e.g. the dataset fingerprint) go
 * into both; in hypa.json they sit beside the flags and are skipped when the file is read as a --config.
 */
export function writeRunInfo(runDir: string, cfg: RunConfig, extras: Record<string, unknown> = {}, facts: Record<string, unknown> = {}): void {
  fs.writeFileSync(path.join(runDir, 'Parameter_Info.txt'), formatParameterInfo(cfg, { ...extras, ...facts }));
  fs.writeFileSync(path.join(runDir, 'hypa.json'), JSON.stringify({ ...cfg, ...facts }, null, 2) + '\n');
}
