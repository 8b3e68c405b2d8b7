/**
 * The report as one self-contained HTML file: inline CSS, the overlay chart as inline SVG, the recoveries
 * pictures as PNG data URIs, no script and no network (a Content-Security-Policy forbids any fetch). Tables
 * scroll sideways and pictures shrink to the screen, so it reads on a phone.
 */
import { datasetNotes, datasetTable, datasetTitle, READING_NOTES, runsTable, type Table } from './tables.ts';
import type { ReportModel } from './compare.ts';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0.75rem;line-height:1.4;color:#111;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:0.85rem;min-width:100%}
th,td{border:1px solid #ccc;padding:0.25rem 0.45rem;text-align:left;white-space:nowrap;vertical-align:top}
th{background:#f2f2f2}
th:first-child,td:first-child{position:sticky;left:0;background:#fff;z-index:1}
th:first-child{background:#f2f2f2}
td.flags{white-space:normal;min-width:12rem}
tr.paper td,tr.paper td:first-child{background:#eef3fb;font-weight:bold}
td.better{color:#11661f}td.worse{color:#a31515}td.warn,.warn{color:#8a4b00}
.nowrap{white-space:nowrap}
.note{font-size:0.8rem;color:#444;margin:0.2rem 0}
figure{margin:0.8rem 0}figcaption{font-size:0.85rem;color:#333}
.recoveries{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:0.8rem}
.recoveries figure{margin:0}
svg,img{max-width:100%;height:auto}
`;

function htmlTable(t: Table, className: string): string {
  const flagsCol = t.head.indexOf('differing flags');
  const head = `<tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r) => {
    const paper = r[0]?.kind === 'paper';
    const tds = r.map((c, j) => {
      const cls = [j === flagsCol ? 'flags' : '', c.kind && c.kind !== 'paper' ? c.kind : ''].filter(Boolean).join(' ');
      const body = c.parts?.length ? c.parts.map((p) => `<span class="nowrap">${esc(p)}</span>`).join(' ') : esc(c.text);
      return `<td${cls ? ` class="${cls}"` : ''}>${body}</td>`;
    });
    return `<tr${paper ? ' class="paper"' : ''}>${tds.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="${className}"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`;
}

export interface HtmlAssets {
  /** The overlay chart, an SVG document to inline. */
  chartSvg: string;
  /** Recoveries pictures, already read: PNG bytes with the run label and a caption. */
  recoveries: { label: string; caption: string; png: Buffer }[];
}

export function renderHtml(m: ReportModel, assets: HtmlAssets, generated: Date): string {
  const parts: string[] = [];
  parts.push(
    '<h1>mic-train report</h1>',
    `<p>${m.runs.length} run(s), generated ${esc(generated.toISOString().slice(0, 16).replace('T', ' '))} UTC.</p>`,
  );
  const incomplete = m.runs.map((r, i) => [m.labels[i], r.incomplete] as const).filter(([, why]) => why.length);
  if (incomplete.length) {
    parts.push(
      `<p class="warn"><strong>Incomplete runs</strong> (reported from what their CSVs hold):</p><ul class="warn">${incomplete.map(([l, why]) => `<li>${esc(l)}: ${esc(why.join('; '))}</li>`).join('')}</ul>`,
    );
  }
  parts.push('<h2>Runs</h2>', htmlTable(runsTable(m), 'runs'));
  for (const g of m.groups) {
    parts.push(`<h2>${esc(datasetTitle(g.dataset))}</h2>`, htmlTable(datasetTable(m, g), 'metrics'));
    parts.push(...datasetNotes(g).map((n) => `<p class="note">${esc(n)}</p>`));
  }
  // The SVG is inlined without its XML prolog (vega writes none) so the page stays one document.
  parts.push('<h2>Recall@1 and NMI per epoch</h2>', `<figure class="chart">${assets.chartSvg}</figure>`);
  if (assets.recoveries.length) {
    parts.push('<h2>Sample recoveries</h2>', '<div class="recoveries">');
    for (const r of assets.recoveries) {
      parts.push(
        `<figure><img alt="${esc(`${r.label}: ${r.caption}`)}" src="data:image/png;base64,${r.png.toString('base64')}"><figcaption>${esc(r.label)}: ${esc(r.caption)}</figcaption></figure>`,
      );
    }
    parts.push('</div>');
  }
  parts.push('<h2>Reading this report</h2>', `<ul>${READING_NOTES.map((n) => `<li class="note">${esc(n)}</li>`).join('')}</ul>`);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    '<title>mic-train report</title>',
    `<style>${STYLE}</style></head><body>`,
    ...parts,
    '</body></html>',
    '',
  ].join('\n');
}
