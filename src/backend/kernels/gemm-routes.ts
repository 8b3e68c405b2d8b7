/**
 * Which GEMM a convolution or matrix product uses, ours (`gemm.ts`) or XNNPACK's (the stock wasm kernels and the
 * compositions built on them), decided from measured shape tables (`gemm-routes.json`, written by
 * `scripts/measure-gemm-routes.ts`, which times both routes on every convolution of ResNet50, GoogLeNet and
 * BN-Inception at 64 and 224 px and on the matrix products of the heads and losses).
 *
 * A shape that was measured takes the faster route; any other takes the route of the nearest measured shape of
 * the same operation and filter class (1×1 or not, strided or not), nearest in log M, log K, log N (the GEMM's
 * rows, depth and columns). Decisions are cached per shape.
 */
import fs from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { describeGemm, gemmFor } from './gemm.ts';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/**
 * forward: Conv2D / FusedConv2D with a filter XNNPACK has not packed yet (training: a new BN-folded filter each
 * step); forward-cached: one it has (evaluation); filter-grad, input-grad: the two convolution gradients;
 * matmul: BatchMatMul.
 */
export type GemmOp = 'forward' | 'forward-cached' | 'filter-grad' | 'input-grad' | 'matmul';

export interface RouteEntry {
  op: GemmOp;
  /** GEMM sizes: rows (output positions), depth, columns (output channels). */
  m: number;
  k: number;
  n: number;
  /** Filter size and stride (1 for matmul). */
  kh: number;
  kw: number;
  stride: number;
  /** Median milliseconds of each route. */
  oursMs: number;
  xnnpackMs: number;
}

export interface RouteTable {
  /** Where and how it was measured (CPU, Node, threads, GEMM variant). */
  measuredOn: string;
  entries: RouteEntry[];
}

export const ROUTE_TABLE_FILE = new URL('./gemm-routes.json', import.meta.url);

let table: RouteTable | undefined;
const decided = new Map<string, boolean>();

/** The committed table (an empty one if the file is missing, which makes every shape use ours). */
export function routeTable(): RouteTable {
  if (!table) {
    try {
      table = JSON.parse(fs.readFileSync(ROUTE_TABLE_FILE, 'utf8')) as RouteTable;
    } catch {
      table = { measuredOn: 'no table', entries: [] };
    }
  }
  return table;
}

/** Tests and the measuring script: use this table instead of the committed one (undefined: the committed one). */
export function setRouteTable(t: RouteTable | undefined): void {
  table = t;
  decided.clear();
}

function sameClass(e: { kh: number; kw: number; stride: number }, kh: number, kw: number, stride: number): boolean {
  return (e.kh * e.kw === 1) === (kh * kw === 1) && e.stride > 1 === stride > 1;
}

let forcedRoute = process.env.MIC_GEMM === 'xnnpack' ? false : process.env.MIC_GEMM === 'ours' ? true : undefined;

/**
 * Force one route everywhere (benchmarks, debugging; `MIC_GEMM=xnnpack` or `MIC_GEMM=ours` in the environment
 * does the same); undefined: the table decides.
 */
export function forceGemmRoute(route: 'ours' | 'xnnpack' | undefined): void {
  forcedRoute = route === undefined ? undefined : route === 'ours';
}

/** The route for a GEMM of this operation and shape: true = ours. */
export function oursFaster(op: GemmOp, m: number, k: number, n: number, kh = 1, kw = 1, stride = 1): boolean {
  if (forcedRoute !== undefined) return forcedRoute;
  const key = `${op} ${m} ${k} ${n} ${kh} ${kw} ${stride}`;
  const hit = decided.get(key);
  if (hit !== undefined) return hit;
  let best: RouteEntry | undefined;
  let bestDist = Infinity;
  for (const e of routeTable().entries) {
    if (e.op !== op || !sameClass(e, kh, kw, stride)) continue;
    const d = Math.hypot(Math.log(e.m / m), Math.log(e.k / k), Math.log(e.n / n));
    if (d < bestDist) {
      bestDist = d;
      best = e;
    }
  }
  const ours = best ? best.oursMs <= best.xnnpackMs : true;
  decided.set(key, ours);
  return ours;
}

/** GEMM sizes of a convolution: output positions × (kh·kw·Cin) × Cout. */
export function convGemmSizes(info: Conv2DInfo): { m: number; k: number; n: number } {
  return {
    m: info.batchSize * info.outHeight * info.outWidth,
    k: info.filterHeight * info.filterWidth * info.inChannels,
    n: info.outChannels,
  };
}

/** `oursFaster` for a convolution operation. */
export function useOurGemm(op: Exclude<GemmOp, 'matmul'>, info: Conv2DInfo): boolean {
  const { m, k, n } = convGemmSizes(info);
  return oursFaster(op, m, k, n, info.filterHeight, info.filterWidth, Math.max(info.strideHeight, info.strideWidth));
}

/** One line for the log and Parameter_Info: which GEMM the wasm backend's convolutions and products use. */
export function gemmEngine(backend: BackendWasm): string {
  const g = gemmFor(backend);
  if (!g || forcedRoute === false) return `XNNPACK's${g ? ' (MIC_GEMM=xnnpack)' : ' (ours unavailable: backend memory not found)'}`;
  if (forcedRoute === true) return `${describeGemm(g)} everywhere (MIC_GEMM=ours)`;
  return `${describeGemm(g)}; XNNPACK's where the measured route table prefers it`;
}
