/**
 * `mic-train report` without the command-line part: read the run folders, compare them, and write the report
 * as Markdown (plus the overlay chart as an SVG file beside it) or as one self-contained HTML file. Every run
 * folder is read before anything is written, so a wrong path fails without leaving half a report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { buildReport, type ReportModel } from './compare.ts';
import { renderOverlayPlot } from './overlay-plot.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-md.ts';
import { readRunSummary } from './run-summary.ts';
import { writeFileAtomic } from './run-reporter.ts';

export interface ReportRequest {
  runDirs: string[];
  /** `.md` or `.html` file; undefined = Markdown on stdout (no chart file). */
  out?: string;
  generated?: Date;
}

export interface ReportResult {
  model: ReportModel;
  /** Files written (the report, and for Markdown the chart beside it). */
  written: string[];
  /** The Markdown text when no --out was given. */
  stdout?: string;
}

/** `report.md` → `report.svg` beside it. */
export const chartPathFor = (mdFile: string): string => mdFile.replace(/\.md$/i, '.svg');

export async function writeReport(req: ReportRequest): Promise<ReportResult> {
  if (req.runDirs.length === 0) throw new UserError('report: give one or more run folders (e.g. Training_Results/cub200/*)');
  const kind = req.out === undefined ? 'stdout' : /\.html?$/i.test(req.out) ? 'html' : /\.md$/i.test(req.out) ? 'md' : null;
  if (kind === null) throw new UserError(`--out: expected a file name ending in .md or .html, got '${req.out}'`);
  if (req.out !== undefined) {
    const parent = path.dirname(path.resolve(req.out));
    if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory()) throw new UserError(`--out: folder '${parent}' does not exist`);
  }
  const runs = req.runDirs.map(readRunSummary);
  const model = buildReport(runs);
  const generated = req.generated ?? new Date();
  const recoveries = runs.flatMap((r, i) => r.recoveries.map((p) => ({ label: model.labels[i], caption: p.caption, file: p.file })));

  if (kind === 'stdout') {
    return {
      model,
      written: [],
      stdout: renderMarkdown(model, { recoveries: recoveries.map((r) => ({ ...r, href: encodeURI(r.file) })) }, generated),
    };
  }
  const out = path.resolve(req.out!);
  const svg = await renderOverlayPlot(runs, model.labels);
  if (kind === 'html') {
    const html = renderHtml(model, { chartSvg: svg, recoveries: recoveries.map((r) => ({ ...r, png: fs.readFileSync(r.file) })) }, generated);
    writeFileAtomic(out, html);
    return { model, written: [out] };
  }
  const chart = chartPathFor(out);
  const rel = (f: string) => encodeURI(path.relative(path.dirname(out), f).split(path.sep).join('/'));
  writeFileAtomic(chart, svg);
  writeFileAtomic(out, renderMarkdown(model, { chart: rel(chart), recoveries: recoveries.map((r) => ({ ...r, href: rel(r.file) })) }, generated));
  return { model, written: [out, chart] };
}
