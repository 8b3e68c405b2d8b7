/**
 * The report as GitHub-flavoured Markdown, for pasting into an issue or a draft. Pictures are links relative
 * to the Markdown file (the overlay chart is written beside it by the caller; recoveries stay in the runs).
 */
import { datasetNotes, datasetTable, datasetTitle, READING_NOTES, runsTable, type Table } from './tables.ts';
import type { ReportModel } from './compare.ts';

const cellText = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function mdTable(t: Table): string {
  const line = (cells: string[]) => `| ${cells.map(cellText).join(' | ')} |`;
  return [
    line(t.head),
    `|${t.head.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => line(r.map((c) => (c.kind === 'paper' ? `**${c.text}**` : c.text)))),
  ].join('\n');
}

export interface MdLinks {
  /** Path of the overlay SVG relative to the Markdown file, or undefined when it is not written. */
  chart?: string;
  /** Per run, its recoveries pictures' paths as the Markdown file should link them. */
  recoveries: { label: string; caption: string; href: string }[];
}

export function renderMarkdown(m: ReportModel, links: MdLinks, generated: Date): string {
  const out: string[] = ['# mic-train report', ''];
  out.push(`${m.runs.length} run(s), generated ${generated.toISOString().slice(0, 16).replace('T', ' ')} UTC.`, '');
  const incomplete = m.runs.map((r, i) => [m.labels[i], r.incomplete] as const).filter(([, why]) => why.length);
  if (incomplete.length) {
    out.push('**Incomplete runs** (reported from what their CSVs hold):', '');
    for (const [label, why] of incomplete) out.push(`- ${label}: ${why.join('; ')}`);
    out.push('');
  }
  out.push('## Runs', '', mdTable(runsTable(m)), '');
  for (const g of m.groups) {
    out.push(`## ${datasetTitle(g.dataset)}`, '', mdTable(datasetTable(m, g)), '');
    for (const n of datasetNotes(g)) out.push(`${n}  `);
    out.push('');
  }
  out.push('## Recall@1 and NMI per epoch', '');
  out.push(links.chart ? `![Recall@1 and NMI per epoch of every run](${links.chart})` : '(chart written only with --out FILE.md or FILE.html)', '');
  if (links.recoveries.length) {
    out.push('## Sample recoveries', '');
    for (const r of links.recoveries) out.push(`- ${r.label}, ${r.caption}: [${r.href.split('/').pop()}](${r.href})`);
    out.push('');
  }
  out.push('## Reading this report', '', ...READING_NOTES.map((n) => `- ${n}`), '');
  return out.join('\n');
}
