/**
 * `npm run bench:eval` — evaluation cost at SOP scale (docs/engine.md#benchmarks): Recall@{1,10,100,1000} (+ MAP@R and
 * R-precision from the same pass) and NMI/F1 (k-means, k = #classes, 20 iterations, all points) on
 * 60,502 seeded random unit vectors of 128 dims with 11,316 classes (each at least twice, like SOP's test set).
 * Prints seconds per part and peak RSS, then runs scripts/bench-eval-faiss.py (Debian python3-faiss +
 * scikit-learn via /usr/bin/python3) on the very same vectors and prints both and the ratio.
 *
 *   npm run bench:eval -- [--backend wasm|cpu] [--threads N] [--n 60502] [--dim 128] [--classes 11316]
 *                         [--k 1,10,100,1000] [--iters 20] [--budget-mb 256] [--seed 0] [--no-faiss]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/backend/select.ts';
import { enableWasmThreads } from '../src/backend/wasm-threads.ts';
import { identityExclusion } from '../src/eval/knn.ts';
import { kmeans } from '../src/eval/kmeans.ts';
import { pairwiseF1 } from '../src/eval/metrics/f1.ts';
import { nmi } from '../src/eval/metrics/nmi.ts';
import { retrievalPass } from '../src/eval/retrieval.ts';
import { Rng } from '../src/rng.ts';

interface Args {
  backend: BackendName;
  threads: number;
  n: number;
  dim: number;
  classes: number;
  kVals: number[];
  iters: number;
  budgetMb: number;
  seed: number;
  faiss: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    backend: 'wasm',
    threads: 0,
    n: 60502,
    dim: 128,
    classes: 11316,
    kVals: [1, 10, 100, 1000],
    iters: 20,
    budgetMb: 256,
    seed: 0,
    faiss: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--backend') a.backend = value() as BackendName;
    else if (flag === '--threads') a.threads = Number(value());
    else if (flag === '--n') a.n = Number(value());
    else if (flag === '--dim') a.dim = Number(value());
    else if (flag === '--classes') a.classes = Number(value());
    else if (flag === '--k') a.kVals = value().split(',').map(Number);
    else if (flag === '--iters') a.iters = Number(value());
    else if (flag === '--budget-mb') a.budgetMb = Number(value());
    else if (flag === '--seed') a.seed = Number(value());
    else if (flag === '--no-faiss') a.faiss = false;
    else throw new Error(`unknown option ${flag}`);
  }
  if (a.n < 2 * a.classes) throw new Error(`--n ${a.n} must be at least 2 × --classes ${a.classes}`);
  return a;
}

/** Seeded unit vectors [n, dim] and labels with every class present at least twice. */
function makeData(a: Args): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(a.seed, 'bench-eval');
  const x = new Float32Array(a.n * a.dim);
  for (let i = 0; i < a.n; i++) {
    let s = 0;
    for (let d = 0; d < a.dim; d++) {
      const v = rng.normal();
      x[i * a.dim + d] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < a.dim; d++) x[i * a.dim + d] *= inv;
  }
  const labels = new Int32Array(a.n);
  for (let i = 0; i < a.n; i++) labels[i] = i < 2 * a.classes ? i >> 1 : rng.int(a.classes);
  rng.shuffle(labels);
  return { x, labels };
}

/** Minimal .npy (format 1.0) writer for float32 / int32 little-endian C-order arrays. */
function writeNpy(file: string, data: Float32Array | Int32Array, shape: number[]): void {
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.backend === 'wasm' && a.threads > 1) await enableWasmThreads(a.threads);
  const report = await selectBackend(a.backend, { threads: a.threads || undefined });
  console.log(
    `${report.reason}; threads ${report.threads}; ${os.cpus().length} logical CPUs; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`data: ${a.n} × ${a.dim} unit vectors, ${a.classes} classes (seed ${a.seed}); Recall@{${a.kVals}}; k-means ${a.iters} iterations`);

  const { x, labels } = makeData(a);
  const budgetBytes = a.budgetMb * 2 ** 20;

  let t = performance.now();
  const ret = retrievalPass(x, labels, x, labels, a.dim, { kVals: a.kVals, exclude: identityExclusion(a.n), budgetBytes });
  const tRetrieval = (performance.now() - t) / 1000;
  const knnGflop = (2 * a.n * a.n * (a.dim + 1)) / 1e9;

  t = performance.now();
  const km = kmeans(x, a.n, a.dim, a.classes, { iters: a.iters, rng: new Rng(1234, 'kmeans'), budgetBytes });
  const tKmeans = (performance.now() - t) / 1000;
  // assignment passes: one per centroid update, plus the final assignment (or the pass that found the fixed point)
  const passes = km.iterations + 1;
  const passGflop = (2 * a.n * a.classes * (a.dim + 1)) / 1e9;

  t = performance.now();
  const nmiValue = nmi(labels, km.assignments, 'geometric');
  const f1Value = pairwiseF1(labels, km.assignments);
  const tMetrics = (performance.now() - t) / 1000;
  const ours = { retrieval: tRetrieval, kmeans: tKmeans, metrics: tMetrics, total: tRetrieval + tKmeans + tMetrics };

  console.log('\nmic-train (tfjs ' + report.name + ')');
  console.log(`  kNN + Recall@k + MAP@R   ${fmt(tRetrieval)} s  (depth ${ret.searchDepth}; ${fmt(knnGflop / tRetrieval)} GFLOP/s incl. top-k)`);
  console.log(
    `  k-means (${a.classes} centroids) ${fmt(tKmeans)} s  (${km.iterations} updates, ${km.converged ? 'fixed point reached' : 'not converged'}, ` +
      `${passes} assignment passes ≈ ${fmt(tKmeans / passes)} s each ≈ ${fmt((passGflop * passes) / tKmeans)} GFLOP/s; ${km.emptySplits} empty-cluster splits)`,
  );
  console.log(`  NMI + F1                 ${fmt(tMetrics, 3)} s`);
  console.log(`  total                    ${fmt(ours.total)} s;  peak RSS ${fmt(peakRssMb(), 0)} MB;  tensors left ${tf.memory().numTensors}`);
  console.log(
    `  Recall@{${a.kVals}} = ${ret.recall.map((v) => v.toFixed(4)).join(' ')}; MAP@R ${ret.mapAtR.toFixed(4)}; R-precision ${ret.rPrecision.toFixed(4)}; NMI ${nmiValue.toFixed(4)}; F1 ${f1Value.toFixed(4)}`,
  );

  if (!a.faiss) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-eval-'));
  try {
    writeNpy(path.join(dir, 'x.npy'), x, [a.n, a.dim]);
    writeNpy(path.join(dir, 'labels.npy'), labels, [a.n]);
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-eval-faiss.py');
    console.log('\nfaiss + scikit-learn (/usr/bin/python3 scripts/bench-eval-faiss.py) on the same vectors …');
    const py = spawnSync(
      '/usr/bin/python3',
      [
        script,
        path.join(dir, 'x.npy'),
        path.join(dir, 'labels.npy'),
        '--k',
        a.kVals.join(','),
        '--iters',
        String(a.iters),
        '--classes',
        String(a.classes),
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * 2 ** 20,
      },
    );
    if (py.status !== 0) {
      console.log(`  faiss benchmark failed (exit ${py.status ?? py.error?.message}); is python3-faiss installed?`);
      return;
    }
    const lines = py.stdout.trim().split('\n');
    for (const l of lines.slice(0, -1)) console.log('  ' + l);
    const ref = JSON.parse(lines[lines.length - 1]) as {
      retrieval: number;
      kmeans: number;
      metrics: number;
      total: number;
      peak_rss_mb: number;
      recall: number[];
      nmi: number;
      f1: number;
      threads: number;
    };
    console.log(`\npart            mic-train      faiss+sklearn (${ref.threads} threads)   ratio`);
    for (const part of ['retrieval', 'kmeans', 'metrics', 'total'] as const) {
      console.log(
        `  ${part.padEnd(12)} ${fmt(ours[part], 2).padStart(9)} s ${fmt(ref[part], 2).padStart(12)} s ${fmt(ours[part] / ref[part], 2).padStart(16)}×`,
      );
    }
    console.log(`  peak RSS     ${fmt(peakRssMb(), 0).padStart(9)} MB ${fmt(ref.peak_rss_mb, 0).padStart(11)} MB`);
    console.log(
      `  Recall@k faiss ${ref.recall.map((v) => v.toFixed(4)).join(' ')} (ours ${ret.recall.map((v) => v.toFixed(4)).join(' ')}); NMI faiss ${ref.nmi.toFixed(4)} (different k-means init), F1 ${ref.f1.toFixed(4)}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
