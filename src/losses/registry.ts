/**
 * Registries keyed by the original flag values: `--losses` (marginloss, triplet, proxynca) and `--sampling`
 * (distance, semihard, random). They are the single source of these values: the flags' choices, the `RunConfig`
 * types and the README flags table derive from their keys. Each entry loads its module only when built, so the
 * CLI reads these tables (`--help`, `--dry-run`) without loading tfjs. Adding a loss or miner = its file (with a
 * `createLoss` / `createMiner` factory) + one line here + its test (docs/architecture.md#add-loss).
 */
import { UserError } from '../errors.ts';
import type { Loss, LossOptions, Miner, MinerOptions } from './types.ts';

export type { LossOptions, MinerOptions } from './types.ts';

/** A `--losses` value. `mines`: the loss takes triplets from a `--sampling` miner on class-balanced batches of
 * `--cs_per_bs` images per class; a loss that does not mine gets plain random batches (`--cs_per_bs` forced to 1). */
export type LossEntry =
  | { mines: true; load: () => Promise<{ createLoss(o: LossOptions, miner: Miner): Loss }> }
  | { mines: false; load: () => Promise<{ createLoss(o: LossOptions): Loss }> };

export const LOSSES = {
  marginloss: { mines: true, load: () => import('./margin-loss.ts') },
  triplet: { mines: true, load: () => import('./triplet-loss.ts') },
  proxynca: { mines: false, load: () => import('./proxy-nca.ts') },
} satisfies Record<string, LossEntry>;

/** A `--sampling` value → its miner module. */
export const MINERS = {
  distance: () => import('./miners/distance-weighted.ts'),
  semihard: () => import('./miners/semihard.ts'),
  random: () => import('./miners/random.ts'),
} satisfies Record<string, () => Promise<{ createMiner(o: MinerOptions): Miner }>>;

export type LossName = keyof typeof LOSSES;
export type MinerName = keyof typeof MINERS;

function lookup<T>(table: Readonly<Record<string, T>>, key: string, flag: string): T {
  if (!Object.hasOwn(table, key)) {
    throw new UserError(`${flag}: unknown value '${key}', expected one of: ${Object.keys(table).join(', ')}`);
  }
  return table[key];
}

/** Whether `--losses <name>` mines triplets (see `LossEntry`); an unknown name is a UserError. */
export function lossMines(name: string): boolean {
  return lookup<LossEntry>(LOSSES, name, '--losses').mines;
}

/** The miner for `--sampling <name>`; an unknown name is a UserError listing the valid ones. */
export async function buildMiner(name: string, options: MinerOptions): Promise<Miner> {
  const load = lookup<() => Promise<{ createMiner(o: MinerOptions): Miner }>>(MINERS, name, '--sampling');
  return (await load()).createMiner(options);
}

/** The loss for `--losses <name>` (with its `--sampling` miner when it mines); an unknown name is a UserError. */
export async function buildLoss(name: string, options: LossOptions): Promise<Loss> {
  const entry = lookup<LossEntry>(LOSSES, name, '--losses');
  if (!entry.mines) return (await entry.load()).createLoss(options);
  const miner = await buildMiner(options.sampling, options);
  return (await entry.load()).createLoss(options, miner);
}
