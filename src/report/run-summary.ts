/**
 * What `mic-train report` knows about one run folder, read from the files a run writes (README "Outputs"):
 * `hypa.json` (configuration), `Parameter_Info.txt` (backend and device actually used), the two CSV logs
 * (per-epoch metrics and times), `last/state.json` (whether it stopped mid-epoch) and the recoveries pictures.
 * Works on interrupted runs: it uses whatever rows the CSVs hold and says what is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { LOSSES, lossMines } from '../losses/registry.ts';
import { recoveriesFileName, RUN_FILES } from './run-reporter.ts';

/** The metric columns the report compares (R-Precision and validation columns are left to the CSV). */
export function isReportedMetric(column: string): boolean {
  const base = column.replace(/^Set \d+ /, '');
  return base === 'NMI' || base === 'F1' || base === 'MAP@R' || /^Recall @ \d+$/.test(base);
}

export interface BestValue {
  /** The largest value in the column (a fraction in [0, 1]). */
  value: number;
  /** The `Epochs` value of the first row that reached it (numbered from 0, as in the CSV). */
  epoch: number;
}

export interface RunSummary {
  dir: string;
  /** hypa.json as written by the run (RunConfig keys). */
  config: Record<string, unknown>;
  dataset: string;
  arch: string;
  /** Class-task loss and miner, e.g. `marginloss (distance)`. */
  loss: string;
  /** MIC (a Shared task or adversarial term) or a single-task baseline. */
  method: 'MIC' | 'single-task';
  backend: string;
  device: string;
  /** Metric columns of log_val_Class.csv after Epochs/Time, in file order. */
  metricColumns: string[];
  /** Per metric column: values per evaluated epoch (fractions), aligned with `epochs`. */
  curves: Record<string, number[]>;
  epochs: number[];
  best: Record<string, BestValue>;
  epochsPlanned: number;
  /** Evaluated epochs (rows of log_val_Class.csv). */
  epochsDone: number;
  /** Seconds of training plus evaluation, summed from the CSVs' Time columns. */
  seconds: number;
  /** Empty for a finished run; otherwise why it counts as incomplete. */
  incomplete: string[];
  /** Recoveries pictures present, with a caption each (VehicleID: one per test set). */
  recoveries: { file: string; caption: string }[];
}

interface Csv {
  header: string[];
  rows: number[][];
  damaged: number;
}

/** A numeric CSV as the run writes it; rows that are cut short or not numeric (a killed write) are counted, not used. */
function readNumericCsv(file: string): Csv | null {
  if (!fs.existsSync(file)) return null;
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  const header = lines[0].split(',').map((s) => s.trim());
  const rows: number[][] = [];
  let damaged = 0;
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const nums = cells.map((c) => (c.trim() === '' ? NaN : Number(c)));
    if (cells.length !== header.length || nums.some((x) => Number.isNaN(x))) damaged++;
    else rows.push(nums);
  }
  return { header, rows, damaged };
}

/** `Parameter_Info.txt`: key lines followed by tab-indented value lines; a later key wins (run extras come last). */
export function parseParameterInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if (line.startsWith('\t')) {
      if (key !== null) out.set(key, out.has(key) && out.get(key) !== '' ? `${out.get(key)}; ${line.slice(1)}` : line.slice(1));
    } else {
      key = line.trim();
      out.set(key, '');
    }
  }
  return out;
}

function columnMax(values: number[], epochs: number[]): BestValue | null {
  let best: BestValue | null = null;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && (best === null || v > best.value)) best = { value: v, epoch: epochs[i] };
  });
  return best;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/** Read one run folder. A folder without `hypa.json` is not a run folder (UserError naming it). */
export function readRunSummary(dir: string): RunSummary {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new UserError(`report: '${dir}' is not a folder`);
  const hypa = path.join(abs, 'hypa.json');
  if (!fs.existsSync(hypa)) throw new UserError(`report: '${dir}' is not a mic-train run folder (no hypa.json)`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(fs.readFileSync(hypa, 'utf8'));
  } catch (e) {
    throw new UserError(`report: '${hypa}' is not valid JSON (${(e as Error).message})`);
  }
  const infoFile = path.join(abs, 'Parameter_Info.txt');
  const info = fs.existsSync(infoFile) ? parseParameterInfo(fs.readFileSync(infoFile, 'utf8')) : new Map<string, string>();

  const incomplete: string[] = [];
  const val = readNumericCsv(path.join(abs, RUN_FILES.valCsv));
  const train = readNumericCsv(path.join(abs, RUN_FILES.trainCsv));
  const metricColumns = val ? val.header.slice(2) : [];
  const epochs = val ? val.rows.map((r) => r[0]) : [];
  const curves: Record<string, number[]> = {};
  const best: Record<string, BestValue> = {};
  metricColumns.forEach((c, j) => {
    curves[c] = val!.rows.map((r) => r[j + 2]);
    const b = columnMax(curves[c], epochs);
    if (b) best[c] = b;
  });
  const sumTime = (csv: Csv | null) => (csv ? csv.rows.reduce((s, r) => s + r[1], 0) : 0);
  const epochsPlanned = Number(config.nEpochs);
  const epochsDone = epochs.length;
  if (!val) incomplete.push(`no ${RUN_FILES.valCsv}`);
  for (const csv of [train, val]) if (csv?.damaged) incomplete.push(`${csv.damaged} damaged CSV row(s) ignored`);
  if (Number.isFinite(epochsPlanned) && epochsDone < epochsPlanned) {
    incomplete.push(epochsDone === 0 ? `no epoch finished (of ${epochsPlanned})` : `${epochsDone} of ${epochsPlanned} epochs`);
    const partial = readPartialEpoch(abs);
    if (partial !== null) incomplete.push(`stopped during epoch ${partial}`);
  }
  if (train && val && train.rows.length > val.rows.length) incomplete.push('last epoch trained but not evaluated');

  const taskP = list(config.taskP).map(Number);
  const advWeights = list(config.advWeights).map(Number);
  const losses = list(config.losses).map(String);
  const sampling = list(config.sampling).map(String);
  return {
    dir: abs,
    config,
    dataset: String(config.dataset ?? '?'),
    arch: String(config.arch ?? '?'),
    loss: Object.hasOwn(LOSSES, losses[0]) && !lossMines(losses[0]) ? losses[0] : `${losses[0] ?? '?'} (${sampling[0] ?? '?'})`,
    method: (taskP[1] ?? 0) > 0 || advWeights.some((w) => w > 0) ? 'MIC' : 'single-task',
    backend: info.get('backend') || String(config.backend ?? '?'),
    device: info.get('device') || '?',
    metricColumns,
    curves,
    epochs,
    best,
    epochsPlanned,
    epochsDone,
    seconds: sumTime(train) + sumTime(val),
    incomplete,
    recoveries: recoveryFiles(abs),
  };
}

/** The epoch a Ctrl-C'd run stopped in (its `last/` holds a partial epoch), or null. */
function readPartialEpoch(dir: string): number | null {
  try {
    const st = JSON.parse(fs.readFileSync(path.join(dir, 'last', 'state.json'), 'utf8')) as { state?: { partial?: { epoch?: number } | null } };
    const e = st.state?.partial?.epoch;
    return typeof e === 'number' ? e : null;
  } catch {
    return null;
  }
}

/** VehicleID's test sets in column order (`Set 0` = test_list_800 … `Set 2` = test_list_2400). */
export const VEHICLEID_SETS = ['small', 'medium', 'large'] as const;

function recoveryFiles(dir: string): { file: string; caption: string }[] {
  const out: { file: string; caption: string }[] = [];
  const single = path.join(dir, recoveriesFileName());
  if (fs.existsSync(single)) out.push({ file: single, caption: 'test queries and their 3 nearest neighbours' });
  for (let s = 1; s <= 3; s++) {
    const f = path.join(dir, recoveriesFileName(s));
    if (fs.existsSync(f)) out.push({ file: f, caption: `test set ${s} (${VEHICLEID_SETS[s - 1]})` });
  }
  return out;
}
