/**
 * How every progress display of mic-train writes (training epochs, start-up phases, downloads): in place on a
 * terminal, as plain lines in logs (nohup, Slurm, CI), and durations as "5m07s". Shared by `train/` and `io/`, so
 * it sits beside `errors.ts` and `rng.ts` rather than inside either.
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
  /** Force the in-place (true) or log-line (false) mode; default: `stream.isTTY`. */
  tty?: boolean;
  /** Clock in milliseconds (injectable for tests); default performance.now. */
  now?: () => number;
  /** Minimum time between in-place redraws; default 100 ms. */
  minIntervalMs?: number;
  /** Not a TTY: seconds between progress lines (0 = after every iteration); default 30. */
  logEverySeconds?: number;
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

/**
 * Where and how often a progress display writes (shared by the epoch display and `PhaseProgress`): in place
 * on a terminal, at most every `minIntervalMs`; as plain lines every `logEverySeconds` elsewhere.
 */
export abstract class ProgressDisplay {
  protected readonly stream: ProgressStream;
  protected readonly tty: boolean;
  protected readonly now: () => number;
  protected readonly start: number;
  private readonly minIntervalMs: number;
  private readonly logEveryMs: number;
  private lastDraw = -Infinity;
  private lastLog: number;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.now = opts.now ?? (() => performance.now());
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    this.logEveryMs = 1000 * (opts.logEverySeconds ?? 30);
    this.start = this.now();
    this.lastLog = this.start;
  }

  /**
   * Shows `line(now)` if it is time: on a terminal redrawn in place (always for the `final` update), in a
   * log as its own line once `logEverySeconds` have passed (never for the final update, which the caller
   * reports itself). Returns whether anything was written.
   */
  protected show(final: boolean, line: (t: number) => string): boolean {
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw < this.minIntervalMs && !final) return false;
      this.lastDraw = t;
      this.stream.write(`\r\x1b[2K${this.fit(line(t))}`);
      return true;
    }
    if (final || t - this.lastLog < this.logEveryMs) return false;
    this.lastLog = t;
    this.stream.write(`${line(t)}\n`);
    return true;
  }

  /** Keep the live line within the terminal width so `\r` really rewrites it. */
  private fit(line: string): string {
    const cols = this.stream.columns;
    return cols && cols > 10 && line.length >= cols ? line.slice(0, cols - 1) : line;
  }
}
