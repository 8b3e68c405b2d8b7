/**
 * Where images are decoded. Two interchangeable decoders run the same `runDecodeJob` (same pixels):
 *
 * - `WorkerDecoder` (default): N worker threads. Every job of a batch is posted as soon as the batch is
 *   requested, so the workers keep decoding while the main thread is busy inside a long synchronous tfjs
 *   step; the main thread only posts jobs and copies results in.
 * - `InProcessDecoder`: sharp called from the main thread, at most `concurrency` images in flight. The pixel
 *   work runs on libuv's pool, but each next image is only started when the main thread's event loop gets
 *   a turn, and sharp's per-call set-up and the normalisation (~1 ms per image) run on the main thread.
 *
 * Pixel work of both runs on libuv's thread pool, which is process-wide: at most UV_THREADPOOL_SIZE
 * (default 4) images are in libvips at once whatever the number of workers.
 *
 * sharp is imported here, on the main thread, before any worker starts: with glibc its shared libraries must
 * stay loaded when a worker exits (sharp issue #2263). `scripts/bench-data.ts` measures both decoders.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { InternalError, assert } from '../errors.ts';
import type { InputConvention } from './image-convention.ts';
import { drawnCropPlan, evalPlan, ImageDecodeError, loadImage } from './images.ts';
import { trainParamsFromRandoms, type CropStyle } from './transforms.ts';

/** One image to decode into [size, size, 3] normalised floats. */
export interface DecodeJob {
  path: string;
  size: number;
  conv: InputConvention;
  /** Train transform: the image's pre-drawn uniforms (`drawTrainRandoms`); absent = eval transform. */
  randoms?: Float64Array;
  /** Train transform: apply the flip decision in `randoms`. */
  flip: boolean;
  /** Train transform: which RandomResizedCrop `randoms` were drawn for (default 'torchvision'). */
  cropStyle?: CropStyle;
}

/**
 * Decode one job into `out` at `offset`, in whatever thread this runs: once the image's size is known the
 * pre-drawn uniforms become the crop box. Rejects with `ImageDecodeError`.
 */
export function runDecodeJob(job: DecodeJob, out?: Float32Array, offset = 0): Promise<Float32Array> {
  const { randoms, flip, cropStyle } = job;
  const plan = randoms ? drawnCropPlan(job.size, (w, h) => trainParamsFromRandoms(randoms, w, h, flip, undefined, cropStyle)) : evalPlan(job.size);
  return loadImage(job.path, job.size, job.conv, plan, out, offset);
}

/** Decodes jobs into a batch buffer. */
export interface ImageDecoder {
  /** Decode `job` into `out` at `offset`. Rejects with `ImageDecodeError` for a bad file. */
  decode(job: DecodeJob, out: Float32Array, offset: number): Promise<void>;
  /** Batch buffers on a SharedArrayBuffer let this decoder write pixels in place (no copy, no transfer). */
  readonly prefersSharedOutput: boolean;
}

/** A batch buffer of `length` floats, on shared memory when the decoder prefers it. */
export function batchBuffer(decoder: ImageDecoder, length: number): Float32Array {
  return decoder.prefersSharedOutput ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
}

/** A counting semaphore: at most `limit` tasks run at once, started in call order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** sharp on the main thread, at most `concurrency` images in flight. */
export class InProcessDecoder implements ImageDecoder {
  readonly prefersSharedOutput = false;
  private readonly limiter: Limiter;
  constructor(concurrency: number) {
    this.limiter = new Limiter(concurrency);
  }
  async decode(job: DecodeJob, out: Float32Array, offset: number): Promise<void> {
    await this.limiter.run(() => runDecodeJob(job, out, offset));
  }
}

/** Message to a decode worker; with `shared`, the worker writes the pixels there at float `offset`. */
export interface WorkerRequest {
  id: number;
  job: DecodeJob;
  shared?: SharedArrayBuffer;
  offset?: number;
}

/** Message back from a decode worker: pixels (not shared), done (written in place) or an error. */
export type WorkerReply =
  { id: number; pixels: Float32Array } | { id: number; written: true } | { id: number; decodeError: string } | { id: number; internalError: string };

interface Pending {
  path: string;
  out: Float32Array;
  offset: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

/** Start one decode worker running `decode-worker.ts` (through tsx when running from TypeScript sources). */
function startWorker(): Worker {
  if (import.meta.url.endsWith('.ts')) {
    // Worker threads do not inherit tsx's module hooks: register them inside the worker first.
    const target = new URL('./decode-worker.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
    return new Worker(boot, { eval: true });
  }
  return new Worker(new URL('./decode-worker.js', import.meta.url));
}

/**
 * `nWorkers` worker threads (started on first use); each job goes at once to the worker with the fewest
 * jobs outstanding. Idle workers do not keep the process alive.
 */
export class WorkerDecoder implements ImageDecoder {
  readonly prefersSharedOutput = true;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly nWorkers: number) {
    assert(Number.isInteger(nWorkers) && nWorkers >= 1, `WorkerDecoder: nWorkers must be a positive integer, got ${nWorkers}`);
  }

  decode(job: DecodeJob, out: Float32Array, offset: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { path: job.path, out, offset, resolve, reject });
      const slot = this.leastBusy();
      slot.inFlight++;
      slot.worker.ref(); // keep the process alive while a reply is owed
      const request: WorkerRequest =
        out.buffer instanceof SharedArrayBuffer ? { id, job, shared: out.buffer, offset: out.byteOffset / 4 + offset } : { id, job };
      slot.worker.postMessage(request);
    });
  }

  /**
   * Stop the workers once the jobs already posted are done. (Terminating a worker inside a libvips call can
   * bring the process down, hence the wait.) The next `decode` starts new ones.
   */
  async close(): Promise<void> {
    while (this.pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private leastBusy(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.inFlight < best.inFlight) best = s;
    if ((!best || best.inFlight > 0) && this.slots.length < this.nWorkers) return this.addWorker();
    return best!;
  }

  private addWorker(): Slot {
    const slot: Slot = { worker: startWorker(), inFlight: 0 };
    slot.worker.unref();
    slot.worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    slot.worker.on('error', (e) => this.onWorkerDied(slot, e));
    slot.worker.on('exit', (code) => this.onWorkerDied(slot, new Error(`exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    slot.inFlight--;
    if (slot.inFlight === 0) slot.worker.unref();
    const p = this.pending.get(reply.id);
    assert(p, `decode worker replied to unknown job ${reply.id}`);
    this.pending.delete(reply.id);
    if ('written' in reply) {
      p.resolve();
    } else if ('pixels' in reply) {
      p.out.set(reply.pixels, p.offset);
      p.resolve();
    } else if ('decodeError' in reply) {
      p.reject(new ImageDecodeError(p.path, reply.decodeError));
    } else {
      p.reject(new InternalError(`decode worker failed on '${p.path}': ${reply.internalError}`));
    }
  }

  private onWorkerDied(slot: Slot, e: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // terminated by close()
    this.slots.splice(i, 1);
    // Jobs are not tracked per worker, and a dying worker is a bug: fail everything loudly.
    for (const p of this.pending.values()) p.reject(new InternalError(`decode worker died: ${e.message}`));
    this.pending.clear();
  }
}

const sharedWorkerDecoders = new Map<number, WorkerDecoder>();

/** The process-wide `WorkerDecoder` with `nWorkers` threads (started lazily, reused by every loader). */
export function sharedWorkerDecoder(nWorkers: number): WorkerDecoder {
  let d = sharedWorkerDecoders.get(nWorkers);
  if (!d) sharedWorkerDecoders.set(nWorkers, (d = new WorkerDecoder(nWorkers)));
  return d;
}

/** Worker threads for `--kernels N`: N, but no more than the machine's cores. */
export function workerCountFor(concurrency: number): number {
  return Math.max(1, Math.min(concurrency, os.availableParallelism()));
}

/** Stop every shared decode worker (end of run, tests). */
export async function closeSharedDecoders(): Promise<void> {
  const all = [...sharedWorkerDecoders.values()];
  sharedWorkerDecoders.clear();
  await Promise.all(all.map((d) => d.close()));
}
