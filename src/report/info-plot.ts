// Port of: auxiliaries.py info-plot drawing (`InfoPlot_Class.svg`) (docs/porting.md#outputs)
/**
 * The two-panel progress plot as SVG, via vega-lite → vega → SVG with the 'none' renderer (no canvas):
 * left "Training Performance" = train loss per epoch; right = every validation metric per epoch, titled
 * `name: best | name: best | …` (3 decimals).
 *
 * Porting note: the original drew with matplotlib (ggplot style, 40×15 inches); we keep the panels,
 * series and titles, not the pixel look.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { RunHistory } from './history.ts';

/**
 * Title of the metrics panel: each metric's best (maximum) value so far, 3 decimals, joined by ` | `;
 * returned as lines of at most `perLine` metrics so that VehicleID's twelve columns stay readable.
 */
export function metricsTitle(h: RunHistory, metricColumns: readonly string[], perLine = 6): string[] {
  const parts = metricColumns.map((c) => {
    const xs = h.val[c] ?? [];
    return `${c}: ${xs.length ? xs.reduce((a, b) => Math.max(a, b)).toFixed(3) : 'n/a'}`;
  });
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += perLine) lines.push(parts.slice(i, i + perLine).join(' | '));
  return lines;
}

/** Per-panel size in SVG pixels. */
const PANEL = { width: 520, height: 320 };

/** The vega-lite spec of the plot (exported for tests and for anyone who wants another renderer). */
export function infoPlotSpec(h: RunHistory, metricColumns: readonly string[]): vl.TopLevelSpec {
  const trainValues = h.train.Epochs.map((e, i) => ({ Epochs: e, 'Train Loss': h.train['Train Loss'][i] }));
  const valValues = metricColumns.flatMap((c) => h.val.Epochs.map((e, i) => ({ Epochs: e, Metric: c, Value: h.val[c]?.[i] ?? null })));
  const x = { field: 'Epochs', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'DejaVu Sans', title: { fontSize: 14 }, legend: { labelFontSize: 12 } },
    hconcat: [
      {
        title: { text: 'Training Performance', limit: 0 },
        data: { values: trainValues },
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'Train Loss', type: 'quantitative', scale: { zero: false } } },
        ...PANEL,
      },
      {
        title: { text: metricsTitle(h, metricColumns), limit: 0 },
        data: { values: valValues },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'Value', type: 'quantitative', title: 'Metric' },
          color: { field: 'Metric', type: 'nominal', sort: [...metricColumns] },
        },
        ...PANEL,
      },
    ],
  };
}

/** Render the plot to an SVG string. */
export async function renderInfoPlot(h: RunHistory, metricColumns: readonly string[]): Promise<string> {
  const compiled = vl.compile(infoPlotSpec(h, metricColumns)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
