/**
 * ResNet50 train-step benchmark (docs/engine.md#benchmarks): `npm run bench:train -- --backend wasm --size 64 --bs 8`.
 *
 * The step: random NHWC images → model.forward (frozen BN, two L2-normalised 128-d heads) → loss =
 * Σ_heads mean((E·Eᵀ)²) → gradients (through src/train/microbatch.ts, so `--micro-bs` exercises the
 * micro-batch path) → GroupedAdam update (lr 1e-5, weight decay 4e-4). scripts/bench-torch.py runs the
 * identical step in PyTorch.
 *
 * Prints medians over --reps timed steps (after --warmup): forward (no tape, first with the step's new
 * weights), the same forward in steady state (same weights, third call: what each batch of an evaluation
 * costs once the BN fold and the packed filters are reused), backward (gradients − forward),
 * update (optimizer), step (gradients + update), img/s, the step's process CPU time (robust to other load
 * on a shared machine when single-threaded), peak RSS and peak wasm heap. `--profile` adds a
 * per-kernel time table of one step; `--json` prints one JSON object (read by bench-train-compare.ts).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../src/backend/select.ts';
import { installWasmTrainingKernels } from '../src/backend/wasm-kernels.ts';
import { enableWasmThreads } from '../src/backend/wasm-threads.ts';
import { autoMicroBatchSize, computeGradients } from '../src/train/microbatch.ts';
import { GroupedAdam } from '../src/train/optimizer.ts';
import { buildModel } from '../src/models/build-model.ts';
import { rngFor } from '../src/rng.ts';
import type { EmbeddingModel } from '../src/models/types.ts';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '64' },
    bs: { type: 'string', default: '8' },
    'micro-bs': { type: 'string' },
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    arch: { type: 'string', default: 'resnet50' },
    profile: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const size = Number(args.size);
const bs = Number(args.bs);
// `--micro-bs auto`: the size src/train/microbatch.ts picks for the wasm heap.
const microBs = args['micro-bs'] === 'auto' ? autoMicroBatchSize({ batch: bs, inputSize: size }) : args['micro-bs'] ? Number(args['micro-bs']) : bs;
const threads = Number(args.threads);
const reps = Number(args.reps);
const warmup = Number(args.warmup);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Current wasm heap size in MB (0 on other backends). The heap only grows, so this is its peak. */
function wasmHeapMb(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.length / 2 ** 20 : 0;
}

function lossOf(embeds: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.addN(embeds.map((e) => tf.mean(tf.square(tf.matMul(e, e, false, true))))) as tf.Scalar);
}

async function main(): Promise<void> {
  if (args.backend === 'wasm' && threads > 1) await enableWasmThreads(threads);
  const report = await selectBackend(args.backend as BackendChoice, { threads });
  if (tf.getBackend() === 'wasm') installWasmTrainingKernels();
  const rng = rngFor(0, 'init');
  const model: EmbeddingModel = await buildModel({
    arch: args.arch!,
    embedSizes: [128, 128],
    notPretrained: true,
    pretrainedFormat: 'torchvision',
    rng,
  });
  const vars = model.trainableVariables();
  const opt = new GroupedAdam([{ name: 'network', vars, lr: 1e-5, weightDecay: 4e-4 }]);
  const images = tf.randomNormal([bs, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const forward = (x: tf.Tensor4D) => model.forward(x).embeds;

  const times = {
    forward: [] as number[],
    forwardEval: [] as number[],
    grads: [] as number[],
    update: [] as number[],
    step: [] as number[],
    stepCpu: [] as number[],
  };
  const cpuSeconds = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let lastLoss = NaN;
  const oneStep = (timed: boolean) => {
    const t0 = performance.now();
    // Inference forward, in micro-batches too: a whole 112-image batch would not fit the wasm heap.
    for (let s = 0; s < bs; s += microBs) {
      tf.tidy(() => forward(images.slice(s, Math.min(microBs, bs - s)))[0].dataSync());
    }
    const tEval = performance.now();
    // Twice more with the same weights; the last one times what each batch of an evaluation pass costs
    // once the BN fold and the packed filters are reused (from the third batch on).
    let tSteady = tEval;
    for (let rep = 0; rep < 2; rep++) {
      tSteady = performance.now();
      for (let s = 0; s < bs; s += microBs) {
        tf.tidy(() => forward(images.slice(s, Math.min(microBs, bs - s)))[0].dataSync());
      }
    }
    const t1 = performance.now();
    if (timed) times.forwardEval.push((t1 - tSteady) / 1e3);
    const c1 = cpuSeconds();
    const { loss, grads } = computeGradients({ images, microBs, forward, loss: lossOf, netVars: vars });
    const t2 = performance.now();
    opt.step(grads);
    tf.dispose([...grads.values()]);
    vars[0].dataSync();
    const t3 = performance.now();
    const c3 = cpuSeconds();
    lastLoss = loss;
    if (timed) {
      times.forward.push((tEval - t0) / 1e3);
      times.grads.push((t2 - t1) / 1e3);
      times.update.push((t3 - t2) / 1e3);
      times.step.push((t3 - t1) / 1e3);
      times.stepCpu.push(c3 - c1);
    }
  };
  for (let i = 0; i < warmup; i++) oneStep(false);
  for (let i = 0; i < reps; i++) oneStep(true);

  let profile: { name: string; ms: number; calls: number }[] | undefined;
  if (args.profile) {
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
    const info = await tf.profile(() => oneStep(false));
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs) || 0;
      e.calls += 1;
      byName.set(k.name, e);
    }
    profile = [...byName].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ms - a.ms);
  }

  const res = {
    engine: `tfjs-${report.tfName}`,
    version: tf.version_core,
    threads: report.threads,
    size,
    bs,
    microBs,
    reps,
    forward_s: median(times.forward),
    forward_eval_s: median(times.forwardEval),
    backward_s: Math.max(0, median(times.grads) - median(times.forward)),
    update_s: median(times.update),
    step_s: median(times.step),
    step_all_s: times.step,
    step_cpu_s: median(times.stepCpu),
    img_per_s: bs / median(times.step),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    wasm_heap_mb: wasmHeapMb(),
    loss: lastLoss,
    profile,
  };
  if (args.json) {
    console.log(JSON.stringify(res));
    return;
  }
  const f = (x: number) => x.toFixed(3);
  console.log(
    `${res.engine} threads=${res.threads} ${args.arch} ${size}px bs${bs}${microBs < bs ? ` micro-bs ${microBs}` : ''}: ` +
      `forward ${f(res.forward_s)}s (same weights again ${f(res.forward_eval_s)}s)  backward ${f(res.backward_s)}s  update ${f(res.update_s)}s  step ${f(res.step_s)}s ` +
      `(${res.img_per_s.toFixed(1)} img/s, CPU ${f(res.step_cpu_s)}s)  peak RSS ${res.peak_rss_mb.toFixed(0)} MB  wasm heap ${res.wasm_heap_mb.toFixed(0)} MB  ` +
      `steps ${times.step.map(f).join(', ')}`,
  );
  if (profile) {
    const total = profile.reduce((a, b) => a + b.ms, 0);
    console.log(`per-kernel time of one step (sum ${total.toFixed(0)} ms):`);
    for (const p of profile.slice(0, 25)) {
      console.log(`  ${p.name.padEnd(28)} ${p.ms.toFixed(1).padStart(9)} ms  ${((100 * p.ms) / total).toFixed(1).padStart(5)} %  ${p.calls} calls`);
    }
  }
}

await main();
