/**
 * The tensors of a checkpoint and back (docs/porting.md#checkpoints: everything needed to resume exactly). Weights use torchvision
 * names in PyTorch layout (`model.safetensors`, loadable by PyTorch); loss parameters, projection nets and
 * optimizer moments go into `state.safetensors` under stable names; the rest is JSON, written and read by
 * `run-state.ts` (of which the optimizer's groups and step counts and the schedule, `PartsState`, come from here).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import type { CheckpointContents, CheckpointTensor } from '../io/checkpoint.ts';
import type { EmbeddingModel } from '../models/types.ts';
import type { AdamState } from './optimizer.ts';
import { adamStateFromTensors, adamStateToTensors } from './optimizer.ts';
import type { ScheduleState } from './schedule.ts';
import type { TrainingParts } from './setup.ts';
import { TASKS } from './setup.ts';

/** The JSON half of the trainable parts' state (the moments are tensors in `state.safetensors`). */
export interface PartsState {
  optimizer: Pick<AdamState, 'groups' | 'steps'>;
  schedule: ScheduleState;
}

function toStored(t: tf.Tensor): CheckpointTensor {
  return { shape: [...t.shape], data: t.dataSync().slice() as Float32Array | Int32Array };
}

function toTensorMap(m: Map<string, CheckpointTensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [k, v] of m) out.set(k, tf.tensor(v.data, v.shape, v.data instanceof Int32Array ? 'int32' : 'float32'));
  return out;
}

/** Re-key an Adam state from one naming to another (unknown names are an error: a different model). */
function renameAdam(state: AdamState, rename: (name: string) => string | undefined, source: string): AdamState {
  const out: AdamState = { groups: state.groups, steps: {}, m: {}, v: {} };
  for (const name of Object.keys(state.steps)) {
    const to = rename(name);
    if (to === undefined)
      throw new UserError(`${source}: optimizer state for unknown parameter '${name}' (checkpoint from a different configuration?)`);
    out.steps[to] = state.steps[name];
    out.m[to] = state.m[name];
    out.v[to] = state.v[name];
  }
  return out;
}

/** Model weights only (PyTorch layout), e.g. for `checkpoint_Class/` and `mic-train embed`. */
export function modelTensors(model: EmbeddingModel): Map<string, CheckpointTensor> {
  const sd = model.stateDict();
  const out = new Map<string, CheckpointTensor>();
  for (const [k, t] of sd) out.set(k, toStored(t));
  tf.dispose([...sd.values()].filter((t) => !(t instanceof tf.Variable)));
  return out;
}

/** Full training snapshot. `state` is the caller's JSON part (epoch, RNG states, labels, history …); the parts' is added. */
export function snapshot<S extends object>(model: EmbeddingModel, parts: TrainingParts, state: S): CheckpointContents<S & PartsState> {
  const extra = new Map<string, CheckpointTensor>();
  parts.losses.forEach((loss, t) => {
    if (!loss) return;
    for (const [name, v] of loss.stateDict()) extra.set(`loss.${TASKS[t]}.${name}`, toStored(v));
  });
  for (const a of parts.adversarial) for (const [name, v] of a.stateDict()) extra.set(name, toStored(v));
  const byVarName = new Map([...parts.named].map(([stable, v]) => [v.name, stable]));
  const adam = renameAdam(parts.optimizer.state(), (n) => byVarName.get(n), 'optimizer');
  const { tensors, json } = adamStateToTensors(adam);
  for (const [k, v] of tensors) extra.set(k, v);
  const partsState: PartsState = { optimizer: json, schedule: parts.schedule.state() };
  return { tensors: modelTensors(model), extraTensors: extra, state: { ...state, ...partsState } };
}

/**
 * Load a snapshot's tensors and `st` (its parts' JSON, already read) into freshly built model and parts (same
 * configuration). Strict: mismatches are UserErrors.
 */
export function restore(ck: CheckpointContents, st: PartsState, model: EmbeddingModel, parts: TrainingParts, source: string): void {
  const weights = toTensorMap(ck.tensors);
  try {
    model.loadStateDict(weights, `${source}/model.safetensors`);
  } finally {
    tf.dispose([...weights.values()]);
  }
  const extra = toTensorMap(new Map([...ck.extraTensors].filter(([k]) => !k.startsWith('optimizer.'))));
  try {
    parts.losses.forEach((loss, t) => {
      if (!loss) return;
      const prefix = `loss.${TASKS[t]}.`;
      loss.loadStateDict(
        new Map([...extra].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v])),
        `${source}/state.safetensors`,
      );
    });
    for (const a of parts.adversarial) {
      const prefix = `adversarial.${a.direction}.`;
      a.loadStateDict(new Map([...extra].filter(([k]) => k.startsWith(prefix))), `${source}/state.safetensors`);
    }
  } finally {
    tf.dispose([...extra.values()]);
  }
  const adamStable = adamStateFromTensors(st.optimizer, ck.extraTensors);
  const adam = renameAdam(adamStable, (n) => parts.named.get(n)?.name, `${source}/state.safetensors`);
  parts.optimizer.loadState(adam, source);
  parts.schedule.loadState(st.schedule, source);
  parts.schedule.apply(parts.optimizer);
}
