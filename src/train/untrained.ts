/**
 * The untrained network's held-out figures, so a run shows what training changed: evaluated once before the
 * first epoch (console only; the CSVs keep the original's one row per trained epoch), kept in the
 * checkpoints so a resumed run can still print the comparison, and set against the final epoch at the end.
 *
 * The evaluation draws only from the fixed-seed 'eval' stream that every evaluation starts afresh, so it
 * leaves the checkpointed streams untouched: a resumed run (which skips it) continues identically.
 */
import type { RunHistory } from '../report/history.ts';

/** Metrics of the untrained network by column name (`NMI`, `Recall @ 1`, …; `Set g …`, `Val …` prefixes). */
export type UntrainedFigures = Record<string, number>;

/** The columns worth a console line: NMI and Recall@1 of every evaluated group (test sets, validation). */
function headlineColumns(metrics: Record<string, number>): string[] {
  return Object.keys(metrics).filter((k) => /(^|Set \d+ |Val )(NMI|Recall @ 1)$/.test(k));
}

/** "untrained network (before epoch 1): NMI 0.564, Recall @ 1 0.850" */
export function untrainedLine(figures: UntrainedFigures): string {
  return `untrained network (before epoch 1): ${headlineColumns(figures)
    .map((k) => `${k} ${figures[k].toFixed(3)}`)
    .join(', ')}`;
}

/**
 * Evaluate the network before any training step and log its figures, unless resuming: then the figures
 * saved in the checkpoint (`resumed`, if it has them) are returned instead. The result is stored in the
 * checkpoint `header` so every later checkpoint carries it.
 */
export async function untrainedFigures(
  evaluate: () => Promise<{ metrics: Record<string, number> }>,
  resumed: { untrained?: UntrainedFigures } | undefined,
  header: { untrained?: UntrainedFigures },
  log: (line: string) => void,
): Promise<UntrainedFigures | undefined> {
  let figures: UntrainedFigures | undefined;
  if (resumed) {
    figures = resumed.untrained;
  } else {
    const t = performance.now();
    figures = (await evaluate()).metrics;
    log(`${untrainedLine(figures)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  if (figures) header.untrained = figures;
  return figures;
}

function change(name: string, before: number, after: number): string {
  const d = after - before;
  return `${name} ${before.toFixed(3)} → ${after.toFixed(3)} (${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(3)})`;
}

/**
 * "Recall@1 0.850 → 0.884 (+0.034), NMI 0.564 → 0.612 (+0.048) over 4 epochs": untrained → final epoch, for the
 * first evaluated group (the test split, or VehicleID's first set). Undefined without figures or epochs.
 */
export function improvementLine(figures: UntrainedFigures | undefined, history: RunHistory): string | undefined {
  if (!figures) return undefined;
  const epochs = history.val.Epochs?.length ?? 0;
  const recall = Object.keys(figures).find((k) => /(^|Set \d+ )Recall @ 1$/.test(k));
  if (epochs === 0 || !recall) return undefined;
  const nmi = recall.replace('Recall @ 1', 'NMI');
  const last = (col: string) => history.val[col]?.[epochs - 1];
  const parts = [change(recall.replace('Recall @ 1', 'Recall@1'), figures[recall], last(recall))];
  if (figures[nmi] !== undefined && last(nmi) !== undefined) parts.push(change(nmi, figures[nmi], last(nmi)));
  return `${parts.join(', ')} over ${epochs} epoch${epochs === 1 ? '' : 's'} (untrained → final epoch)`;
}
