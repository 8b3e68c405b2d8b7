/**
 * Progress of the passes over images outside an epoch's training steps — the start-up image check, the
 * initial clustering, each evaluation and re-clustering — which take minutes on a real dataset. On a
 * terminal one line is rewritten in place; in a log a plain line appears every `logEverySeconds`.
 */
import { formatDuration, ProgressDisplay, type ProgressOptions } from '../progress.ts';

export class PhaseProgress extends ProgressDisplay {
  private drawn = false;

  /** @param label what runs, e.g. "initial clustering" or "epoch 3/100 evaluation" */
  constructor(
    readonly label: string,
    readonly total: number,
    opts: ProgressOptions = {},
  ) {
    super(opts);
  }

  /** `done` of `total` images are through. */
  update(done: number): void {
    if (this.show(done >= this.total, (t) => this.line(done, t)) && this.tty) this.drawn = true;
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
