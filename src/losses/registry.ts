/**
 * Registries keyed by the original flag values: `--losses` (marginloss, triplet, proxynca) and `--sampling`
 * (distance, semihard, random). Adding a loss or miner = one file + one line here.
 */
import { UserError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { MarginLoss, type MarginCount } from './margin-loss.ts';
import { DistanceWeightedMiner } from './miners/distance-weighted.ts';
import { RandomMiner } from './miners/random.ts';
import { SemihardMiner } from './miners/semihard.ts';
import { ProxyNcaLoss } from './proxy-nca.ts';
import { TripletLoss } from './triplet-loss.ts';
import type { Loss, Miner } from './types.ts';

/** What a miner factory gets. */
export interface MinerOptions {
  /** Loss margin α (semihard band width). */
  margin: number;
  /** The 'miner' stream. */
  rng: Rng;
}

/** What a loss factory gets (one task's settings). */
export interface LossOptions {
  /** Classes of the task (Class: train classes; Shared: clusters). */
  numClasses: number;
  embedDim: number;
  /** `--margin` of the task (α). */
  margin: number;
  /** `--beta` of the task (initial β). */
  beta: number;
  /** `--sampling` of the task (ignored by proxynca: its batches are plain random). */
  sampling: string;
  /** `--margin-count`. */
  marginCount: MarginCount;
  /** The 'miner' stream. */
  rng: Rng;
  /** Stream for parameter initialisation (proxies); defaults to `rng`. */
  initRng?: Rng;
}

export const MINERS: Readonly<Record<string, (o: MinerOptions) => Miner>> = {
  distance: (o) => new DistanceWeightedMiner(o.rng),
  semihard: (o) => new SemihardMiner(o.rng, o.margin),
  random: (o) => new RandomMiner(o.rng),
};

export const LOSSES: Readonly<Record<string, (o: LossOptions) => Loss>> = {
  marginloss: (o) => new MarginLoss({
    numClasses: o.numClasses, miner: buildMiner(o.sampling, o), margin: o.margin, beta: o.beta, marginCount: o.marginCount,
  }),
  triplet: (o) => new TripletLoss({ numClasses: o.numClasses, miner: buildMiner(o.sampling, o), margin: o.margin }),
  proxynca: (o) => new ProxyNcaLoss({ numClasses: o.numClasses, embedDim: o.embedDim, rng: o.initRng ?? o.rng }),
};

function lookup<T>(table: Readonly<Record<string, T>>, key: string, flag: string): T {
  if (!Object.hasOwn(table, key)) {
    throw new UserError(`${flag}: unknown value '${key}', expected one of: ${Object.keys(table).join(', ')}`);
  }
  return table[key];
}

/** The miner for `--sampling <name>`; an unknown name is a UserError listing the valid ones. */
export function buildMiner(name: string, options: MinerOptions): Miner {
  return lookup(MINERS, name, '--sampling')(options);
}

/** The loss for `--losses <name>`; an unknown name is a UserError listing the valid ones. */
export function buildLoss(name: string, options: LossOptions): Loss {
  return lookup(LOSSES, name, '--losses')(options);
}
