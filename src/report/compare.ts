/**
 * The comparison behind `mic-train report`: runs grouped by dataset, each run's best value per metric with
 * its epoch, the paper's value for the same column and the difference, the flags that differ between the
 * runs, and a short unique label per run. Renderers (Markdown, HTML) only format this model.
 */
import path from 'node:path';
import { FLAGS } from '../cli/flags.ts';
import { PAPER_NUMBERS, type PaperEntry, type PaperValue } from './paper-numbers.ts';
import { isReportedMetric, VEHICLEID_SETS, type RunSummary } from './run-summary.ts';

export interface MetricColumn {
  /** Column name in log_val_Class.csv. */
  column: string;
  /** Short header, e.g. `R@1`, `small R@1` (VehicleID sets). */
  header: string;
}

export interface Cell {
  /** Best value in percent, or undefined when the run has no such column / no rows. */
  value?: number;
  epoch?: number;
  paper?: PaperValue;
  /** value − paper, in percentage points. */
  delta?: number;
}

export interface DatasetGroup {
  dataset: string;
  columns: MetricColumn[];
  paper?: PaperEntry;
  /** Indices into ReportModel.runs, in the order given. */
  runs: number[];
}

export interface ReportModel {
  runs: RunSummary[];
  labels: string[];
  /** Per run: the flags whose values differ between the runs, as `--flag value`. */
  differingFlags: string[][];
  groups: DatasetGroup[];
}

/**
 * Keys not listed as differing flags: shown in their own columns (dataset, arch, losses, backend), implied by
 * the metric columns (kVals), or places and speed settings that do not change what a run computes.
 */
const NOT_COMPARED = new Set([
  'dataset',
  'arch',
  'losses',
  'backend',
  'kVals',
  'savename',
  'savePath',
  'sourcePath',
  'config',
  'resume',
  'dryRun',
  'tasks',
  'kernels',
  'threads',
  'microBs',
  'gpu',
]);

const FLAG_BY_KEY = new Map(FLAGS.map((s) => [s.key, s]));

/** `--name value…` for a config entry (flag names as typed on the command line). */
export function formatFlag(key: string, value: unknown): string {
  const name = FLAG_BY_KEY.get(key)?.name ?? key;
  if (typeof value === 'boolean') return value ? `--${name}` : `no --${name}`;
  if (value === undefined || value === null) return `no --${name}`;
  return `--${name} ${Array.isArray(value) ? value.join(' ') : String(value)}`;
}

/** Config keys whose values are not the same in every run. */
export function differingKeys(configs: Record<string, unknown>[]): string[] {
  if (configs.length < 2) return [];
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].filter((k) => !NOT_COMPARED.has(k));
  return keys.filter((k) => new Set(configs.map((c) => JSON.stringify(c[k]))).size > 1);
}

/** The shortest trailing part of each path that tells the runs apart (`result_run_cub200`, `a/run`, `b/run`). */
export function uniqueLabels(dirs: string[]): string[] {
  const parts = dirs.map((d) => path.resolve(d).split(path.sep).filter(Boolean));
  for (let depth = 1; ; depth++) {
    const labels = parts.map((p) => p.slice(-depth).join('/'));
    if (new Set(labels).size === labels.length || parts.every((p) => p.length <= depth))
      return labels.map((l, i) => (labels.indexOf(l) === i ? l : `${l} (${i + 1})`));
  }
}

/** Short header for a metric column; VehicleID's `Set n` prefixes become small/medium/large. */
export function metricHeader(column: string, dataset: string): string {
  const m = /^Set (\d+) (.*)$/.exec(column);
  const base = (m ? m[2] : column).replace(/^Recall @ /, 'R@');
  if (!m) return base;
  const set = Number(m[1]);
  return `${dataset === 'vehicle_id' ? (VEHICLEID_SETS[set] ?? `set ${set}`) : `set ${set}`} ${base}`;
}

export function buildReport(runs: RunSummary[]): ReportModel {
  const keys = differingKeys(runs.map((r) => r.config));
  const groups: DatasetGroup[] = [];
  runs.forEach((r, i) => {
    let g = groups.find((x) => x.dataset === r.dataset);
    if (!g) groups.push((g = { dataset: r.dataset, columns: [], paper: PAPER_NUMBERS[r.dataset], runs: [] }));
    g.runs.push(i);
  });
  for (const g of groups) {
    const cols = [...new Set(g.runs.flatMap((i) => runs[i].metricColumns))].filter(isReportedMetric);
    const chosen = cols.length ? cols : Object.keys(g.paper?.values ?? {});
    g.columns = chosen.map((column) => ({ column, header: metricHeader(column, g.dataset) }));
  }
  return { runs, labels: uniqueLabels(runs.map((r) => r.dir)), differingFlags: runs.map((r) => keys.map((k) => formatFlag(k, r.config[k]))), groups };
}

/** One run's cell in a dataset table: best value (percent), its epoch, the paper's value and the difference. */
export function cellFor(run: RunSummary, group: DatasetGroup, column: string): Cell {
  const best = run.best[column];
  const paper = group.paper?.values[column];
  const value = best ? best.value * 100 : undefined;
  return {
    value,
    epoch: best?.epoch,
    paper,
    delta: value !== undefined && paper ? value - paper.value : undefined,
  };
}

/** `1 h 02 min`, `3 min 05 s`, `12 s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A percentage with one decimal (the paper's precision). */
export const pct = (x: number): string => x.toFixed(1);

/** A signed difference in points: `+1.3`, `−0.4` (true minus sign), `±0.0`. */
export function signed(x: number): string {
  const r = Number(x.toFixed(1));
  if (r === 0) return '±0.0';
  return r > 0 ? `+${r.toFixed(1)}` : `\u2212${Math.abs(r).toFixed(1)}`;
}

/** The column of a run to plot as its Recall@1 / NMI curve (VehicleID: the small test set). */
export function primaryColumn(run: RunSummary, metric: 'Recall @ 1' | 'NMI'): string | undefined {
  return run.metricColumns.find((c) => c === metric || c === `Set 0 ${metric}`);
}
