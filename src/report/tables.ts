/**
 * The report's tables as rows of plain-text cells, shared by the Markdown and HTML renderers: the runs table
 * (one row per run) and one table per dataset with the paper's row on top and each run's best values, their
 * epochs and the difference to the paper.
 */
import { cellFor, formatDuration, pct, signed, type DatasetGroup, type ReportModel } from './compare.ts';

export interface TableCell {
  text: string;
  /** Pieces that should not be broken across lines (HTML keeps each on one line; `text` joins them with spaces). */
  parts?: string[];
  /** Rendering hint: 'paper' (the paper's numbers), 'better' / 'worse' (difference to the paper), 'warn'. */
  kind?: 'paper' | 'better' | 'worse' | 'warn';
}

export interface Table {
  head: string[];
  rows: TableCell[][];
}

const DATASET_NAMES: Record<string, string> = {
  cub200: 'CUB200-2011',
  cars196: 'CARS196',
  online_products: 'Stanford Online Products',
  'in-shop': 'In-Shop Clothes',
  vehicle_id: 'PKU VehicleID',
};

export const datasetTitle = (d: string): string => (DATASET_NAMES[d] ? `${DATASET_NAMES[d]} (${d})` : d);

/** One row per run: what it is, how far it got, what it ran on. */
export function runsTable(m: ReportModel): Table {
  const withFlags = m.differingFlags.some((f) => f.length > 0);
  const head = [
    'run',
    'dataset',
    'method',
    'arch',
    'loss (miner)',
    ...(withFlags ? ['differing flags'] : []),
    'epochs done',
    'time (train + eval)',
    'backend / device',
  ];
  const rows = m.runs.map((r, i): TableCell[] => [
    { text: m.labels[i] },
    { text: r.dataset },
    { text: r.method },
    { text: r.arch },
    { text: r.loss },
    ...(withFlags ? [{ text: m.differingFlags[i].join(' ') || '—', parts: m.differingFlags[i] }] : []),
    r.incomplete.length
      ? { text: `${r.epochsDone} / ${r.epochsPlanned} — incomplete: ${r.incomplete.join('; ')}`, kind: 'warn' as const }
      : { text: `${r.epochsDone} / ${r.epochsPlanned}` },
    { text: formatDuration(r.seconds) },
    { text: `${r.backend} / ${r.device}` },
  ]);
  return { head, rows };
}

/** The dataset's table: the paper's row, then per run `best @epoch (difference)` in each metric column. */
export function datasetTable(m: ReportModel, g: DatasetGroup): Table {
  const head = ['', ...g.columns.map((c) => c.header)];
  const rows: TableCell[][] = [];
  if (g.paper) {
    rows.push([
      { text: 'paper (MIC, published)', kind: 'paper' },
      ...g.columns.map((c): TableCell => {
        const p = g.paper!.values[c.column];
        return { text: p ? `${pct(p.value)}${p.caveat ? '†' : ''}` : '—', kind: 'paper' };
      }),
    ]);
  }
  for (const i of g.runs) {
    const r = m.runs[i];
    rows.push([
      { text: r.incomplete.length ? `${m.labels[i]} (incomplete)` : m.labels[i], kind: r.incomplete.length ? 'warn' : undefined },
      ...g.columns.map((c): TableCell => {
        const cell = cellFor(r, g, c.column);
        if (cell.value === undefined) return { text: '—' };
        const text = `${pct(cell.value)} @${cell.epoch}`;
        if (cell.delta === undefined) return { text };
        return { text: `${text} (${signed(cell.delta)})`, kind: cell.delta >= 0 ? 'better' : 'worse' };
      }),
    ]);
  }
  return { head, rows };
}

/** Footnotes of a dataset table: the source of the paper's numbers and the caveats of marked values. */
export function datasetNotes(g: DatasetGroup): string[] {
  if (!g.paper) return [`No published MIC numbers for '${g.dataset}'.`];
  const notes = [`Paper row: ${g.paper.source}.`];
  for (const c of g.columns) {
    const p = g.paper.values[c.column];
    if (p?.caveat) notes.push(`† ${c.header}: ${p.caveat}.`);
  }
  const missing = Object.keys(g.paper.values).filter((col) => !g.columns.some((c) => c.column === col));
  if (missing.length)
    notes.push(`Paper values for columns these runs do not log: ${missing.map((col) => `${col} ${pct(g.paper!.values[col].value)}`).join(', ')}.`);
  return notes;
}

/** The lines explaining how to read the tables. */
export const READING_NOTES = [
  'Metrics: the best value of each column of log_val_Class.csv over the evaluated epochs, in %, with the epoch (numbered from 0, as in the CSV) where it was first reached; each column is maximised separately, as Curr_Summary_Class.txt does.',
  "Paper rows are the MIC paper's published numbers (ResNet50, 128-d, margin loss), not results of this program; the difference in brackets is run − paper in percentage points.",
  'Time is the training plus evaluation seconds the CSVs record (start-up and clustering not included).',
];
