/**
 * One SVG with the Recall@1 and NMI curves of every run in a report (two stacked panels, one colour per run),
 * drawn like `InfoPlot_Class.svg`: vega-lite → vega → SVG with the 'none' renderer (no canvas). VehicleID runs
 * plot their small test set. Each run is one line per panel, so a panel holds one `<path>` per run with data.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { primaryColumn } from './compare.ts';
import type { RunSummary } from './run-summary.ts';

const PANELS = [
  { metric: 'Recall @ 1' as const, title: 'Recall@1 (%)' },
  { metric: 'NMI' as const, title: 'NMI (%)' },
];

export function overlaySpec(runs: RunSummary[], labels: string[]): vl.TopLevelSpec {
  const values = runs.flatMap((r, i) =>
    PANELS.flatMap(({ metric, title }) => {
      const col = primaryColumn(r, metric);
      return col ? r.epochs.map((e, j) => ({ Run: labels[i], Epoch: e, Panel: title, Value: r.curves[col][j] * 100 })) : [];
    }),
  );
  const color = {
    field: 'Run',
    type: 'nominal' as const,
    title: null,
    scale: { domain: labels, scheme: labels.length > 10 ? 'category20' : 'tableau10' },
    legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 480, symbolStrokeWidth: 3 },
  };
  const x = { field: 'Epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'DejaVu Sans', title: { fontSize: 14 }, legend: { labelFontSize: 12 } },
    data: { values },
    vconcat: PANELS.map(({ title }) => ({
      title,
      transform: [{ filter: { field: 'Panel', equal: title } }],
      mark: { type: 'line' as const, point: true },
      encoding: { x, y: { field: 'Value', type: 'quantitative' as const, title: null, scale: { zero: false } }, color },
      width: 480,
      height: 200,
    })),
    resolve: { scale: { color: 'shared' } },
  };
}

/** The overlay as an SVG string. */
export async function renderOverlayPlot(runs: RunSummary[], labels: string[]): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(overlaySpec(runs, labels)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
