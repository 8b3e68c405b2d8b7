/**
 * Progress of the passes over images outside an epoch's training steps — the start-up image check, the
 * initial clustering, each evaluation and re-clustering — which take minutes on a real dataset. On a
 * terminal one line is rewritten in place; in a log a plain line appears every `logEverySeconds`.
 */
import { formatDuration, type ProgressOptions, type ProgressStream } from './progress.ts';

export class PhaseProgress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly logEveryMs: number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastLog: number;
  private drawn = false;

  /** @param label what runs, e.g. "initial clustering" or "epoch 3/100 evaluation" */
  constructor(
    readonly label: string,
    readonly total: number,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.now = opts.now ?? (() => performance.now());
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    this.logEveryMs = 1000 * (opts.logEverySeconds ?? 30);
    this.start = this.now();
    this.lastLog = this.start;
  }

  /** `done` of `total` images are through. */
  update(done: number): void {
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw < this.minIntervalMs && done < this.total) return;
      this.lastDraw = t;
      this.drawn = true;
      const line = this.line(done, t);
      const cols = this.stream.columns;
      this.stream.write(`\r\x1b[2K${cols && cols > 10 && line.length >= cols ? line.slice(0, cols - 1) : line}`);
      return;
    }
    if (t - this.lastLog < this.logEveryMs || done >= this.total) return;
    this.lastLog = t;
    this.stream.write(`${this.line(done, t)}\n`);
  }

  /** The pass is over: clear the in-place line (the caller prints its own result line). */
  end(): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
  }

  /** `label: 1200/5994 images, 98.0 img/s, ETA 48.9s`. */
  line(done: number, t = this.now()): string {
    const secs = (t - this.start) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = done > 0 ? (secs / done) * (this.total - done) : NaN;
    return `${this.label}: ${done}/${this.total} images, ${rate.toFixed(1)} img/s, ETA ${formatDuration(eta)}`;
  }
}
