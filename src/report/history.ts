// Port of: auxiliaries.py `LOGGER` / progress saver (the per-epoch metric history) (docs/porting.md#csv-logs)
/**
 * The per-epoch history of a run, in the original's progress-saver shape:
 *   { train: { Epochs, Time, 'Train Loss' }, val: { Epochs, Time, <metric columns…> } }
 * Every list holds one value per logged epoch. It is what the CSVs, the summary and the plot are drawn
 * from, and it is stored in checkpoints so a resumed run continues the logs.
 */

/** Column lists of `log_train_Class.csv` and the fixed head of `log_val_Class.csv` (docs/porting.md#csv-logs). */
export const TRAIN_COLUMNS = ['Epochs', 'Time', 'Train Loss'] as const;
export const VAL_HEAD_COLUMNS = ['Epochs', 'Time'] as const;

export interface RunHistory {
  train: { Epochs: number[]; Time: number[]; 'Train Loss': number[] };
  /** 'Epochs', 'Time' and one list per metric column, in column order. */
  val: Record<string, number[]>;
}

/**
 * Metric column names of `log_val_Class.csv` after `Epochs,Time` (docs/porting.md#csv-logs): `NMI, F1, Recall @ k…`; with
 * `sets` (VehicleID: 3) the same block once per test set, prefixed `Set 0 `, `Set 1 `, …
 */
export function valMetricColumns(kVals: readonly number[], sets = 0): string[] {
  const block = ['NMI', 'F1', ...kVals.map((k) => `Recall @ ${k}`)];
  if (sets <= 0) return block;
  const out: string[] = [];
  for (let s = 0; s < sets; s++) out.push(...block.map((c) => `Set ${s} ${c}`));
  return out;
}

/** An empty history for these metric columns. */
export function emptyHistory(metricColumns: readonly string[]): RunHistory {
  const val: Record<string, number[]> = { Epochs: [], Time: [] };
  for (const c of metricColumns) val[c] = [];
  return { train: { Epochs: [], Time: [], 'Train Loss': [] }, val };
}

/** Deep copy (plain arrays, JSON-able). */
export function copyHistory(h: RunHistory): RunHistory {
  const val: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(h.val)) val[k] = [...v];
  return { train: { Epochs: [...h.train.Epochs], Time: [...h.train.Time], 'Train Loss': [...h.train['Train Loss']] }, val };
}

/** Rows of the train table, header first. */
export function trainRows(h: RunHistory): (string | number)[][] {
  const rows: (string | number)[][] = [[...TRAIN_COLUMNS]];
  for (let i = 0; i < h.train.Epochs.length; i++) rows.push(TRAIN_COLUMNS.map((c) => h.train[c][i]));
  return rows;
}

/** Rows of the val table, header first; columns = `Epochs, Time, metricColumns…`. */
export function valRows(h: RunHistory, metricColumns: readonly string[]): (string | number)[][] {
  const cols = [...VAL_HEAD_COLUMNS, ...metricColumns];
  const rows: (string | number)[][] = [cols];
  for (let i = 0; i < h.val.Epochs.length; i++) rows.push(cols.map((c) => h.val[c][i]));
  return rows;
}

/**
 * Keep only rows of epochs ≤ `lastEpoch` (resume: rows a killed run wrote after its last checkpoint
 * must disappear). Returns a new history.
 */
export function truncateHistory(h: RunHistory, lastEpoch: number): RunHistory {
  const out = copyHistory(h);
  const keep = (epochs: number[]) => epochs.filter((e) => e <= lastEpoch).length;
  const nTrain = keep(out.train.Epochs);
  for (const c of TRAIN_COLUMNS) out.train[c].length = nTrain;
  const nVal = keep(out.val.Epochs);
  for (const c of Object.keys(out.val)) out.val[c].length = Math.min(out.val[c].length, nVal);
  return out;
}
