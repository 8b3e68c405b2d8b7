// Port of: main.py's criterion / optimizer / scheduler set-up (docs/porting.md#startup, docs/porting.md#optimizer)
/**
 * Builds the learnable pieces around the network: the task losses, the adversarial projection nets, the Adam
 * parameter groups (docs/porting.md#optimizer order: network, β per task, proxies, projection nets) and the LR schedule. Also
 * gives every variable a stable name (`net.<torchvision name>`, `loss.Class.beta`, `adversarial.Class-Shared.0.weight`)
 * so optimizer moments can be checkpointed independently of tfjs's process-local variable names.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../cli/config.ts';
import { buildLoss } from '../losses/registry.ts';
import type { Loss } from '../losses/types.ts';
import { buildAdversarialLosses, PROJECTION_WEIGHT_DECAY, type AdversarialLoss } from '../mic/adversarial.ts';
import type { EmbeddingNet } from '../models/embedding-net.ts';
import type { Rng } from '../rng.ts';
import { GroupedAdam, type ParamGroupSpec } from './optimizer.ts';
import { scheduleFromConfig, type LrSchedule } from './schedule.ts';

export const TASKS = ['Class', 'Shared'] as const;

export interface TrainingParts {
  /** Per task; null for a task that never steps (baseline mode: task_p[1] = 0). */
  losses: (Loss | null)[];
  /** One per `--adversarial` direction with a non-zero weight. */
  adversarial: AdversarialLoss[];
  optimizer: GroupedAdam;
  schedule: LrSchedule;
  /** Stable name → variable, for every variable the optimizer updates. */
  named: Map<string, tf.Variable>;
}

/** Whether the run has a Shared task at all (its loader, clustering and loss). */
export function hasSharedTask(cfg: RunConfig): boolean {
  return cfg.taskP[1] > 0;
}

export async function buildTrainingParts(
  cfg: RunConfig,
  model: EmbeddingNet,
  numClasses: [number, number],
  rngs: { miner: Rng; init: Rng },
): Promise<TrainingParts> {
  const named = new Map<string, tf.Variable>();
  for (const p of model.parameters()) if (p.trainable) named.set(`net.${p.name}`, p.variable);

  // One task after the other: proxies draw from the shared init stream in task order.
  const losses: (Loss | null)[] = [];
  for (const [t, task] of TASKS.entries()) {
    if (t === 1 && !hasSharedTask(cfg)) {
      losses.push(null);
      continue;
    }
    const loss = await buildLoss(cfg.losses[t], {
      numClasses: numClasses[t],
      embedDim: cfg.embedSizes[t],
      margin: cfg.margin[t],
      beta: cfg.beta[t],
      sampling: cfg.sampling[t],
      marginCount: cfg.marginCount,
      rng: rngs.miner,
      initRng: rngs.init,
    });
    for (const [name, v] of loss.stateDict()) named.set(`loss.${task}.${name}`, v as tf.Variable);
    losses.push(loss);
  }

  const active = cfg.adversarial.map((d, i) => ({ d, w: cfg.advWeights[i] })).filter((x) => x.w > 0);
  const adversarial = buildAdversarialLosses({
    directions: active.map((x) => x.d),
    weights: active.map((x) => x.w),
    embedDims: { Class: cfg.embedSizes[0], Shared: cfg.embedSizes[1] },
    advDim: cfg.advDim,
    rng: rngs.init,
  });
  for (const a of adversarial) for (const [name, v] of a.stateDict()) named.set(name, v as tf.Variable);

  const groups: ParamGroupSpec[] = [{ name: 'network', vars: model.trainableVariables(), lr: cfg.lr, weightDecay: cfg.decay }];
  losses.forEach((loss, t) => {
    if (!loss || loss.variables.length === 0) return;
    const lr = loss.lrKind === 'proxy' ? cfg.proxyLr[t] : cfg.betaLr[t];
    groups.push({ name: `${loss.lrKind}.${TASKS[t]}`, vars: loss.variables, lr, weightDecay: 0 });
  });
  for (const a of adversarial)
    groups.push({ name: `projection.${a.direction}`, vars: a.variables, lr: cfg.lr, weightDecay: PROJECTION_WEIGHT_DECAY });

  const optimizer = new GroupedAdam(groups);
  const schedule = scheduleFromConfig(cfg);
  schedule.apply(optimizer);
  return { losses, adversarial, optimizer, schedule, named };
}

export function disposeTrainingParts(p: TrainingParts): void {
  for (const l of p.losses) (l as { dispose?: () => void } | null)?.dispose?.();
  for (const a of p.adversarial) a.dispose();
  p.optimizer.dispose();
}
