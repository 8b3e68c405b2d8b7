/**
 * Backend profiles: what the training code does differently per kind of engine. Code below the backend layer
 * branches on a profile, never on a backend name, so the paths only tfjs-node takes can run anywhere:
 *
 * | profile | engines | passes per batch | Adam | our kernels |
 * |---|---|---|---|---|
 * | native | tensorflow, tensorflow-gpu | whole batch | tensor ops | none |
 * | wasm | wasm | micro-batches within the 4 GiB heap | fused WebAssembly pass | training kernels |
 * | cpu | cpu | micro-batches (same memory model) | host loop | none |
 *
 * Test switch: `MIC_TRAIN_BACKEND_PROFILE=native` runs the stock `cpu` backend with the native profile, so CI
 * (which has no tfjs-node) exercises every native-only path. Under it `--backend auto` skips wasm, and
 * `--backend wasm` is refused: the wasm backend cannot train without its kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';

export type ProfileName = 'native' | 'wasm' | 'cpu';

export interface BackendProfile {
  name: ProfileName;
  /** Forward/backward over the whole batch at once (no heap limit to respect). */
  wholeBatches: boolean;
  /** The GroupedAdam implementation (see train/optimizer.ts). */
  adam: 'host' | 'tensor' | 'fused';
  /** Our WebAssembly training kernels are installed for the backend. */
  trainingKernels: boolean;
  /** Set when the test switch made this profile (not the engine itself). */
  forcedBy?: string;
}

export const PROFILE_ENV = 'MIC_TRAIN_BACKEND_PROFILE';

const PROFILES: Readonly<Record<ProfileName, BackendProfile>> = {
  native: { name: 'native', wholeBatches: true, adam: 'tensor', trainingKernels: false },
  wasm: { name: 'wasm', wholeBatches: false, adam: 'fused', trainingKernels: true },
  cpu: { name: 'cpu', wholeBatches: false, adam: 'host', trainingKernels: false },
};

/** The profile the test switch asks for, or undefined. Throws UserError on an unknown value. */
export function forcedProfile(env: NodeJS.ProcessEnv = process.env): 'native' | undefined {
  const v = env[PROFILE_ENV];
  if (v === undefined || v === '') return undefined;
  if (v !== 'native')
    throw new UserError(`${PROFILE_ENV}=${v}: unknown profile; the only value is 'native' (runs the cpu backend as tfjs-node would be run)`);
  return v;
}

/**
 * The profile of a backend by its tfjs name ('tensorflow' for both tfjs-node packages). Throws UserError when
 * the test switch asks for something the backend cannot do.
 */
export function profileFor(tfBackend: string, env: NodeJS.ProcessEnv = process.env): BackendProfile {
  const forced = forcedProfile(env);
  if (tfBackend === 'tensorflow') return PROFILES.native;
  if (tfBackend === 'wasm') {
    if (forced) throw new UserError(`${PROFILE_ENV}=${forced} runs only on --backend cpu (the wasm backend cannot train without its own kernels)`);
    return PROFILES.wasm;
  }
  if (forced) return { ...PROFILES.native, forcedBy: `${PROFILE_ENV}=${forced}` };
  return PROFILES.cpu;
}

/** The profile of the backend tfjs is using now. */
export function activeProfile(): BackendProfile {
  return profileFor(tf.getBackend());
}

/** One line for logs and Parameter_Info. */
export function describeProfile(p: BackendProfile): string {
  const passes = p.wholeBatches ? 'whole batches' : 'micro-batches';
  const kernels = p.trainingKernels ? 'our wasm kernels' : 'stock kernels';
  return `${p.name} (${passes}, ${p.adam} Adam, ${kernels}${p.forcedBy ? `; forced by ${p.forcedBy}` : ''})`;
}
