/**
 * Progress of a byte transfer (download, unpacking). On a terminal: one line rewritten in place with bytes,
 * MB/s and ETA, at most every `minIntervalMs`. Elsewhere (CI logs, files): one line per 10 % step, so logs
 * stay short.
 */
import { formatDuration, type ProgressStream } from '../progress.ts';

export interface TransferProgressOptions {
  /** Where to write; default process.stderr. */
  stream?: ProgressStream;
  /** Force the in-place (true) or one-line-per-10 % (false) mode; default `stream.isTTY`. */
  tty?: boolean;
  /** Clock in milliseconds; default performance.now. */
  now?: () => number;
  /** Minimum time between in-place redraws; default 200 ms. */
  minIntervalMs?: number;
}

/** "812 B", "3.4 MB", "1.15 GB" (decimal units, as download sizes are usually quoted). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

export class TransferProgress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private start: number;
  private startBytes: number;
  private lastDraw = -Infinity;
  private lastDecile: number;
  private done = 0;

  /** `label` starts every line; `total` bytes; `already` bytes were there before (a resumed download). */
  constructor(
    private readonly label: string,
    private readonly total: number,
    already = 0,
    o: TransferProgressOptions = {},
  ) {
    this.stream = o.stream ?? process.stderr;
    this.tty = o.tty ?? Boolean(this.stream.isTTY);
    this.now = o.now ?? (() => performance.now());
    this.minIntervalMs = o.minIntervalMs ?? 200;
    this.start = this.now();
    this.startBytes = already;
    this.done = already;
    this.lastDecile = this.decile(already);
  }

  private decile(bytes: number): number {
    return this.total > 0 ? Math.floor((10 * bytes) / this.total) : 0;
  }

  /** Bytes per second since this session's first byte. */
  private rate(): number {
    const s = (this.now() - this.start) / 1000;
    return s > 0 ? (this.done - this.startBytes) / s : 0;
  }

  private line(): string {
    const rate = this.rate();
    const pct = this.total > 0 ? ((100 * this.done) / this.total).toFixed(0) : '?';
    const eta = rate > 0 ? formatDuration((this.total - this.done) / rate) : '?';
    return `${this.label}: ${pct}% ${formatBytes(this.done)} of ${formatBytes(this.total)}, ${(rate / 1e6).toFixed(1)} MB/s, ETA ${eta}`;
  }

  /** The transfer restarted from `bytes` (e.g. the server ignored a Range request). */
  restart(bytes: number): void {
    this.start = this.now();
    this.startBytes = bytes;
    this.done = bytes;
    this.lastDecile = this.decile(bytes);
  }

  /** Total bytes done so far. */
  update(bytes: number): void {
    this.done = bytes;
    if (this.tty) {
      const t = this.now();
      if (t - this.lastDraw < this.minIntervalMs) return;
      this.lastDraw = t;
      this.stream.write(`\r\x1b[2K${this.line()}`);
      return;
    }
    const d = this.decile(bytes);
    if (d > this.lastDecile && d < 10) {
      this.lastDecile = d;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Ends the display with one final line. */
  finish(): void {
    const rate = this.rate();
    const end = `${this.label}: ${formatBytes(this.done)} in ${formatDuration((this.now() - this.start) / 1000)} (${(rate / 1e6).toFixed(1)} MB/s)`;
    this.stream.write(this.tty ? `\r\x1b[2K${end}\n` : `${end}\n`);
  }

  /** Leaves a terminal line intact before other output (an error, an interruption). */
  interrupt(): void {
    if (this.tty && this.lastDraw > -Infinity) this.stream.write('\n');
  }
}
