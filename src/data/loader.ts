// Port of: the torch DataLoader set-up of main.py / datasets.py (docs/porting.md#transforms, docs/porting.md#bad-images)
/**
 * Batch loading with prefetch. `concurrency` images decode in parallel (in worker threads, or as sharp
 * calls from this thread: see `decode-pool.ts`) while the main thread trains; up to `prefetch` batches
 * are kept ready (bounded memory: (prefetch + 1) × bs × size² × 3 floats).
 *
 * Determinism: each training image's augmentation uniforms (crop box, flip: `drawTrainRandoms`, a fixed
 * count per image) are drawn on the calling thread, synchronously, when its batch is requested, in batch
 * and slot order; the decoding thread turns them into a crop box once it knows the image size. So batches
 * are identical for any concurrency, decoder or timing.
 *
 * A file that cannot be decoded is warned about once (with its path), counted in `loaderStats()`, and
 * never tried again: in a training batch its slot takes the next image of the same group (class, or the
 * `replacementLabels` given, e.g. clusters) with the same uniforms, and a group with no decodable image left
 * is an error (never a black image to train on); in evaluation batches the slot keeps its position and holds
 * zeros, reported in the batch's `failed` so the consumer can leave it out.
 */
import { assert, UserError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import type { InputConvention } from './image-convention.ts';
import { batchBuffer, InProcessDecoder, sharedWorkerDecoder, workerCountFor, type DecodeJob, type ImageDecoder } from './decode-pool.ts';
import { ImageDecodeError } from './images.ts';
import type { ManifestItem } from './manifest.ts';
import type { BatchSpec } from './samplers.ts';
import { drawTrainRandoms, type CropStyle } from './transforms.ts';
import { dataWarnOnce } from './warnings.ts';

/** One loaded batch. */
export interface LoadedBatch {
  /** [n, size, size, 3] normalised pixels (NHWC). */
  images: Float32Array;
  /** [n] slot labels (from the BatchSpec; for evaluation, -1). */
  labels: Int32Array;
  /** [n] item indices actually loaded (a replacement's index where a file failed). */
  indices: Int32Array;
  /** Number of images. */
  n: number;
  /** Positions within this batch that hold a zero image because no decodable image was found. */
  failed: number[];
}

/** Counters for the run summary. */
export interface LoaderStats {
  /** Distinct files that failed to decode. */
  failedFiles: number;
  /** Their paths (first 100). */
  failedPaths: string[];
  /** Training slots filled with another image of the same group. */
  replaced: number;
}

/** Undecodable files seen in this process, with the reason. */
const badPaths = new Map<string, string>();
const stats = { replaced: 0 };

/** Decode failures so far in this process (for the run summary). */
export function loaderStats(): LoaderStats {
  return { failedFiles: badPaths.size, failedPaths: [...badPaths.keys()].slice(0, 100), replaced: stats.replaced };
}

/** Every undecodable file seen so far and why, in the order they were met. */
export function decodeFailures(): { path: string; reason: string }[] {
  return [...badPaths].map(([path, reason]) => ({ path, reason }));
}

/** Why `path` could not be decoded, or undefined when it has not failed. */
export function decodeFailure(path: string): string | undefined {
  return badPaths.get(path);
}

/** Forget failures and counters (tests). */
export function resetLoaderStats(): void {
  badPaths.clear();
  stats.replaced = 0;
}

function recordFailure(e: unknown, path: string, quiet: boolean): void {
  if (!(e instanceof ImageDecodeError)) throw e;
  badPaths.set(path, e.reason.split('\n')[0]);
  if (!quiet) dataWarnOnce(`decode:${path}`, `${e.message}; skipped`);
}

/** Which transform a `BatchLoader` applies. */
export interface BatchLoaderMode {
  /** true: RandomResizedCrop (+ flip); false: the eval transform. */
  train: boolean;
  /** Horizontal flip p = 0.5 (Class task: true; Shared task: false, docs/porting.md#transforms). Only with train. */
  flip: boolean;
  /** Which torchvision's RandomResizedCrop (`--crop-style`; default 'torchvision'). Only with train. */
  cropStyle?: CropStyle;
}

/** Which decoder runs sharp (see `decode-pool.ts`); default 'workers'. */
export type DecoderChoice = 'in-process' | 'workers' | ImageDecoder;

/** The decoder for a choice and concurrency: worker threads (shared by all loaders) or sharp on this thread. */
export function makeDecoder(choice: DecoderChoice | undefined, concurrency: number): ImageDecoder {
  if (typeof choice === 'object') return choice;
  return choice === 'in-process' ? new InProcessDecoder(concurrency) : sharedWorkerDecoder(workerCountFor(concurrency));
}

export interface BatchLoaderOptions {
  /** Batches kept ready ahead of the consumer (default 2). */
  prefetch?: number;
  /** Where images are decoded (default: worker threads, min(concurrency, cores) of them). */
  decoder?: DecoderChoice;
  /** Per-item group used to replace an undecodable image (default: the items' labels). */
  replacementLabels?: Int32Array;
  /**
   * Reuse batch buffers: a yielded batch's `images` are overwritten once the consumer asks for the batch
   * after it, so only for consumers that are done with each batch within their loop iteration (training
   * steps, embedding passes). Fresh buffers cost a page fault per 4 KiB on first write, which on a 2-core VM
   * took 12–20 % of the decoders' throughput.
   */
  recycle?: boolean;
  /** Record undecodable files without a warning each (the caller lists them itself). */
  quiet?: boolean;
}

/**
 * Loads the given batches in order as an async iterator, prefetching ahead.
 * `items[i]` is the item of index i in the BatchSpecs (the training items the sampler was built on).
 */
export class BatchLoader implements AsyncIterable<LoadedBatch> {
  private readonly decoder: ImageDecoder;
  private readonly prefetch: number;
  private readonly recycle: boolean;
  private readonly quiet: boolean;
  /** Buffers of batches the consumer has finished with (`recycle`). */
  private readonly spare: Float32Array[] = [];
  private readonly groupLabels: Int32Array;
  private groups: Map<number, Int32Array> | undefined;

  /**
   * @param items the items the BatchSpec indices refer to.
   * @param batches the epoch's batches (from a sampler).
   * @param size crop size in pixels.
   * @param conv the backbone's input convention.
   * @param mode train/eval transform and flip.
   * @param rng the augmentation stream (e.g. `rngFor(seed, 'augment.class')`); null for eval.
   * @param concurrency `--kernels`: decode worker threads (capped at the core count), or sharp calls in flight.
   */
  constructor(
    private readonly items: ManifestItem[],
    private readonly batches: BatchSpec[],
    private readonly size: number,
    private readonly conv: InputConvention,
    private readonly mode: BatchLoaderMode,
    private readonly rng: Rng | null,
    concurrency: number,
    opts: BatchLoaderOptions = {},
  ) {
    assert(Number.isInteger(concurrency) && concurrency >= 1, `BatchLoader: concurrency must be a positive integer, got ${concurrency}`);
    this.decoder = makeDecoder(opts.decoder, concurrency);
    this.prefetch = Math.max(1, opts.prefetch ?? 2);
    this.recycle = opts.recycle ?? false;
    this.quiet = opts.quiet ?? false;
    this.groupLabels = opts.replacementLabels ?? Int32Array.from(items, (it) => it.label);
    assert(this.groupLabels.length === items.length, 'BatchLoader: replacementLabels must have one label per item');
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LoadedBatch> {
    const pending: Promise<LoadedBatch>[] = [];
    let next = 0;
    const topUp = () => {
      while (pending.length < this.prefetch && next < this.batches.length) {
        const p = this.loadBatch(this.batches[next++]);
        // A consumer that stops early leaves batches in flight; their errors must not crash the process.
        p.catch(() => undefined);
        pending.push(p);
      }
    };
    topUp();
    while (pending.length > 0) {
      const batch = await pending.shift()!;
      topUp();
      yield batch;
      // The consumer has asked for the next batch: it is done with this one.
      if (this.recycle) this.spare.push(batch.images);
    }
  }

  /** Start loading one batch. Synchronous up to the decode calls, so draws happen in call (= batch) order. */
  private async loadBatch(spec: BatchSpec): Promise<LoadedBatch> {
    const n = spec.indices.length;
    const px = this.size * this.size * 3;
    const reuse = this.spare.findIndex((b) => b.length === n * px);
    const images = reuse >= 0 ? this.spare.splice(reuse, 1)[0] : batchBuffer(this.decoder, n * px);
    const indices = Int32Array.from(spec.indices);
    const failed: number[] = [];
    let randoms: Float64Array[] | null = null;
    if (this.mode.train) {
      const rng = this.rng;
      assert(rng, 'BatchLoader: an Rng is required in train mode');
      randoms = Array.from(indices, () => drawTrainRandoms(rng, this.mode.cropStyle));
    }
    await Promise.all(
      Array.from(indices, async (idx, slot) => {
        const job = (i: number): DecodeJob => ({
          path: this.items[i].path,
          size: this.size,
          conv: this.conv,
          randoms: randoms?.[slot],
          flip: this.mode.flip,
          cropStyle: this.mode.cropStyle,
        });
        if (await this.tryDecode(job(idx), images, slot * px)) return;
        // Training: the next decodable image of the same group takes the slot, with the same uniforms.
        for (let r = randoms ? this.nextInGroup(idx, idx) : -1; r >= 0; r = this.nextInGroup(r, idx)) {
          if (await this.tryDecode(job(r), images, slot * px)) {
            indices[slot] = r;
            stats.replaced++;
            return;
          }
        }
        if (randoms) {
          // Training on a black image would be silent garbage; the run's image check makes this unreachable
          // unless files break while it runs.
          throw new UserError(
            `'${this.items[idx].path}' and every other image of its ${this.mode.flip ? 'class' : 'cluster'} cannot be decoded (${badPaths.get(this.items[idx].path) ?? 'unreadable'}); fix or remove these files`,
          );
        }
        images.fill(0, slot * px, (slot + 1) * px); // a reused buffer holds an older image here
        failed.push(slot);
      }),
    );
    return { images, labels: Int32Array.from(spec.labels), indices, n, failed: failed.sort((a, b) => a - b) };
  }

  /** Decode one job into `out`; false (failure recorded, warned once) if the file cannot be decoded. */
  private async tryDecode(job: DecodeJob, out: Float32Array, offset: number): Promise<boolean> {
    if (badPaths.has(job.path)) return false;
    try {
      await this.decoder.decode(job, out, offset);
      return true;
    } catch (e) {
      recordFailure(e, job.path, this.quiet);
      return false;
    }
  }

  /**
   * The item after `from` (cyclically, in item order) in the group of `origin` that is not known to be bad;
   * -1 once the search has come back round to `origin`.
   */
  private nextInGroup(from: number, origin: number): number {
    if (!this.groups) {
      const buckets = new Map<number, number[]>();
      this.groupLabels.forEach((l, i) => {
        let b = buckets.get(l);
        if (!b) buckets.set(l, (b = []));
        b.push(i);
      });
      this.groups = new Map([...buckets].map(([l, b]) => [l, Int32Array.from(b)]));
    }
    const members = this.groups.get(this.groupLabels[origin])!;
    const start = members.indexOf(from);
    for (let k = 1; k < members.length; k++) {
      const candidate = members[(start + k) % members.length];
      if (candidate === origin) return -1;
      if (!badPaths.has(this.items[candidate].path)) return candidate;
    }
    return -1;
  }
}

/** One evaluation batch: images of consecutive paths. */
export interface EvalBatch {
  /** [n, size, size, 3] normalised pixels (NHWC). */
  images: Float32Array;
  /** Number of images (bs, or fewer for the last batch). */
  n: number;
  /** Index of this batch's first image in `paths`. */
  start: number;
  /** Indices into `paths` of images that could not be decoded (their slots hold zeros). */
  failed: number[];
}

/**
 * Evaluation / clustering batches: `paths` in order, `bs` at a time (last batch smaller, no drop), eval
 * transform, no augmentation. An undecodable file keeps its slot as a zero image (so embeddings stay
 * aligned with the manifest) and is reported in `failed` and `loaderStats()`.
 */
export async function* evalBatches(
  paths: string[],
  bs: number,
  size: number,
  conv: InputConvention,
  opts: { concurrency?: number; prefetch?: number; decoder?: DecoderChoice; recycle?: boolean; quiet?: boolean } = {},
): AsyncGenerator<EvalBatch> {
  assert(Number.isInteger(bs) && bs >= 1, `evalBatches: bs must be a positive integer, got ${bs}`);
  const items = paths.map((path) => ({ path, label: -1, split: 'test' as const }));
  const specs: BatchSpec[] = [];
  for (let start = 0; start < paths.length; start += bs) {
    const indices = new Int32Array(Math.min(bs, paths.length - start)).map((_, k) => start + k);
    specs.push({ indices, labels: new Int32Array(indices.length).fill(-1) });
  }
  const loader = new BatchLoader(items, specs, size, conv, { train: false, flip: false }, null, opts.concurrency ?? 2, {
    prefetch: opts.prefetch,
    decoder: opts.decoder,
    replacementLabels: new Int32Array(paths.length),
    recycle: opts.recycle,
    quiet: opts.quiet,
  });
  let b = 0;
  for await (const batch of loader) {
    const start = b++ * bs;
    yield { images: batch.images, n: batch.n, start, failed: batch.failed.map((slot) => start + slot) };
  }
}
