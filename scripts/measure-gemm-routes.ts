/**
 * Measures, for every distinct convolution of ResNet50, GoogLeNet and BN-Inception (test/fixtures/backend/
 * conv-layer-shapes.json) at the given sizes and batch, each operation on both routes: our GEMM and the XNNPACK
 * compositions it competes with (forward with a new filter as in training, forward with a filter XNNPACK has
 * packed as in evaluation, filter gradient, input gradient), and the head/loss matrix products. Process CPU time,
 * one thread, routes alternating call by call, median of --reps calls after a warm-up.
 *
 * `--write` stores the table as src/backend/kernels/gemm-routes.json (what gemm-routes.ts decides from); the
 * summary printed per architecture and size is each operation's total over the network (layers weighted by how
 * often they occur) on each route, i.e. a per-kernel profile of both engines.
 *
 *   node --import tsx scripts/measure-gemm-routes.ts [--sizes 64,224] [--bs 8] [--reps 3] [--archs a,b] [--write]
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/select.ts';
import { forceGemmRoute, ROUTE_TABLE_FILE, type GemmOp, type RouteEntry, type RouteTable } from '../src/backend/kernels/gemm-routes.ts';
import { describeGemm, gemmFor } from '../src/backend/kernels/gemm.ts';
import { readConvLayerShapes } from './conv-layer-shapes.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,224' },
    bs: { type: 'string', default: '8' },
    reps: { type: 'string', default: '3' },
    archs: { type: 'string', default: 'resnet50,googlenet,bninception' },
    write: { type: 'boolean', default: false },
  },
});
const bs = Number(args.bs);
const reps = Number(args.reps);
const sizes = args.sizes!.split(',').map(Number);
const archs = args.archs!.split(',');

await selectBackend('wasm', { threads: 1 });
const gemm = gemmFor(tf.backend() as never);
if (!gemm) throw new Error('our GEMM is not available on this backend');

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median CPU ms of `run` on each route, alternating. `run` returns the tensors to dispose. */
function timeRoutes(run: (route: 'ours' | 'xnnpack') => tf.Tensor[]): { ours: number; xnnpack: number } {
  const t = { ours: [] as number[], xnnpack: [] as number[] };
  for (let rep = -1; rep < reps; rep++) {
    for (const route of ['ours', 'xnnpack'] as const) {
      forceGemmRoute(route);
      const t0 = cpuMs();
      // The wasm kernels run synchronously: the result is there when run returns (reading it back would add a
      // copy out of the heap, as slow per value as a whole small convolution).
      const out = run(route);
      const ms = cpuMs() - t0;
      tf.dispose(out);
      if (rep >= 0) t[route].push(ms);
    }
  }
  forceGemmRoute(undefined);
  return { ours: median(t.ours), xnnpack: median(t.xnnpack) };
}

interface Conv {
  archs: Map<string, number>;
  size: number;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: tf.Conv2DAttrs['pad'];
}

const convs = new Map<string, Conv>();
for (const s of readConvLayerShapes()) {
  if (!sizes.includes(s.size) || !archs.includes(s.arch)) continue;
  const x = [bs, ...s.x.slice(1)] as [number, number, number, number];
  const key = JSON.stringify([x, s.filter, s.strides, s.pad]);
  const c = convs.get(key) ?? {
    archs: new Map(),
    size: s.size,
    x,
    filter: s.filter as Conv['filter'],
    strides: s.strides,
    pad: s.pad as Conv['pad'],
  };
  c.archs.set(s.arch, (c.archs.get(s.arch) ?? 0) + s.count);
  convs.set(key, c);
}

const entries: RouteEntry[] = [];
const totals = new Map<string, Record<string, { ours: number; xnnpack: number }>>();
const started = Date.now();
console.log(`${convs.size} distinct convolutions, batch ${bs}, sizes ${sizes.join('/')}; ${describeGemm(gemm)}; load ${os.loadavg()[0].toFixed(1)}`);
for (const c of convs.values()) {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  const [kh, kw, cin, cout] = c.filter;
  const sizesOf = { m: bs * info.outHeight * info.outWidth, k: kh * kw * cin, n: cout, kh, kw, stride: Math.max(...c.strides) };
  const x = tf.randomNormal(c.x) as tf.Tensor4D;
  const filter = tf.randomNormal(c.filter, 0, 0.05) as tf.Tensor4D;
  const dy = tf.randomNormal(info.outShape) as tf.Tensor4D;
  const conv = (f: tf.Tensor4D) =>
    tf.engine().runKernel('Conv2D', { x, filter: f }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] }) as tf.Tensor;
  const results: Record<Exclude<GemmOp, 'matmul'>, { ours: number; xnnpack: number }> = {
    // a new filter tensor each call: nobody has packed it (training)
    forward: timeRoutes(() => {
      const f = tf.clone(filter);
      return [conv(f), f];
    }),
    // the same filter every call: XNNPACK's packed copy is reused (evaluation)
    'forward-cached': timeRoutes(() => [conv(filter)]),
    'filter-grad': timeRoutes(() => [
      tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter }) as tf.Tensor,
    ]),
    'input-grad': timeRoutes(() => [
      tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as tf.Tensor,
    ]),
  };
  tf.dispose([x, filter, dy]);
  for (const [op, r] of Object.entries(results)) {
    entries.push({ op: op as GemmOp, ...sizesOf, oursMs: round(r.ours), xnnpackMs: round(r.xnnpack) });
    for (const [arch, count] of c.archs) {
      const key = `${arch} ${c.size}px`;
      const t = (totals.get(key) ?? {}) as Record<string, { ours: number; xnnpack: number }>;
      t[op] ??= { ours: 0, xnnpack: 0 };
      t[op].ours += count * r.ours;
      t[op].xnnpack += count * r.xnnpack;
      totals.set(key, t);
    }
  }
  const line = Object.entries(results)
    .map(([op, r]) => `${op} ${r.ours.toFixed(1)}/${r.xnnpack.toFixed(1)}`)
    .join('  ');
  console.log(`${c.filter.join('x')} s${c.strides[0]} at ${c.x.slice(1, 3).join('x')}: ours/xnnpack ms  ${line}`);
}

// The head and loss products (BatchMatMul): embeddings [bs, 2048] · W [2048, 128], E·Eᵀ, and their gradients.
const products: [number, number, number][] = [
  [bs, 2048, 128],
  [bs, 128, bs],
  [2048, bs, 128],
  [bs, 128, 2048],
  [64, 2048, 128],
  [2048, 64, 128],
  [64, 128, 2048],
];
for (const [m, k, n] of products) {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const r = timeRoutes(() => [tf.matMul(a, b)]);
  entries.push({ op: 'matmul', m, k, n, kh: 1, kw: 1, stride: 1, oursMs: round(r.ours), xnnpackMs: round(r.xnnpack) });
  console.log(`matmul ${m}x${k}x${n}: ours ${r.ours.toFixed(2)} ms, xnnpack ${r.xnnpack.toFixed(2)} ms`);
  tf.dispose([a, b]);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

console.log('\nper network (ms, layers weighted by occurrence): ours / XNNPACK, and the faster of the two per layer');
for (const [key, t] of totals) {
  console.log(
    `  ${key.padEnd(18)} ` +
      Object.entries(t)
        .map(([op, v]) => `${op} ${v.ours.toFixed(0)}/${v.xnnpack.toFixed(0)}`)
        .join('  '),
  );
}
console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);

if (args.write) {
  const table: RouteTable = {
    measuredOn: `${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}, ${describeGemm(gemm)}, batch ${bs}, ${sizes.join('/')} px, process CPU ms, median of ${reps}, load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`,
    entries,
  };
  fs.writeFileSync(ROUTE_TABLE_FILE, JSON.stringify(table, null, 0).replace(/\},\{/g, '},\n{') + '\n');
  console.log(`wrote ${ROUTE_TABLE_FILE.pathname}`);
}
