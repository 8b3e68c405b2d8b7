/**
 * Our f32 GEMM (`gemm.wat`) on the tfjs wasm backend's memory: C[m, n] (+)= A · B (+ bias, ReLU), A read in
 * place through an indirection buffer (a row-major matrix, or an NHWC convolution's input with its taps and
 * padding: implicit im2col), B packed into 8-column panels.
 *
 * Variant: relaxed SIMD (`f32x4.relaxed_madd`, one FMA instruction per multiply-add on x86 with FMA3) where the
 * runtime validates it, plain SIMD128 multiply + add otherwise. Node 22 has relaxed SIMD on by default; Node 20
 * has it behind `--experimental-wasm-relaxed-simd`, which NODE_OPTIONS does not accept, so it is switched on
 * here with `v8.setFlagsFromString` before the first compile (V8 reads wasm feature flags at compile time, in
 * every thread). `MIC_GEMM_SIMD=plain` (or `setGemmSimd`) forces the fallback.
 *
 * Threads: on the threaded build the memory is shared; `threads − 1` worker threads instantiate the same module
 * on it and join every large job (gemm.wat shares the work out by atomic counters). The thread count does not
 * change any result.
 *
 * Blocking (kc, mc, nc) follows this machine's L1d and L2 sizes (read from /sys, 32 KiB / 512 KiB if absent):
 * a B micro-panel (kc × 8 floats) fills a quarter of L1d, an A block (mc × kc) a quarter of L2, a packed B
 * block (kc × nc) half of L2.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assert } from '../../errors.ts';
import { backendMemory, heapKernels, heapKernelsModule, type HeapKernels } from './heap-kernels.ts';

export type GemmSimd = 'relaxed' | 'plain';

interface GemmExports {
  rowIndirection(a: number, rowBytes: number, m: number, ind: number): void;
  convIndirection(
    x: number,
    n: number,
    h: number,
    w: number,
    c: number,
    kh: number,
    kw: number,
    offH: number,
    offW: number,
    sH: number,
    sW: number,
    outH: number,
    outW: number,
    zero: number,
    ind: number,
  ): void;
  gemmJob(job: number, thread: number): void;
}

interface Emscripten {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

/** An NHWC convolution's sizes and window (see `Gemm.conv`). */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  offH: number;
  offW: number;
  sH: number;
  sW: number;
  outH: number;
  outW: number;
  cout: number;
}

/** Cache blocking of the GEMM loops (see gemm.wat). */
export interface GemmBlocking {
  kc: number;
  mc: number;
  nc: number;
}

function cacheBytes(level: number, fallback: number): number {
  try {
    const dir = '/sys/devices/system/cpu/cpu0/cache';
    for (const entry of fs.readdirSync(dir)) {
      if (!entry.startsWith('index')) continue;
      const read = (f: string) => fs.readFileSync(`${dir}/${entry}/${f}`, 'utf8').trim();
      if (Number(read('level')) !== level || read('type') === 'Instruction') continue;
      const m = /^(\d+)([KM]?)$/.exec(read('size'));
      if (m) return Number(m[1]) * (m[2] === 'M' ? 2 ** 20 : m[2] === 'K' ? 2 ** 10 : 1);
    }
  } catch {
    // no sysfs (another OS, a container without it): the fallback
  }
  return fallback;
}

const roundDown = (x: number, step: number, min: number) => Math.max(min, Math.floor(x / step) * step);

/** kc, mc, nc from the cache sizes; `MIC_GEMM_BLOCKING=kc,mc,nc` overrides (benchmarks). */
export function defaultBlocking(l1 = cacheBytes(1, 32 * 2 ** 10), l2 = cacheBytes(2, 512 * 2 ** 10)): GemmBlocking {
  const forced = process.env.MIC_GEMM_BLOCKING?.split(',').map(Number);
  if (forced && forced.length === 3 && forced.every((x) => Number.isInteger(x) && x > 0)) {
    return { kc: forced[0], mc: roundDown(forced[1], 4, 4), nc: roundDown(forced[2], 8, 8) };
  }
  const kc = roundDown(l1 / 4 / 32, 8, 64);
  return { kc, mc: roundDown(l2 / 4 / (4 * kc), 4, 16), nc: roundDown(l2 / 2 / (4 * kc), 8, 64) };
}

let forcedSimd: GemmSimd | undefined = process.env.MIC_GEMM_SIMD === 'plain' ? 'plain' : undefined;
let detected: GemmSimd | undefined;

/** Tests and benchmarks: force a variant (undefined: the best the runtime validates). Affects later bindings. */
export function setGemmSimd(simd: GemmSimd | undefined): void {
  forcedSimd = simd;
}

function wasmFile(simd: GemmSimd, shared: boolean): URL {
  return new URL(`./gemm${simd === 'relaxed' ? '-relaxed' : ''}${shared ? '-shared' : ''}.wasm`, import.meta.url);
}

/** Whether this runtime runs relaxed SIMD (switching Node 20's flag on if needed). Detected once. */
export function relaxedSimdSupported(): boolean {
  if (detected) return detected === 'relaxed';
  const bytes = fs.readFileSync(wasmFile('relaxed', false));
  let ok = WebAssembly.validate(bytes);
  if (!ok) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      ok = WebAssembly.validate(bytes);
    } catch {
      ok = false;
    }
  }
  detected = ok ? 'relaxed' : 'plain';
  return ok;
}

/** The variant new bindings use. */
export function gemmSimd(): GemmSimd {
  if (forcedSimd) return forcedSimd;
  return relaxedSimdSupported() ? 'relaxed' : 'plain';
}

const modules = new Map<string, WebAssembly.Module>();
function compiled(simd: GemmSimd, shared: boolean): WebAssembly.Module {
  const key = `${simd}/${shared}`;
  let m = modules.get(key);
  if (!m && simd === 'relaxed') assert(relaxedSimdSupported(), 'gemm: this runtime does not run relaxed SIMD');
  if (!m) modules.set(key, (m = new WebAssembly.Module(fs.readFileSync(wasmFile(simd, shared)))));
  return m;
}

/** Job kinds of gemm.wat's record (offset 84). */
const JOB_GEMM = 0;
const JOB_ELEMENTWISE = 1;
const JOB_ROW_SUMS = 2;

/** Element-wise operations of `Gemm.elementwise` (their codes in gemm.wat). */
export type ElementwiseOp = 'add' | 'multiply' | 'relu' | 'step';
const ELEMENTWISE_OPS: Record<ElementwiseOp, number> = { add: 1, multiply: 2, relu: 3, step: 4 };
/** Floats per grab of an element-wise job (128 KiB of output). */
const ELEMENTWISE_CHUNK = 32768;
/** Floats per partial sum of `sumRows` (fixed: the result must not depend on the thread count). */
const ROW_SUM_BLOCK = 16384;
/** Element-wise work is shared out from this many floats on (below, waking the workers costs more than it saves). */
export const PARALLEL_ELEMENTS = 65536;

/** Bit of the job state word: the job takes no more threads. */
const CLOSED = 1 << 30;

/** Kinds of work the pool shares out: a job record of gemm.wat (any kind), or a list of independent heap-kernel calls. */
const JOB_RECORD = 0;
const HEAP_CALLS = 1;

/** Heap kernels (`heap-kernels.wat`) whose calls `Gemm.heapCalls` shares out; the index is the list's code. */
const HEAP_CALLABLE = ['transpose', 'im2col'] as const;
export type HeapCallable = (typeof HEAP_CALLABLE)[number];

/**
 * Worker threads for one shared memory. Control block (Int32): [0] job generation, [1] job record address,
 * [2] job state (CLOSED | threads inside the job), [3] set when a worker failed, [4] kind of work.
 *
 * A worker joins a job only while it is open; the calling thread closes it when it has run out of work itself
 * and waits only for the workers inside. A worker that wakes up late (on a loaded machine, a wake-up can take
 * milliseconds) therefore never holds up a job it had no part in.
 */
class WorkerPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(32));
  private readonly workers: Worker[] = [];

  constructor(
    module: WebAssembly.Module,
    heapModule: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly size: number,
  ) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, heapModule, memory, ctl: this.ctl.buffer, thread: i + 1, CLOSED, HEAP_CALLS, HEAP_CALLABLE },
      });
      // Blocked in Atomics.wait between jobs; must not keep the process alive.
      w.unref();
      this.workers.push(w);
    }
  }

  /**
   * Run the work at `at` (a gemm.wat job record, or a heap-call list) on this thread (`ownShare`) and every
   * worker that joins in time; returns when all are done.
   */
  run(kind: number, at: number, ownShare: () => void): void {
    const ctl = this.ctl;
    ctl[1] = at;
    ctl[4] = kind;
    Atomics.store(ctl, 2, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    ownShare();
    let state = Atomics.or(ctl, 2, CLOSED) | CLOSED;
    for (let spins = 0; state !== CLOSED; spins++) {
      if (spins > 1000) Atomics.wait(ctl, 2, state, 50);
      state = Atomics.load(ctl, 2);
    }
    assert(Atomics.load(ctl, 3) === 0, 'a GEMM worker thread failed');
  }
}

/**
 * Calls of a heap-call list (see `Gemm.heapCalls`; Int32 at `at`: count, next call, kernel code, arguments per
 * call, then the arguments) taken one at a time by every thread on it until none is left.
 */
function runHeapCalls(memory: WebAssembly.Memory, at: number, heap: Record<string, (...args: number[]) => void>): void {
  // `at` passes through Int32 slots: addresses above 2 GiB come back negative.
  const v = new Int32Array(memory.buffer, at >>> 0);
  const fn = heap[HEAP_CALLABLE[v[2]]];
  const nargs = v[3];
  for (;;) {
    const i = Atomics.add(v, 1, 1);
    if (i >= v[0]) break;
    const a = 4 + i * nargs;
    fn(...v.subarray(a, a + nargs));
  }
}

/** The worker: instantiate the modules on the shared memory, then join every job it is woken for while open. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, heapModule, memory, ctl, thread, CLOSED, HEAP_CALLS, HEAP_CALLABLE } = workerData;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports;
const heap = new WebAssembly.Instance(heapModule, { env: { memory } }).exports;
${runHeapCalls.toString()}
const c = new Int32Array(ctl);
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  let state = Atomics.load(c, 2);
  let joined = false;
  while (!(state & CLOSED)) {
    const before = Atomics.compareExchange(c, 2, state, state + 1);
    if (before === state) { joined = true; break; }
    state = before;
  }
  if (!joined) continue;
  try {
    if (c[4] === HEAP_CALLS) runHeapCalls(memory, c[1], heap);
    else gemm.gemmJob(c[1], thread);
  } catch (e) { Atomics.store(c, 3, 1); }
  if (Atomics.sub(c, 2, 1) === (CLOSED | 1)) Atomics.notify(c, 2);
}
`;

/** Our GEMM bound to one backend memory. */
export class Gemm {
  /** Cache blocking; benchmarks may change it. */
  blocking = defaultBlocking();
  /** B is packed from this many rows of A on (fewer: read in place); benchmarks may change it. */
  packFromRows = 128;
  private readonly job: number;
  private zero = 0;
  private zeroFloats = 0;
  private pool: WorkerPool | undefined;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly em: Emscripten,
    private readonly exports: GemmExports,
    readonly simd: GemmSimd,
    readonly threads: number,
    private readonly startPool: () => WorkerPool | undefined,
    /** This memory's heap kernels (`heap-kernels.wat`), for `heapCalls` on this thread. */
    private readonly heap_: HeapKernels,
  ) {
    this.job = this.malloc(128);
  }

  /** Address of at least `floats` zeros (the padding row of convolutions). */
  private zeros(floats: number): number {
    if (floats > this.zeroFloats) {
      if (this.zero) this.em._free(this.zero);
      this.zeroFloats = Math.max(floats, 1024);
      this.zero = this.malloc(this.zeroFloats * 4);
      new Float32Array(this.heap(), this.zero, this.zeroFloats).fill(0);
    }
    return this.zero;
  }

  private heap(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /** emscripten's malloc (addresses above 2 GiB come back negative). */
  private malloc(bytes: number): number {
    const at = this.em._malloc(bytes) >>> 0;
    assert(at !== 0, `gemm: out of wasm memory for ${bytes} bytes`);
    return at;
  }

  /**
   * C[m, n] = A[m, k] · B[k, n] (+ C if `accumulate`) (+ bias[n]) (ReLU if `relu`); row-major, leading
   * dimensions in floats, addresses in bytes.
   */
  matmul(
    a: number,
    lda: number,
    m: number,
    k: number,
    b: number,
    ldb: number,
    n: number,
    c: number,
    ldc: number,
    opts: { bias?: number; relu?: boolean; accumulate?: boolean } = {},
  ): void {
    if (m === 0 || n === 0) return;
    const ind = this.malloc(m * 4);
    try {
      this.exports.rowIndirection(a, lda * 4, m, ind);
      this.run(ind, 1, k, m, n, b, ldb, c, ldc, opts);
    } finally {
      this.em._free(ind);
    }
  }

  /**
   * NHWC convolution y[N·outH·outW, cout] = conv(x, filter) (+ bias, ReLU), implicit im2col. x: [n, h, w, c] at
   * `x`; filter [kh, kw, c, cout] at `filter`; output position (i, j) meets input row offH + i·sH + ti, column
   * offW + j·sW + tj at tap (ti, tj), zero outside. When every window lies inside x (no padding: callers pad
   * x first where the GEMM pays for it), a filter row's kw taps are one contiguous segment of kw·c floats.
   */
  conv(g: ConvGeometry, x: number, filter: number, y: number, opts: { bias?: number; relu?: boolean; accumulate?: boolean } = {}): void {
    const m = g.n * g.outH * g.outW;
    if (m === 0 || g.cout === 0) return;
    const inside = g.offH >= 0 && g.offW >= 0 && g.offH + (g.outH - 1) * g.sH + g.kh <= g.h && g.offW + (g.outW - 1) * g.sW + g.kw <= g.w;
    const [taps, ch, kwInd] = inside ? [g.kh, g.kw * g.c, 1] : [g.kh * g.kw, g.c, g.kw];
    const ind = this.malloc(m * taps * 4);
    try {
      const zero = inside ? 0 : this.zeros(g.c);
      this.exports.convIndirection(x, g.n, g.h, g.w, g.c, g.kh, kwInd, g.offH, g.offW, g.sH, g.sW, g.outH, g.outW, zero, ind);
      this.run(ind, taps, ch, m, g.cout, filter, g.cout, y, g.cout, opts);
    } finally {
      this.em._free(ind);
    }
  }

  /**
   * out[i] = op(a[i], b[i]) for i < n, or op(a[i], b[i mod rowOfB]) (byte addresses; `b` unused by 'relu' and
   * 'step'), shared out over the
   * threads. Each value is computed as the cpu backend computes it, so neither this kernel nor the thread
   * count changes a bit of the result.
   */
  elementwise(op: ElementwiseOp, a: number, b: number, out: number, n: number, opts: { rowOfB?: number } = {}): void {
    if (n <= 0) return;
    // `rowOfB`: b is one row of that many floats, broadcast over a's rows; a job's chunks are then whole rows.
    const inner = opts.rowOfB ?? 0;
    assert(inner === 0 || n % inner === 0, 'gemm elementwise: a is not whole rows of b');
    const chunk = inner ? inner * Math.max(1, Math.floor(ELEMENTWISE_CHUNK / inner)) : ELEMENTWISE_CHUNK;
    this.writeJob(JOB_ELEMENTWISE, [a, b, out, n, ELEMENTWISE_OPS[op], chunk, inner]);
    this.runJob(n >= PARALLEL_ELEMENTS);
  }

  /**
   * Σ over the rows of x [rows, inner] (byte address), in float64: partial sums of fixed blocks of rows in
   * float32 (shared out over the threads), added up here in a fixed order, so the thread count does not
   * change the result.
   */
  sumRows(x: number, rows: number, inner: number): Float64Array {
    const acc = new Float64Array(inner);
    if (rows <= 0 || inner <= 0) return acc;
    const rpc = Math.max(8, Math.ceil(ROW_SUM_BLOCK / inner));
    const blocks = Math.ceil(rows / rpc);
    const partials = this.malloc(blocks * inner * 4);
    try {
      this.writeJob(JOB_ROW_SUMS, [x, rows, inner, partials, rpc]);
      this.runJob(rows * inner >= PARALLEL_ELEMENTS);
      const p = new Float32Array(this.heap(), partials, blocks * inner);
      for (let c = 0; c < blocks; c++) {
        const at = c * inner;
        for (let j = 0; j < inner; j++) acc[j] += p[at + j];
      }
    } finally {
      this.em._free(partials);
    }
    return acc;
  }

  /** The job record: `fields` from offset 0, zeros after them (counters included), the kind at offset 84. */
  private writeJob(kind: number, fields: number[]): void {
    const rec = new Int32Array(this.heap(), this.job, 22);
    rec.fill(0);
    rec.set(fields);
    rec[21] = kind;
  }

  /** Run the job record on every thread (when `parallel` and there are workers) or on this one. */
  private runJob(parallel: boolean): void {
    const pool = parallel && this.threads > 1 ? (this.pool ??= this.startPool()) : undefined;
    if (pool) pool.run(JOB_RECORD, this.job, () => this.exports.gemmJob(this.job, 0));
    else this.exports.gemmJob(this.job, 0);
  }

  /**
   * Independent calls of a heap kernel (each an argument list; no two may write the same memory), shared out
   * over the threads one call at a time; in order on this thread where there are no workers.
   */
  heapCalls(fn: HeapCallable, calls: number[][]): void {
    if (calls.length === 0) return;
    const pool = this.threads > 1 && calls.length > 1 ? (this.pool ??= this.startPool()) : undefined;
    const heap = this.heap_ as unknown as Record<string, (...args: number[]) => void>;
    if (!pool) {
      for (const args of calls) heap[fn](...args);
      return;
    }
    const nargs = calls[0].length;
    const at = this.malloc((4 + calls.length * nargs) * 4);
    try {
      const v = new Int32Array(this.heap(), at, 4 + calls.length * nargs);
      v.set([calls.length, 0, HEAP_CALLABLE.indexOf(fn), nargs]);
      calls.forEach((args, i) => {
        assert(args.length === nargs, 'heapCalls: every call takes the same arguments');
        v.set(args, 4 + i * nargs);
      });
      pool.run(HEAP_CALLS, at, () => runHeapCalls(this.memory, at, heap));
    } finally {
      this.em._free(at);
    }
  }

  private run(
    ind: number,
    taps: number,
    ch: number,
    m: number,
    n: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    opts: { bias?: number; relu?: boolean; accumulate?: boolean },
  ): void {
    const k = taps * ch;
    assert(k > 0, 'gemm: empty inner dimension');
    const panels = m < this.packFromRows ? 1 : Math.ceil(n / 8);
    let { mc, nc } = this.blocking;
    const kc = this.blocking.kc;
    const aBytes = mc * kc * 4 + 128;
    const packed = this.malloc(panels * k * 32 + this.threads * aBytes);
    try {
      const flops = 2 * m * n * k;
      const parallel = this.threads > 1 && flops >= 4e6;
      // Enough chunks for every thread to get several (the last ones even out the load).
      if (parallel) {
        const chunks = () => Math.ceil(m / mc) * Math.ceil(n / nc);
        while (chunks() < 4 * this.threads && (mc > 16 || nc > 16)) {
          if (mc >= nc && mc > 16) mc = Math.max(16, roundDown(mc / 2, 4, 4));
          else nc = Math.max(16, roundDown(nc / 2, 8, 8));
        }
      }
      // Chunks of even size (392 rows in 128s would leave a last chunk of 8 rows, and a thread idle at the end).
      mc = Math.min(mc, Math.ceil(m / Math.ceil(m / mc) / 4) * 4);
      nc = Math.min(nc, Math.ceil(n / Math.ceil(n / nc) / 8) * 8);
      // Packing B pays where many row tiles reuse each panel; for a few rows, B is read where it is.
      const inPlace = m < this.packFromRows;
      this.writeJob(JOB_GEMM, [
        ind,
        taps,
        ch,
        m,
        n,
        b,
        ldb * 4,
        packed,
        c,
        ldc * 4,
        opts.bias ?? 0,
        (opts.accumulate ? 1 : 0) | (opts.bias ? 2 : 0) | (opts.relu ? 4 : 0) | (inPlace ? 8 : 0),
        kc,
        mc,
        nc,
        0,
        0,
        0,
        packed + panels * k * 32,
        aBytes,
        aBytes - 128,
      ]);
      this.runJob(parallel);
    } finally {
      this.em._free(packed);
    }
  }
}

const bound = new WeakMap<WebAssembly.Memory, Map<string, Gemm>>();
let threadCount = 1;

/** Threads the GEMM uses on a shared memory (the wasm backend's thread count); set by select.ts. */
export function setGemmThreads(threads: number): void {
  threadCount = Math.max(1, Math.floor(threads));
}

/**
 * Our GEMM on `backend`'s memory, or null where that memory cannot be found. `threads` (tests, benchmarks)
 * defaults to the backend's thread count; a memory that is not shared always gets one.
 */
export function gemmFor(backend: BackendWasm, simd: GemmSimd = gemmSimd(), threads = threadCount): Gemm | null {
  const memory = backendMemory(backend);
  if (!memory) return null;
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const n = shared ? Math.max(1, Math.floor(threads)) : 1;
  let byVariant = bound.get(memory);
  if (!byVariant) bound.set(memory, (byVariant = new Map()));
  const key = `${simd}/${n}`;
  let g = byVariant.get(key);
  if (!g) {
    const module = compiled(simd, shared);
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
    const em = backend.wasm as unknown as Emscripten;
    const heap = heapKernels(backend)!.kernels;
    g = new Gemm(memory, em, exports, simd, n, () => (n > 1 ? new WorkerPool(module, heapKernelsModule(shared), memory, n - 1) : undefined), heap);
    byVariant.set(key, g);
  }
  return g;
}

/** One line for logs and Parameter_Info: variant, threads, blocking. */
export function describeGemm(g: Gemm): string {
  const simd = g.simd === 'relaxed' ? 'relaxed-SIMD FMA' : 'SIMD128 mul+add';
  const { kc, mc, nc } = g.blocking;
  return `ours (${simd}, 4x8 micro-kernel, kc ${kc} mc ${mc} nc ${nc}, ${g.threads} thread${g.threads > 1 ? 's' : ''})`;
}
