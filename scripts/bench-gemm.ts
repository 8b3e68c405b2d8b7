/**
 * `npm run bench:gemm`: GFLOP/s of the convolutions of ResNet50 (every distinct layer, batch 8, 64 and 224 px)
 * as GEMMs: ours (`src/backend/kernels/gemm.wat`: relaxed-SIMD FMA and plain SIMD128), XNNPACK's (the stock
 * tfjs-backend-wasm Conv2D: with a filter it has not packed yet, as in training, and with one it has, as in
 * evaluation) and PyTorch's (F.conv2d, channels-last, Debian's python3-torch; skipped with a note if absent),
 * on one and two threads, all in one run.
 *
 * Each thread count runs in a fresh process (the wasm backend's threads are fixed when it starts); inside, the
 * routes alternate call by call and each figure is the median of --reps calls after a warm-up, so load from other
 * processes hits all alike. One thread is timed in process CPU time (what a shared machine's other load disturbs
 * least), more threads in wall time. "network" is the ResNet50 forward as a whole (each layer weighted by how
 * often it occurs): total flops / total time.
 *
 *   npm run bench:gemm -- [--sizes 64,224] [--bs 8] [--threads 1,2] [--reps 3] [--arch resnet50]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { readConvLayerShapes, type ConvLayerShape } from './conv-layer-shapes.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,224' },
    bs: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1,2' },
    reps: { type: 'string', default: '3' },
    arch: { type: 'string', default: 'resnet50' },
    child: { type: 'boolean', default: false },
  },
});

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.MIC_TORCH_PYTHON ?? '/usr/bin/python3';
const reps = Number(args.reps);
const bs = Number(args.bs);

interface Case {
  key: string;
  label: string;
  size: number;
  count: number;
  x: number[];
  filter: number[];
  strides: [number, number];
  pad: ConvLayerShape['pad'];
  pads: [number, number, number, number];
  flops: number;
}

type Route = 'ours-fma' | 'ours-plain' | 'xnnpack-fresh' | 'xnnpack-cached';
const ROUTES: Route[] = ['ours-fma', 'ours-plain', 'xnnpack-fresh', 'xnnpack-cached'];

function cases(): Case[] {
  const sizes = args.sizes!.split(',').map(Number);
  return readConvLayerShapes()
    .filter((s) => s.arch === args.arch && sizes.includes(s.size))
    .map((s) => {
      const x = [bs, ...s.x.slice(1)];
      const info = tf.backend_util.computeConv2DInfo(x as never, s.filter as never, s.strides, 1, s.pad as never);
      const [kh, kw, cin, cout] = s.filter;
      const p = info.padInfo;
      return {
        key: `${s.size}:${x.join('x')}:${s.filter.join('x')}:${s.strides.join('x')}:${JSON.stringify(s.pad)}`,
        label: `${kh}×${kw} ${cin}→${cout}${s.strides[0] > 1 ? ' /2' : ''} at ${x[1]}×${x[2]}`,
        size: s.size,
        count: s.count,
        x,
        filter: s.filter,
        strides: s.strides,
        pad: s.pad,
        pads: [p.top, p.bottom, p.left, p.right] as [number, number, number, number],
        flops: 2 * info.batchSize * info.outHeight * info.outWidth * kh * kw * cin * cout,
      };
    });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Child process: milliseconds per route and case on `threads` threads. */
async function child(threads: number): Promise<void> {
  const { selectBackend } = await import('../src/backend/select.ts');
  const { setForwardConvStrategy } = await import('../src/backend/kernels/conv2d-forward.ts');
  const { setGemmSimd, relaxedSimdSupported, gemmFor, describeGemm } = await import('../src/backend/kernels/gemm.ts');
  await selectBackend('wasm', { threads });
  const fma = relaxedSimdSupported();
  const routes = ROUTES.filter((r) => fma || r !== 'ours-fma');
  const result: Record<string, Partial<Record<Route, number>>> = {};
  const clock =
    threads === 1
      ? () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1e3;
        }
      : () => performance.now();
  for (const c of cases()) {
    const x = tf.randomNormal(c.x as [number, number, number, number]) as tf.Tensor4D;
    const filter = tf.randomNormal(c.filter as [number, number, number, number], 0, 0.05) as tf.Tensor4D;
    const times: Record<string, number[]> = {};
    for (let rep = -1; rep < reps; rep++) {
      for (const route of routes) {
        setGemmSimd(route === 'ours-plain' ? 'plain' : route === 'ours-fma' ? 'relaxed' : undefined);
        setForwardConvStrategy(route.startsWith('ours') ? 'gemm' : 'stock');
        // XNNPACK keeps a packed copy per filter tensor: a fresh copy makes it pack again, as in training.
        const f = route === 'xnnpack-fresh' ? tf.clone(filter) : filter;
        if (route === 'xnnpack-fresh') f.dataSync();
        const t0 = clock();
        // Synchronous on wasm: no read-back (a copy out of the heap) in the timing.
        const y = tf.conv2d(x, f, c.strides, c.pad as never);
        const ms = clock() - t0;
        if (rep >= 0) (times[route] ??= []).push(ms);
        tf.dispose(y);
        if (f !== filter) f.dispose();
      }
    }
    result[c.key] = Object.fromEntries(Object.entries(times).map(([r, t]) => [r, median(t)]));
    tf.dispose([x, filter]);
  }
  setGemmSimd(undefined);
  const g = gemmFor(tf.backend() as never);
  console.log(JSON.stringify({ gemm: g ? describeGemm(g) : 'none', times: result }));
}

function runChild(threads: number): { gemm: string; times: Record<string, Partial<Record<Route, number>>> } {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      '--threads',
      String(threads),
      '--sizes',
      args.sizes!,
      '--bs',
      args.bs!,
      '--reps',
      args.reps!,
      '--arch',
      args.arch!,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  const line = r.stdout
    ?.trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`bench-gemm child (${threads} threads) failed:\n${(r.stderr ?? '').slice(-3000)}`);
  return JSON.parse(line);
}

/** PyTorch's milliseconds per case (process CPU time on one thread, wall time on more), or why it was skipped. */
function runTorch(all: Case[], threads: number): Record<string, number> | string {
  const file = path.join(os.tmpdir(), `mic-bench-gemm-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(all.map((c) => ({ key: c.key, x: c.x, filter: c.filter, strides: c.strides, pads: c.pads }))));
  try {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
    const r = spawnSync(python, [path.join(here, 'bench-gemm-torch.py'), file, '--threads', String(threads), '--reps', args.reps!], {
      encoding: 'utf8',
      env,
    });
    const line = r.stdout
      ?.trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{'));
    if (r.status !== 0 || !line) {
      const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').pop();
      return `PyTorch skipped (${python}: ${why})`;
    }
    const { _blas_gflops: blas, ...both } = JSON.parse(line) as Record<string, [number, number]> & { _blas_gflops: number };
    if (blas < 10) {
      console.log(
        `note: PyTorch's BLAS runs a 512×512 product at ${blas.toFixed(1)} GFLOP/s: the reference BLAS, not OpenBLAS ` +
          '(install libopenblas0, which python3-torch recommends, or point LD_LIBRARY_PATH at one); its 1×1 convolutions are slow with it',
      );
    }
    return Object.fromEntries(Object.entries(both).map(([k, [wall, cpu]]) => [k, threads === 1 ? cpu : wall]));
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function parent(): Promise<void> {
  const all = cases();
  const threadCounts = args.threads!.split(',').map(Number);
  console.log(
    `bench:gemm — ${args.arch} convolutions as GEMMs, batch ${bs}, sizes ${args.sizes} px, threads ${args.threads}, median of ${reps} calls; GFLOP/s (1 thread: per process CPU second; more: per wall second)`,
  );
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, Node ${process.versions.node}`,
  );
  const byThreads = new Map<
    number,
    { gemm: string; times: Record<string, Partial<Record<Route, number>>>; torch: Record<string, number> | string }
  >();
  for (const t of threadCounts) {
    const torch = runTorch(all, t);
    const ours = runChild(t);
    byThreads.set(t, { ...ours, torch });
    console.log(`${t} thread(s): ${ours.gemm}${typeof torch === 'string' ? `; ${torch}` : ''}`);
  }
  const cols: { name: string; get: (t: number, key: string) => number | undefined }[] = [];
  for (const t of threadCounts) {
    const d = byThreads.get(t)!;
    const label = (r: string) => `${r} ${t}t`;
    cols.push({ name: label('ours FMA'), get: (_, key) => d.times[key]?.['ours-fma'] });
    cols.push({ name: label('ours mul+add'), get: (_, key) => d.times[key]?.['ours-plain'] });
    cols.push({ name: label('XNNPACK new W'), get: (_, key) => d.times[key]?.['xnnpack-fresh'] });
    cols.push({ name: label('XNNPACK packed W'), get: (_, key) => d.times[key]?.['xnnpack-cached'] });
    cols.push({ name: label('PyTorch'), get: (_, key) => (typeof d.torch === 'string' ? undefined : d.torch[key]) });
  }
  const w = 20;
  for (const size of args.sizes!.split(',').map(Number)) {
    const rows = all.filter((c) => c.size === size);
    console.log(`\n${size} px`);
    console.log(`${'layer'.padEnd(30)}${'×'.padStart(3)}${'GFLOP'.padStart(7)}` + cols.map((c) => c.name.padStart(w)).join(''));
    const totals = cols.map(() => ({ flops: 0, ms: 0, missing: false }));
    for (const c of rows) {
      const cells = cols.map((col, i) => {
        const ms = col.get(0, c.key);
        if (ms === undefined) {
          totals[i].missing = true;
          return '—'.padStart(w);
        }
        totals[i].flops += c.count * c.flops;
        totals[i].ms += c.count * ms;
        return (c.flops / ms / 1e6).toFixed(1).padStart(w);
      });
      console.log(`${c.label.padEnd(30)}${String(c.count).padStart(3)}${(c.flops / 1e9).toFixed(2).padStart(7)}` + cells.join(''));
    }
    const net = totals.map((t) => (t.missing || t.ms === 0 ? '—' : (t.flops / t.ms / 1e6).toFixed(1)).padStart(w));
    console.log(`${'network (all layers, weighted)'.padEnd(40)}` + net.join(''));
  }
}

if (args.child) await child(Number(args.threads));
else await parent();
