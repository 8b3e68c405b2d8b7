// Port of: main.py / auxiliaries.py checkpoint saving, extended to an exact resume (docs/porting.md#checkpoints)
/**
 * The run state: the JSON half of a checkpoint (`state.json`'s "state"). `last/` holds a `RunState`, everything
 * `--resume` needs besides the tensors; a best-model folder (`checkpoint_Class/`, `checkpoint_set<n>/`) holds a
 * `BestModelState`. This file is the one writer (`saveLastCheckpoint`, `saveBestCheckpoint`) and the one reader
 * (`loadLastCheckpoint`, which checks every field it returns) of both; the tensors go through `checkpointing.ts`.
 *
 * state.json of `last/`, in key order:
 *   format "mic-train", config (the RunConfig), untrained? (figures of the untrained network),
 *   epoch (last completed, 0-based; -1 before the first), rng (state of every checkpointed stream),
 *   sharedLabels, numClusters, reclusterCounter (the Shared task's clustering), history (the CSV rows),
 *   partial (where an interrupted epoch stopped, or null), optimizer (Adam groups and step counts), schedule.
 * Files written before `untrained` and `partial` existed lack them and still load.
 */
import path from 'node:path';
import type { RunConfig } from '../cli/config.ts';
import { UserError } from '../errors.ts';
import { CHECKPOINT_FILES, findCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointContents } from '../io/checkpoint.ts';
import type { ClusterState, SharedClusters } from '../mic/shared-clusters.ts';
import type { EmbeddingModel } from '../models/types.ts';
import { TRAIN_COLUMNS, type RunHistory } from '../report/history.ts';
import type { RunReporter } from '../report/run-reporter.ts';
import type { Rng, RngState } from '../rng.ts';
import { modelTensors, restore, snapshot, type PartsState } from './checkpointing.ts';
import type { TrainingParts } from './setup.ts';
import type { UntrainedFigures } from './untrained.ts';

/** Named RNG streams whose state is checkpointed (k-means and evaluation use fresh fixed-seed streams). */
export const STREAMS = ['sampler.class', 'sampler.shared', 'augment.class', 'augment.shared', 'miner', 'task', 'recoveries'] as const;
export type StreamName = (typeof STREAMS)[number];

/** Streams whose epoch-start state lets an interrupted epoch be replayed exactly (batches, decisions, crops). */
export const EPOCH_STREAMS = ['sampler.class', 'sampler.shared', 'task', 'augment.class', 'augment.shared'] as const;
export type EpochStreamName = (typeof EPOCH_STREAMS)[number];

/** Where an interrupted epoch stopped (saved in `last/` by a Ctrl-C / SIGTERM). */
export interface PartialEpoch {
  epoch: number;
  /** Iterations completed. */
  iters: number;
  /** Running sums of the epoch so far, continued unchanged so the logged mean loss is bit-identical. */
  lossSum: number;
  steps: number;
  trainSeconds: number;
  /** State of the epoch streams when the epoch began. */
  startRng: Record<EpochStreamName, RngState>;
}

/** What every checkpoint's state starts with. */
export interface CheckpointHeader {
  format: 'mic-train';
  /** The run's configuration (`embed`/`query` rebuild the network from it). */
  config: RunConfig;
  /** The untrained network's held-out figures (absent in runs made before they were recorded). */
  untrained?: UntrainedFigures;
}

/** The state of a best-model checkpoint: which epoch, chosen on which column, and the metrics so far. */
export interface BestModelState extends CheckpointHeader {
  epoch: number;
  chosenOn: string;
  metrics: RunHistory['val'];
}

/** Where the run is: the part of `last/` that moves with every epoch (besides the trainable parts' state). */
export interface RunProgress extends ClusterState {
  /** Last completed epoch, 0-based; -1 when the first epoch was interrupted. */
  epoch: number;
  rng: Record<StreamName, RngState>;
  history: RunHistory;
  partial: PartialEpoch | null;
}

/** The state of `last/`. */
export type RunState = CheckpointHeader & RunProgress & PartsState;

/** What a resume takes from `last/`: all but the configuration (the resumed run's own comes from hypa.json). */
export type ResumedState = Pick<CheckpointHeader, 'untrained'> & RunProgress & PartsState;

/** The live objects a run state is taken from and given back to. */
export interface LiveRun {
  /** Mutable: `untrained` is added once known, so every later checkpoint carries it. */
  header: CheckpointHeader;
  model: EmbeddingModel;
  parts: TrainingParts;
  rngs: Record<StreamName, Rng>;
  clusters: SharedClusters;
  reporter: RunReporter;
}

/** A run folder's `last/` checkpoint, read and checked. */
export interface LastCheckpoint {
  /** The folder read (`last/`, or `last.old/` after a save interrupted between its renames). */
  path: string;
  contents: CheckpointContents;
  state: ResumedState;
}

export const LAST_DIR = 'last';

function streamStates<N extends string>(rngs: Record<N, Rng>, names: readonly N[]): Record<N, RngState> {
  return Object.fromEntries(names.map((s) => [s, rngs[s].getState()])) as Record<N, RngState>;
}

/** The epoch streams' states now (kept at the start of each epoch for a mid-epoch `last/`). */
export function epochStreamStates(rngs: Record<StreamName, Rng>): Record<EpochStreamName, RngState> {
  return streamStates(rngs, EPOCH_STREAMS);
}

/** Write `last/`: everything needed to continue after `epoch` (and, with `partial`, within the next one). */
export function saveLastCheckpoint(runDir: string, live: LiveRun, epoch: number, partial: PartialEpoch | null): void {
  const progress: RunProgress = { epoch, rng: streamStates(live.rngs, STREAMS), ...live.clusters.state(), history: live.reporter.history(), partial };
  saveCheckpoint(path.join(runDir, LAST_DIR), snapshot(live.model, live.parts, { ...live.header, ...progress }));
}

/** Write a best-model checkpoint: the network's weights and a `BestModelState`. */
export function saveBestCheckpoint(dir: string, live: Pick<LiveRun, 'header' | 'model'>, best: Omit<BestModelState, keyof CheckpointHeader>): void {
  const state: BestModelState = { ...live.header, ...best };
  saveCheckpoint(dir, { tensors: modelTensors(live.model), extraTensors: new Map(), state });
}

/** Read `<runDir>/last/` (or `last.old/`); undefined when there is none yet. Damaged state is a UserError. */
export function loadLastCheckpoint(runDir: string): LastCheckpoint | undefined {
  if (!findCheckpoint(path.join(runDir, LAST_DIR))) return undefined;
  const contents = loadCheckpoint(path.join(runDir, LAST_DIR));
  return { path: contents.path, contents, state: readRunState(contents.state, path.join(contents.path, CHECKPOINT_FILES.state)) };
}

/**
 * Give a run the state of its `last/`: weights, loss parameters, optimizer and schedule, RNG streams, and
 * the history (the CSVs are rewritten from it). The clustering is restored earlier, before the Shared loss is
 * built with its class count (`SharedClusters.restore`).
 */
export function restoreLastCheckpoint(last: LastCheckpoint, live: LiveRun): void {
  restore(last.contents, last.state, live.model, live.parts, last.path);
  for (const s of STREAMS) live.rngs[s].setState(last.state.rng[s]);
  live.reporter.restore(last.state.history, last.state.epoch, last.path);
}

/** Checks for the JSON of a state file: each returns the value typed, or throws naming the file and field. */
class StateFields {
  constructor(private readonly source: string) {}

  fail(field: string, expected: string): never {
    throw new UserError(`${this.source}: '${field}' is not ${expected} (a damaged checkpoint, or one not written by mic-train)`);
  }

  object(v: unknown, field: string): Record<string, unknown> {
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : this.fail(field, 'an object');
  }

  number(v: unknown, field: string): number {
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(field, 'a number');
  }

  int(v: unknown, field: string, min = 0): number {
    return Number.isInteger(v) && (v as number) >= min ? (v as number) : this.fail(field, `an integer >= ${min}`);
  }

  /** A metric: JSON writes NaN (a metric that could not be computed) as null, read back as NaN. */
  metric(v: unknown, field: string): number {
    return v === null ? NaN : typeof v === 'number' ? v : this.fail(field, 'a number');
  }

  metrics(v: unknown, field: string): number[] {
    return Array.isArray(v) ? v.map((x, i) => this.metric(x, `${field}[${i}]`)) : this.fail(field, 'a list of numbers');
  }

  ints(v: unknown, field: string): number[] {
    return Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? v : this.fail(field, 'a list of integers');
  }

  /** The generator state of each named stream: four uint32. */
  streams<N extends string>(v: unknown, names: readonly N[], field: string): Record<N, RngState> {
    const o = this.object(v, field);
    const ok = (s: unknown): s is RngState => Array.isArray(s) && s.length === 4 && s.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32);
    return Object.fromEntries(names.map((n) => [n, ok(o[n]) ? o[n] : this.fail(`${field}.${n}`, 'a generator state (four uint32)')])) as Record<
      N,
      RngState
    >;
  }

  history(v: unknown): RunHistory {
    const h = this.object(v, 'history');
    const train = this.object(h.train, 'history.train');
    const val = this.object(h.val, 'history.val');
    return {
      train: Object.fromEntries(TRAIN_COLUMNS.map((c) => [c, this.metrics(train[c], `history.train.${c}`)])) as RunHistory['train'],
      val: Object.fromEntries(Object.entries(val).map(([c, col]) => [c, this.metrics(col, `history.val.${c}`)])),
    };
  }

  partial(v: unknown): PartialEpoch | null {
    // Runs made before mid-epoch checkpoints have no `partial` at all.
    if (v === undefined || v === null) return null;
    const p = this.object(v, 'partial');
    return {
      epoch: this.int(p.epoch, 'partial.epoch'),
      iters: this.int(p.iters, 'partial.iters'),
      lossSum: this.number(p.lossSum, 'partial.lossSum'),
      steps: this.int(p.steps, 'partial.steps'),
      trainSeconds: this.number(p.trainSeconds, 'partial.trainSeconds'),
      startRng: this.streams(p.startRng, EPOCH_STREAMS, 'partial.startRng'),
    };
  }

  parts(st: Record<string, unknown>): PartsState {
    const opt = this.object(st.optimizer, 'optimizer');
    if (!Array.isArray(opt.groups)) this.fail('optimizer.groups', 'a list');
    const groups = opt.groups.map((g: unknown, i: number) => {
      const o = this.object(g, `optimizer.groups[${i}]`);
      const num = (k: string) => this.number(o[k], `optimizer.groups[${i}].${k}`);
      return {
        name: typeof o.name === 'string' ? o.name : this.fail(`optimizer.groups[${i}].name`, 'a string'),
        baseLr: num('baseLr'),
        lr: num('lr'),
        weightDecay: num('weightDecay'),
      };
    });
    const steps = Object.fromEntries(
      Object.entries(this.object(opt.steps, 'optimizer.steps')).map(([k, n]) => [k, this.int(n, `optimizer.steps.${k}`)]),
    );
    const sch = this.object(st.schedule, 'schedule');
    const kind = sch.kind === 'step' || sch.kind === 'exp' || sch.kind === 'none' ? sch.kind : this.fail('schedule.kind', 'step, exp or none');
    return { optimizer: { groups, steps }, schedule: { kind, epochsDone: this.int(sch.epochsDone, 'schedule.epochsDone') } };
  }
}

/** The state of a `last/` checkpoint, every field checked (`source`: the file, for messages). */
export function readRunState(state: Record<string, unknown>, source: string): ResumedState {
  const f = new StateFields(source);
  let untrained: UntrainedFigures | undefined;
  if (state.untrained !== undefined) {
    const u = f.object(state.untrained, 'untrained');
    untrained = Object.fromEntries(Object.entries(u).map(([k, v]) => [k, f.metric(v, `untrained.${k}`)]));
  }
  return {
    ...(untrained ? { untrained } : {}),
    epoch: f.int(state.epoch, 'epoch', -1),
    rng: f.streams(state.rng, STREAMS, 'rng'),
    sharedLabels: state.sharedLabels === null ? null : f.ints(state.sharedLabels, 'sharedLabels'),
    numClusters: f.int(state.numClusters, 'numClusters'),
    reclusterCounter: f.int(state.reclusterCounter, 'reclusterCounter'),
    history: f.history(state.history),
    partial: f.partial(state.partial),
    ...f.parts(state),
  };
}
