// Port of: main.py `train_one_epoch` progress display (tqdm bar) (docs/porting.md#epoch-loop)
/**
 * Per-epoch progress. On a terminal: one line rewritten in place (iteration, running loss, img/s, ETA of the
 * epoch and of the run), at most every `minIntervalMs`. Elsewhere (nohup, Slurm, CI logs): a plain line every
 * `logEverySeconds` (`--log-every`, default 30 s) with the same figures, then one line at the epoch's end, so
 * a log shows that the run is alive without drowning in bars.
 *
 * Porting note: the original used tqdm on every stream; a redirected tqdm writes one line per refresh.
 */

import { formatDuration, ProgressDisplay, type ProgressOptions } from '../progress.ts';

/** The rest of the run after this epoch, for the run ETA. */
export interface RunOutlook {
  /** Epochs still to come after this one. */
  laterEpochs: number;
  /** Wall seconds a whole epoch (training, evaluation, re-clustering) took so far; undefined before one finished. */
  secondsPerEpoch?: number;
}

/** Progress of one training epoch of `totalIters` iterations. */
export class EpochProgress extends ProgressDisplay {
  private iters = 0;
  private images = 0;
  private lossSum = 0;
  private steps = 0;

  /**
   * @param epoch 0-based epoch index, as in the CSV logs (shown 1-based, `epoch 1/100`, for people)
   * @param nEpochs total epochs of the run
   * @param totalIters iterations in this epoch (for the bar and the ETA)
   */
  constructor(
    readonly epoch: number,
    readonly nEpochs: number,
    readonly totalIters: number,
    opts: ProgressOptions = {},
    private readonly outlook: RunOutlook = { laterEpochs: 0 },
  ) {
    super(opts);
  }

  /**
   * One iteration finished: `images` images went through, `stepLosses` are the losses of the optimiser
   * steps it made (0, 1 or 2 — Class and/or Shared task).
   */
  tick(images: number, stepLosses: readonly number[]): void {
    this.iters += 1;
    this.images += images;
    for (const l of stepLosses) {
      this.lossSum += l;
      this.steps += 1;
    }
    this.show(this.iters >= this.totalIters, (t) => (this.tty ? this.liveLine(t) : this.logLine(t)));
  }

  /** Seconds left in this epoch's training at the current pace (NaN before the first iteration). */
  private epochEta(secs: number): number {
    return this.iters > 0 ? (secs / this.iters) * (this.totalIters - this.iters) : NaN;
  }

  /**
   * Seconds left in the whole run: this epoch's training, then each later epoch at the pace of the whole
   * epochs so far (or, before one has finished, of this epoch's training alone).
   */
  private runEta(secs: number): number {
    const perEpoch = this.outlook.secondsPerEpoch ?? (this.iters > 0 ? (secs / this.iters) * this.totalIters : NaN);
    return this.epochEta(secs) + this.outlook.laterEpochs * perEpoch;
  }

  /** One plain log line: `epoch 2/100: iteration 37/250, loss 0.1234, 23.4 img/s, ETA epoch 1m30s, run 2h10m00s`. */
  private logLine(t: number): string {
    const secs = (t - this.start) / 1000;
    return (
      `${this.label()}: iteration ${this.iters}/${this.totalIters}, loss ${this.meanLoss().toFixed(4)}, ${this.rate(secs).toFixed(1)} img/s, ` +
      `ETA epoch ${formatDuration(this.epochEta(secs))}, run ${formatDuration(this.runEta(secs))}`
    );
  }

  /** Mean loss over all steps so far (0 when no step happened, as the original logs it). */
  meanLoss(): number {
    return this.steps > 0 ? this.lossSum / this.steps : 0;
  }

  /** Seconds since the epoch started. */
  elapsed(): number {
    return (this.now() - this.start) / 1000;
  }

  /** End of the epoch: write (and return) the final one-line summary, `suffix` appended (e.g. metrics). */
  done(suffix = ''): string {
    const secs = this.elapsed();
    const line =
      `${this.label()}: ${this.iters} it, loss ${this.meanLoss().toFixed(4)}, ` +
      `${this.rate(secs).toFixed(1)} img/s, ${formatDuration(secs)}${suffix ? `, ${suffix}` : ''}`;
    this.stream.write(`${this.tty ? '\r\x1b[2K' : ''}${line}\n`);
    return line;
  }

  private label(): string {
    return `epoch ${this.epoch + 1}/${this.nEpochs}`;
  }

  private rate(secs: number): number {
    return secs > 0 ? this.images / secs : 0;
  }

  private liveLine(t: number): string {
    const secs = (t - this.start) / 1000;
    const width = 20;
    const frac = this.totalIters > 0 ? Math.min(1, this.iters / this.totalIters) : 0;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const run = this.outlook.laterEpochs > 0 ? ` (run ${formatDuration(this.runEta(secs))})` : '';
    return (
      `${this.label()} [${bar}] ${this.iters}/${this.totalIters} loss ${this.meanLoss().toFixed(4)} ` +
      `${this.rate(secs).toFixed(1)} img/s ETA ${formatDuration(this.epochEta(secs))}${run}`
    );
  }
}
