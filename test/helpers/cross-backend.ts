/**
 * Test helper: run the same kernel or tensor function on the cpu backend (the reference) and on wasm with
 * the training kernels installed, from the same seeded inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './tf.ts';
import { installWasmTrainingKernels } from '../../src/backend/wasm-kernels.ts';
import { Rng } from '../../src/rng.ts';

export type Backend = 'cpu' | 'wasm';

let ready = false;
/** Initialise both backends once (wasm through the project's selectBackend) and install our kernels. */
export async function initBothBackends(): Promise<void> {
  if (ready) return;
  await useTestBackend('cpu');
  await useTestBackend('wasm');
  installWasmTrainingKernels();
  ready = true;
}

export async function on(backend: Backend): Promise<void> {
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
}

/** Uniform values in [-1, 1) from a seeded stream. */
export function randomValues(rng: Rng, shape: number[]): Float32Array {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-1, 1);
  return v;
}

export interface KernelInput {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/** engine().runKernel on one backend; returns the output's values and shape; frees everything. */
export async function runKernelOn(
  backend: Backend,
  kernel: string,
  inputs: Record<string, KernelInput>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }[]> {
  await on(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape, v.dtype ?? 'float32');
  const out = tf.engine().runKernel(kernel, ts as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap);
  const outs = Array.isArray(out) ? out : [out as tf.Tensor];
  const res = outs.map((t) => ({ values: Float32Array.from(t.dataSync()), shape: t.shape }));
  tf.dispose([...outs, ...Object.values(ts)]);
  return res;
}
