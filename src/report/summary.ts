// Port of: auxiliaries.py summary writer (`Curr_Summary_Class.txt`) (docs/porting.md#outputs)
/**
 * Text of `Curr_Summary_Class.txt`, rewritten every epoch:
 *
 *   ----- train:
 *   Epochs Elapsed: <largest epoch index>
 *   Time Elapsed: <sum of train times>s
 *   Min. Train Loss: <x.xxx>
 *
 *   ----- val:
 *   Epochs Elapsed: …
 *   Time Elapsed: …s
 *   Max. NMI: <x.xxx>
 *   Max. <each metric column>: …
 *
 * Each metric's maximum is taken over epochs independently (a kept quirk, docs/porting.md#checkpoint-selection: best NMI and best R@1 may
 * come from different epochs). Values with 3 decimals; `n/a` before anything was logged.
 */
import type { RunHistory } from './history.ts';

const fixed3 = (xs: number[], pick: (a: number, b: number) => number) => (xs.length ? xs.reduce(pick).toFixed(3) : 'n/a');

/** Sum rounded to 4 decimals, so that 0.1 + 0.2 does not print as 0.30000000000000004. */
const sum = (xs: number[]) => Number(xs.reduce((a, b) => a + b, 0).toFixed(4));

const lastEpoch = (xs: number[]) => (xs.length ? String(Math.max(...xs)) : 'n/a');

/** The summary text for a history with these metric columns (in column order). */
export function formatSummary(h: RunHistory, metricColumns: readonly string[]): string {
  const lines = [
    '----- train:',
    `Epochs Elapsed: ${lastEpoch(h.train.Epochs)}`,
    `Time Elapsed: ${sum(h.train.Time)}s`,
    `Min. Train Loss: ${fixed3(h.train['Train Loss'], (a, b) => Math.min(a, b))}`,
    '',
    '----- val:',
    `Epochs Elapsed: ${lastEpoch(h.val.Epochs)}`,
    `Time Elapsed: ${sum(h.val.Time)}s`,
    ...metricColumns.map((c) => `Max. ${c}: ${fixed3(h.val[c] ?? [], (a, b) => Math.max(a, b))}`),
  ];
  return lines.join('\n') + '\n';
}
