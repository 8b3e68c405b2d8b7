// Port of: main.py scheduler set-up (`MultiStepLR` / `ExponentialLR`, `--scheduler`, `--tau`, `--gamma`) (docs/porting.md#lr-schedule)
/**
 * Learning-rate schedules, stepped once per epoch after evaluation and re-clustering. Every group's lr is
 * set to `baseLr × factor(epochsDone)`:
 *   step: γ^(number of milestones τ ≤ epochsDone)  (torch MultiStepLR; a repeated milestone counts twice)
 *   exp:  γ^epochsDone                              (torch ExponentialLR)
 *   none: 1
 *
 * Porting note: torch multiplies the current lr in place at each step; we recompute it from the base lr by
 * the same chain of float64 multiplications (so the values are the same doubles), which makes resume
 * exact by construction: the state is just the number of epochs done.
 */
import { assert, UserError } from '../errors.ts';

export type ScheduleKind = 'step' | 'exp' | 'none';

/** Anything with groups whose `lr` the schedule sets (e.g. `GroupedAdam`). */
export interface HasLrGroups {
  groups: { readonly baseLr: number; lr: number }[];
}

export interface ScheduleOptions {
  kind: ScheduleKind;
  /** Multiplier γ (`--gamma`). */
  gamma: number;
  /** Milestones τ in epochs (`--tau`), used by `step`. */
  milestones: number[];
}

/** Checkpointable schedule state. */
export interface ScheduleState {
  kind: ScheduleKind;
  epochsDone: number;
}

export class LrSchedule {
  readonly kind: ScheduleKind;
  readonly gamma: number;
  readonly milestones: readonly number[];
  /** Number of `step()` calls so far (torch's `last_epoch`). */
  epochsDone = 0;

  constructor(opts: ScheduleOptions) {
    assert(['step', 'exp', 'none'].includes(opts.kind), `unknown schedule '${opts.kind}'`);
    assert(opts.gamma > 0, `schedule gamma must be > 0, got ${opts.gamma}`);
    this.kind = opts.kind;
    this.gamma = opts.gamma;
    this.milestones = [...opts.milestones];
  }

  /** How many times γ has been applied by the start of (0-based) epoch `epoch`. */
  decaysBefore(epoch: number): number {
    switch (this.kind) {
      case 'step':
        return this.milestones.filter((t) => t <= epoch).length;
      case 'exp':
        return epoch;
      case 'none':
        return 0;
    }
  }

  /** lr of a group with base lr `baseLr` during (0-based) epoch `epoch`. */
  lrAt(baseLr: number, epoch: number): number {
    let lr = baseLr;
    for (let i = this.decaysBefore(epoch); i > 0; i--) lr *= this.gamma; // same rounding as torch's in-place chain
    return lr;
  }

  /** Set every group's lr for the current epoch (call once at start, and after `loadState`). */
  apply(optimizer: HasLrGroups): void {
    for (const g of optimizer.groups) g.lr = this.lrAt(g.baseLr, this.epochsDone);
  }

  /** End of an epoch: advance and set the lrs of the next epoch. */
  step(optimizer: HasLrGroups): void {
    this.epochsDone += 1;
    this.apply(optimizer);
  }

  state(): ScheduleState {
    return { kind: this.kind, epochsDone: this.epochsDone };
  }

  loadState(state: ScheduleState, source = 'checkpoint'): void {
    if (state.kind !== this.kind) {
      throw new UserError(`${source}: saved with --scheduler ${state.kind}, this run uses --scheduler ${this.kind}`);
    }
    if (!(Number.isInteger(state.epochsDone) && state.epochsDone >= 0)) {
      throw new UserError(`${source}: scheduler state has a bad epoch count '${String(state.epochsDone)}'`);
    }
    this.epochsDone = state.epochsDone;
  }
}

/** Schedule from the resolved run config (`scheduler`, `gamma`, `tau`). */
export function scheduleFromConfig(cfg: { scheduler: ScheduleKind; gamma: number; tau: number[] }): LrSchedule {
  return new LrSchedule({ kind: cfg.scheduler, gamma: cfg.gamma, milestones: cfg.tau });
}
