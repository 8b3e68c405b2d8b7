// Port of: main.py `train_one_epoch` progress display (tqdm bar) (docs/porting.md#epoch-loop)
/**
 * Per-epoch progress. On a terminal: one line rewritten in place (iteration, running loss, img/s, ETA),
 * at most every `minIntervalMs`. Elsewhere (CI logs, files): nothing during the epoch and one line at its
 * end, so logs stay readable.
 *
 * Porting note: the original used tqdm on every stream; a redirected tqdm writes one line per refresh.
 */

/** The part of a writable stream the display needs; `isTTY` picks the mode. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Where to write; default process.stderr. */
  stream?: ProgressStream;
  /** Force the in-place (true) or one-line-per-epoch (false) mode; default: `stream.isTTY`. */
  tty?: boolean;
  /** Clock in milliseconds (injectable for tests); default performance.now. */
  now?: () => number;
  /** Minimum time between in-place redraws; default 100 ms. */
  minIntervalMs?: number;
}

/** "12.3s", "5m07s", "1h02m03s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${sec}s` : `${m}m${sec}s`;
}

/** Progress of one training epoch of `totalIters` iterations. */
export class EpochProgress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly start: number;
  private lastDraw = -Infinity;
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
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.now = opts.now ?? (() => performance.now());
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    this.start = this.now();
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
    if (!this.tty) return;
    const t = this.now();
    if (t - this.lastDraw < this.minIntervalMs && this.iters < this.totalIters) return;
    this.lastDraw = t;
    this.stream.write(`\r\x1b[2K${this.fit(this.liveLine(t))}`);
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
    const eta = this.iters > 0 ? (secs / this.iters) * (this.totalIters - this.iters) : NaN;
    return (
      `${this.label()} [${bar}] ${this.iters}/${this.totalIters} loss ${this.meanLoss().toFixed(4)} ` +
      `${this.rate(secs).toFixed(1)} img/s ETA ${formatDuration(eta)}`
    );
  }

  /** Keep the live line within the terminal width so `\r` really rewrites it. */
  private fit(line: string): string {
    const cols = this.stream.columns;
    return cols && cols > 10 && line.length >= cols ? line.slice(0, cols - 1) : line;
  }
}
