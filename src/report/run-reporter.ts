// Port of: auxiliaries.py `LOGGER` / CSV writer / summary + plot updates (docs/porting.md#outputs, docs/porting.md#checkpoint-selection)
/**
 * Everything a run writes per epoch into its folder:
 *   log_train_Class.csv  `Epochs,Time,Train Loss`   (time = training seconds, 4 decimals)
 *   log_val_Class.csv    `Epochs,Time,<metrics…>`   (time = evaluation seconds, integer)
 *   Curr_Summary_Class.txt, InfoPlot_Class.svg (VehicleID: InfoPlot_Class_Set1/2/3.svg)
 * The in-memory history is the source of truth: `history()` goes into checkpoints and `restore()` rewrites
 * the files from it on resume, so rows a killed run appended after its checkpoint disappear.
 *
 * Porting note: VehicleID rows are written in header order (the original swaps Epochs and Time, docs/porting.md#csv-logs).
 *
 * Usage (fresh run):  r = new RunReporter(dir, cols); r.start(); per epoch: logTrain, logVal, writePlot,
 * writeSummary; checkpoint when r.isNewBest('Recall @ 1').
 * Resume: r = new RunReporter(dir, cols); r.restore(checkpoint.history, checkpoint.epoch).
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { assert, UserError } from '../errors.ts';
import { copyHistory, emptyHistory, trainRows, truncateHistory, valRows, TRAIN_COLUMNS, type RunHistory } from './history.ts';
import { formatSummary } from './summary.ts';
import { renderInfoPlot } from './info-plot.ts';

export const RUN_FILES = {
  trainCsv: 'log_train_Class.csv',
  valCsv: 'log_val_Class.csv',
  summary: 'Curr_Summary_Class.txt',
  plot: 'InfoPlot_Class.svg',
  recoveries: 'sample_recoveries.png',
} as const;

/** `sample_recoveries.png`, or `sample_recoveries_set<n>.png` for VehicleID test set n (1-based). */
export function recoveriesFileName(set?: number): string {
  return set === undefined ? RUN_FILES.recoveries : `sample_recoveries_set${set}.png`;
}

/** Write via a temporary file and rename, so a crash never leaves a half-written file. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** VehicleID-style set indices found in `Set <n> …` column names (empty for single-test-set datasets). */
export function columnSets(metricColumns: readonly string[]): number[] {
  const sets = new Set<number>();
  for (const c of metricColumns) {
    const m = /^Set (\d+) /.exec(c);
    if (m) sets.add(Number(m[1]));
  }
  return [...sets].sort((a, b) => a - b);
}

export class RunReporter {
  readonly metricColumns: readonly string[];
  private h: RunHistory;

  /** @param metricColumns the evaluator's metric names in column order, e.g. `valMetricColumns([1,2,4,8])`. */
  constructor(
    readonly runDir: string,
    metricColumns: readonly string[],
  ) {
    assert(new Set(metricColumns).size === metricColumns.length, 'duplicate metric column');
    assert(!metricColumns.includes('Epochs') && !metricColumns.includes('Time'), 'metric columns must not repeat Epochs/Time');
    this.metricColumns = [...metricColumns];
    this.h = emptyHistory(this.metricColumns);
  }

  private file(name: string): string {
    return path.join(this.runDir, name);
  }

  /** Fresh run: write both CSV headers (replacing any existing logs). */
  start(): void {
    this.h = emptyHistory(this.metricColumns);
    this.rewriteCsvs();
  }

  /** Append a `log_train_Class.csv` row. `seconds` = training time of the epoch; `loss` = mean step loss. */
  logTrain(epoch: number, seconds: number, loss: number): void {
    const last = this.h.train.Epochs.at(-1);
    assert(last === undefined || epoch > last, `train row for epoch ${epoch} after epoch ${last}`);
    const row = [epoch, Number(seconds.toFixed(4)), loss] as const;
    TRAIN_COLUMNS.forEach((c, i) => this.h.train[c].push(row[i]));
    fs.appendFileSync(this.file(RUN_FILES.trainCsv), stringify([row as unknown as unknown[]]));
  }

  /** Append a `log_val_Class.csv` row; `metrics` must hold exactly the metric columns (fractions in [0,1]). */
  logVal(epoch: number, seconds: number, metrics: Record<string, number>): void {
    const last = this.h.val.Epochs.at(-1);
    assert(last === undefined || epoch > last, `val row for epoch ${epoch} after epoch ${last}`);
    const missing = this.metricColumns.filter((c) => !(c in metrics));
    const extra = Object.keys(metrics).filter((k) => !this.metricColumns.includes(k));
    assert(
      missing.length === 0 && extra.length === 0,
      () => `metrics do not match the columns (missing: ${missing.join(', ')}; unexpected: ${extra.join(', ')})`,
    );
    const row = [epoch, Math.round(seconds), ...this.metricColumns.map((c) => metrics[c])];
    ['Epochs', 'Time', ...this.metricColumns].forEach((c, i) => this.h.val[c].push(row[i]));
    fs.appendFileSync(this.file(RUN_FILES.valCsv), stringify([row]));
  }

  /**
   * True when the latest value of `column` is strictly greater than every earlier one (or it is the
   * first): the original's rule for saving `checkpoint_Class` and redrawing the recoveries (docs/porting.md#checkpoint-selection).
   */
  isNewBest(column = 'Recall @ 1'): boolean {
    const xs = this.h.val[column];
    assert(xs !== undefined, `no metric column '${column}'`);
    if (xs.length === 0) return false;
    const latest = xs[xs.length - 1];
    return xs.slice(0, -1).every((x) => latest > x);
  }

  /** Rewrite `Curr_Summary_Class.txt`. */
  writeSummary(): void {
    writeFileAtomic(this.file(RUN_FILES.summary), formatSummary(this.h, this.metricColumns));
  }

  /**
   * Redraw the info plot(s); returns the written paths. With `Set n` columns (VehicleID) one plot per set,
   * `InfoPlot_Class_Set<n+1>.svg`, each with that set's metrics.
   */
  async writePlot(): Promise<string[]> {
    const sets = columnSets(this.metricColumns);
    const jobs: { file: string; cols: string[] }[] = sets.length
      ? sets.map((s) => ({ file: `InfoPlot_Class_Set${s + 1}.svg`, cols: this.metricColumns.filter((c) => c.startsWith(`Set ${s} `)) }))
      : [{ file: RUN_FILES.plot, cols: [...this.metricColumns] }];
    const written: string[] = [];
    for (const job of jobs) {
      const svg = await renderInfoPlot(this.h, job.cols);
      writeFileAtomic(this.file(job.file), svg);
      written.push(this.file(job.file));
    }
    return written;
  }

  /** The history so far (a JSON-able copy), for checkpoints. */
  history(): RunHistory {
    return copyHistory(this.h);
  }

  /**
   * Resume: adopt a checkpoint's history (rows after `lastEpoch` dropped, when given) and rewrite both
   * CSVs and the summary from it. Throws UserError when the history's columns are not this run's.
   */
  restore(history: RunHistory, lastEpoch?: number, source = 'checkpoint'): void {
    const want = ['Epochs', 'Time', ...this.metricColumns];
    const have = Object.keys(history?.val ?? {});
    if (!history?.train || want.length !== have.length || want.some((c) => !have.includes(c))) {
      throw new UserError(
        `${source}: its metric history has columns [${have.join(', ')}], this run logs [${want.join(', ')}] (different dataset or --k_vals?)`,
      );
    }
    const lengths = [...TRAIN_COLUMNS.map((c) => history.train[c]?.length), ...want.map((c) => history.val[c].length)];
    if (lengths.some((n, i) => n !== (i < TRAIN_COLUMNS.length ? lengths[0] : lengths[TRAIN_COLUMNS.length]))) {
      throw new UserError(`${source}: its metric history has columns of unequal length (damaged state.json?)`);
    }
    this.h = lastEpoch === undefined ? copyHistory(history) : truncateHistory(history, lastEpoch);
    this.rewriteCsvs();
    this.writeSummary();
  }

  private rewriteCsvs(): void {
    writeFileAtomic(this.file(RUN_FILES.trainCsv), stringify(trainRows(this.h)));
    writeFileAtomic(this.file(RUN_FILES.valCsv), stringify(valRows(this.h, this.metricColumns)));
  }
}
