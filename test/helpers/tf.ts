/**
 * Test helper: initialise the tfjs backend for a test file. MIC_TEST_BACKEND=wasm runs the suites on the
 * wasm backend; the default is cpu (exact, always available).
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../../src/backend/select.ts';

export async function useTestBackend(name?: BackendName): Promise<typeof tf> {
  const wanted = name ?? (process.env.MIC_TEST_BACKEND as BackendName | undefined) ?? 'cpu';
  if (tf.getBackend() !== (wanted === 'wasm' ? 'wasm' : wanted)) await selectBackend(wanted);
  return tf;
}

/** Max absolute difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
