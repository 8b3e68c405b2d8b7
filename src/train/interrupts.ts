/**
 * Ctrl-C (SIGINT) and SIGTERM at any moment of a training run, each answered with a line saying what happens:
 * - during start-up (backend, dataset, image check, weights, initial clustering) nothing can be saved yet: the
 *   run stops at once and leaves no run folder behind (an empty one would push the next run to `_1`);
 * - while epochs run, the trainer stops after its current step and saves `last/` (mid-epoch), so `--resume`
 *   continues exactly;
 * - a second signal quits at once and says what `last/` holds (or removes the run folder when nothing was
 *   saved in it yet).
 */
import fs from 'node:fs';

/** Whether a run folder holds a checkpoint (`last/`, `checkpoint_Class/` …), i.e. work worth keeping. */
function holdsCheckpoint(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((n) => n === 'last' || n.startsWith('last.') || n.startsWith('checkpoint_'));
  } catch {
    return false;
  }
}

export interface InterruptOptions {
  log: (line: string) => void;
  /** Ends the process (injectable for tests); default `process.exit`. */
  exit?: (code: number) => void;
}

export class RunInterrupts {
  private phase = 'start-up';
  private graceful = false;
  private stopping = false;
  private saved: string | null = null;
  private runDir: string | null = null;
  private ownsEmptyFolder = false;
  private readonly log: (line: string) => void;
  private readonly exit: (code: number) => void;
  private readonly handler = (sig: NodeJS.Signals) => this.onSignal(sig);

  constructor(opts: InterruptOptions) {
    this.log = opts.log;
    this.exit = opts.exit ?? ((code) => process.exit(code));
  }

  install(): void {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  uninstall(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  /**
   * What the run is doing now, as words that follow "during" ("initial clustering", "epoch 3 (training)").
   * `graceful`: the trainer checks `stopRequested` and saves `last/` when it stops.
   */
  setPhase(phase: string, graceful: boolean): void {
    this.phase = phase;
    this.graceful = graceful;
  }

  /** The run folder; `created` = made by this process (a fresh run) and so removed when quitting with nothing saved. */
  setRunFolder(dir: string, created: boolean): void {
    this.runDir = dir;
    this.ownsEmptyFolder = created;
  }

  /** `last/` now holds `what` (e.g. "epoch 3 complete", "epoch 4 up to iteration 17 of 50"). */
  setSaved(what: string): void {
    this.saved = what;
    this.ownsEmptyFolder = false;
  }

  /** Set by the first signal while epochs run: stop after the current step. */
  get stopRequested(): boolean {
    return this.stopping;
  }

  /** "Continue with: npx mic-train --resume DIR". */
  resumeHint(): string {
    return `Continue with: npx mic-train --resume ${this.runDir}`;
  }

  /**
   * What a quit now leaves behind, in words. A run folder this run made that holds no checkpoint yet (only
   * its start-up files) is removed, so the next run does not become `_1`.
   */
  private leftBehind(): string {
    if (this.saved !== null && this.runDir !== null) return `last/ holds ${this.saved}. ${this.resumeHint()}`;
    if (this.ownsEmptyFolder && this.runDir !== null && !holdsCheckpoint(this.runDir)) {
      fs.rmSync(this.runDir, { recursive: true, force: true });
      return `nothing was saved yet; the run folder ${this.runDir} was removed`;
    }
    return this.runDir === null ? 'nothing was saved yet' : `no last/ checkpoint yet in ${this.runDir}`;
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.stopping) {
      this.log(`\n${sig} again: quitting at once; ${this.leftBehind()}`);
      this.exit(130);
      return;
    }
    if (this.graceful) {
      this.stopping = true;
      const now = this.saved === null ? 'nothing is saved yet' : `last/ holds ${this.saved}`;
      this.log(`\n${sig}: stopping after the current step of ${this.phase}, then saving last/; press Ctrl-C again to quit at once (${now})`);
      return;
    }
    this.log(`\n${sig} during ${this.phase}: stopping now (training has not started, so there is nothing to save); ${this.leftBehind()}`);
    this.exit(130);
  }
}
