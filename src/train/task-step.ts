// Port of: main.py's train_one_epoch inner step (docs/porting.md#training-step)
/**
 * One optimisation step of one task: forward that task's batch through the whole network, loss =
 * task loss on that head + Σ w·L_adv over the adversarial directions (on the same batch's two embeddings),
 * backward, one Adam step over all groups. Uses micro-batches with exact full-batch gradients when the batch
 * does not fit at once (`train/microbatch.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { lossWarning } from '../losses/base-loss.ts';
import type { BackendProfile } from '../backend/profile.ts';
import type { Loss } from '../losses/types.ts';
import { adversarialTotal, type AdversarialLoss } from '../mic/adversarial.ts';
import type { EmbeddingModel } from '../models/types.ts';
import { autoMicroBatchSize, computeGradients } from './microbatch.ts';
import type { GroupedAdam } from './optimizer.ts';

export interface TaskStepInputs {
  model: EmbeddingModel;
  /** 0 = Class, 1 = Shared. */
  task: 0 | 1;
  loss: Loss;
  adversarial: readonly AdversarialLoss[];
  optimizer: GroupedAdam;
  /** [n, size, size, 3] normalised pixels. */
  images: Float32Array;
  n: number;
  size: number;
  labels: Int32Array;
  /** Images per forward/backward pass (≥ n = one pass). */
  microBs: number;
}

export interface TaskStepResult {
  loss: number;
  /** A one-line warning from the loss/miner (e.g. anchors skipped), or null. */
  warning: string | null;
}

/** Run one step; returns the scalar loss. Leaves no tensors behind. */
export function taskStep(s: TaskStepInputs): TaskStepResult {
  const x = tf.tensor4d(s.images, [s.n, s.size, s.size, 3]);
  let warning: string | null = null;
  try {
    const lossVars = [...s.loss.variables, ...s.adversarial.flatMap((a) => a.variables)];
    const { loss, grads } = computeGradients({
      images: x,
      microBs: s.microBs,
      forward: (imgs) => s.model.forward(imgs).embeds,
      loss: (embeds) => {
        const out = s.loss.compute(embeds[s.task] as tf.Tensor2D, s.labels);
        warning = lossWarning(out.parts);
        if (s.adversarial.length === 0) return out.total;
        const adv = adversarialTotal(s.adversarial, { Class: embeds[0] as tf.Tensor2D, Shared: embeds[1] as tf.Tensor2D });
        return tf.add(out.total, adv) as tf.Scalar;
      },
      netVars: s.model.trainableVariables(),
      lossVars,
    });
    try {
      s.optimizer.step(grads);
    } finally {
      for (const g of grads.values()) g.dispose();
    }
    return { loss, warning };
  } finally {
    x.dispose();
  }
}

/**
 * Images per forward/backward pass. `--micro-bs N` wins; 0 = automatic: the native profile (tfjs-node) runs
 * whole batches; wasm (4 GiB heap) and cpu use the measured ResNet50 memory model of `autoMicroBatchSize`.
 */
export function autoMicroBatch(profile: Pick<BackendProfile, 'wholeBatches'>, inputSize: number, bs: number, requested: number): number {
  if (requested > 0) return Math.min(requested, bs);
  if (profile.wholeBatches) return bs;
  return autoMicroBatchSize({ batch: bs, inputSize });
}
