/**
 * The end-of-run summary printed when training finishes: the best Recall@1 and the epoch it came from (1-based,
 * as the progress lines count), where that model was saved, and the `embed` command to run next.
 */
import path from 'node:path';
import { formatDuration } from '../progress.ts';

/** A metric column that chose a best-model checkpoint, and that checkpoint's folder name. */
export interface ChosenCheckpoint {
  /** e.g. `Recall @ 1`, `Val Recall @ 1`, `Set 0 Recall @ 1`. */
  column: string;
  /** e.g. `checkpoint_Class`, `checkpoint_set1`. */
  folder: string;
}

export interface RunSummaryInput {
  runDir: string;
  /** The validation history: `Epochs` (0-based, as in log_val_Class.csv) and one list per metric column. */
  val: Record<string, number[]>;
  chosen: ChosenCheckpoint[];
  /** Wall seconds of this process's part of the run. */
  seconds: number;
}

/** A path as a shell word (quoted when it holds anything but plain characters). */
export function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** `Recall @ 1` → `Recall@1` (the way people write it). */
const short = (column: string) => column.replace(/ @ /g, '@');

/** The summary's lines (without newlines). */
export function runSummaryLines(s: RunSummaryInput): string[] {
  const epochs = s.val.Epochs ?? [];
  const lines = [
    `finished ${epochs.length ? Math.max(...epochs) + 1 : 0} epoch(s) (this session ${formatDuration(s.seconds)}); results in ${s.runDir}`,
  ];
  const saved: string[] = [];
  for (const c of s.chosen) {
    const xs = s.val[c.column];
    if (!xs || xs.length === 0) continue;
    // The first epoch reaching the maximum: later equal values do not replace a checkpoint.
    const at = xs.indexOf(Math.max(...xs));
    const test = c.column.startsWith('Val ') && s.val['Recall @ 1'] ? `, test Recall@1 ${s.val['Recall @ 1'][at].toFixed(3)}` : '';
    const folder = path.join(s.runDir, c.folder);
    lines.push(`best ${short(c.column)} ${xs[at].toFixed(3)} at epoch ${epochs[at] + 1}${test}; that model is in ${folder}`);
    saved.push(folder);
  }
  if (saved.length > 0) {
    lines.push(`next: npx mic-train embed --checkpoint ${shellWord(saved[0])} --images YOUR_IMAGES/ --out gallery.safetensors`);
  }
  return lines;
}
