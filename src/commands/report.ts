/** `mic-train report`: one or more run folders side by side, with the paper's published numbers (Markdown or HTML). */
import { writeReport } from '../report/write-report.ts';
import { commandParser, positionals } from './common.ts';

export interface ReportArgs {
  runDirs: string[];
  out?: string;
}

export function parseReportArgs(argv: string[]): ReportArgs {
  const a = commandParser(
    argv,
    'Usage: mic-train report RUN_DIR... [--out FILE.md|FILE.html]\n\n' +
      "Compare run folders: best metrics with their epochs, the MIC paper's published numbers and the difference, " +
      'the Recall@1 and NMI curves of all runs, the sample recoveries. Without --out, Markdown goes to stdout.',
  )
    .option('out', { type: 'string', describe: 'write the report here: .html (one self-contained file) or .md (plus the chart as .svg beside it)' })
    .parseSync() as Record<string, unknown>;
  return { runDirs: positionals(a), out: a.out === undefined ? undefined : String(a.out) };
}

export async function run(argv: string[]): Promise<number> {
  const r = await writeReport(parseReportArgs(argv));
  if (r.stdout !== undefined) process.stdout.write(r.stdout);
  for (const f of r.written) process.stdout.write(`wrote ${f}\n`);
  const incomplete = r.model.runs.filter((x) => x.incomplete.length).length;
  if (incomplete) process.stderr.write(`note: ${incomplete} of ${r.model.runs.length} run(s) incomplete (see the report)\n`);
  return 0;
}
