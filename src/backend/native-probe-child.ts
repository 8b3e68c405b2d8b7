/**
 * Runs in a child process of `mic-train doctor` (see `probe.ts`): loads one tfjs-node package, so that
 * libtensorflow's start-up log goes to this process's stderr where the parent reads it, and a second
 * package never shares a process with the first. Prints one line `MIC_PROBE {json}` on stdout.
 *
 * argv: <package> <matmul size> <timed repetitions>
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

const [pkg, sizeArg, repsArg] = process.argv.slice(2);
const n = Number(sizeArg);
const reps = Number(repsArg);
const say = (o: Record<string, unknown>) => process.stdout.write(`MIC_PROBE ${JSON.stringify(o)}\n`);

try {
  createRequire(import.meta.url)(pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
  await tf.ready();
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: string } };
  const x = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const y = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  // One scalar read back per product: it waits for the device without timing a large copy.
  const product = () => tf.tidy(() => tf.sum(tf.matMul(x, y))).dataSync();
  const t0 = performance.now();
  product(); // first call: kernel choice, library start-up, PTX compilation if any
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    product();
    times.push(performance.now() - t);
  }
  times.sort((a, c) => a - c);
  say({ loaded: true, tfVersion: b.binding?.TF_Version, onGpu: b.isUsingGpuDevice, matmul: { n, firstMs, ms: times[times.length >> 1] } });
} catch (e) {
  say({ loaded: false, error: String((e as Error).message ?? e).split('\n')[0] });
}
