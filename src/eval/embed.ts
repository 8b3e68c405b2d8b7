// Port of: the original's `eval_metrics_*` feature-extraction loops (docs/porting.md#evaluation) and `deepcluster` embedding (docs/porting.md#mic-reclustering)
/**
 * Embedding extraction: forward every batch of a split (eval transform, frozen BN) and write one head's
 * output into a single preallocated Float32Array [size, dim] — no per-batch arrays kept, no concatenation
 * (docs/engine.md#memory-model: SOP/VehicleID feature sets are hundreds of MB to GBs).
 */
import * as tf from '@tensorflow/tfjs';
import { assert } from '../errors.ts';
import type { EmbeddingModel } from '../models/types.ts';

/**
 * What to extract per image: a head index into `ForwardOutput.embeds` (0 = Class, 1 = Shared; each already
 * L2-normalised), 'pooled' for the backbone's pooled feature, or any function of the model and the image
 * batch returning [batch, dim] (e.g. MIC's pooled layer1 features).
 */
export type FeatureSource = number | 'pooled' | ((model: EmbeddingModel, images: tf.Tensor4D) => tf.Tensor2D);

export interface EmbedOptions {
  /** Overrides `head` when given. */
  features?: FeatureSource;
  /** Called after each batch with the number of rows written so far. */
  onProgress?: (done: number, size: number) => void;
}

/**
 * Embed `size` images arriving in `batches` ({images: [n, side, side, 3] NHWC float32, n}) in order.
 * @param head head index when `opts.features` is absent (default 0 = the Class embedding used for testing)
 * @returns [size, dim] row-major
 */
export async function embedAll(
  model: EmbeddingModel,
  batches: AsyncIterable<{ images: Float32Array; n: number }>,
  size: number,
  head = 0,
  opts: EmbedOptions = {},
): Promise<Float32Array> {
  const source: FeatureSource = opts.features ?? head;
  let out: Float32Array | null = null;
  let dim = 0;
  let done = 0;
  for await (const batch of batches) {
    const { n } = batch;
    if (n === 0) continue;
    assert(done + n <= size, `embedAll: batches hold more than the expected ${size} images`);
    const side = Math.round(Math.sqrt(batch.images.length / (n * 3)));
    assert(side * side * 3 * n === batch.images.length, `embedAll: a batch of ${n} images holds ${batch.images.length} values, not n×side×side×3`);
    const feats = tf.tidy(() => extract(model, tf.tensor4d(batch.images, [n, side, side, 3]), source));
    const values = (await feats.data()) as Float32Array;
    if (out === null) {
      dim = feats.shape[1];
      out = new Float32Array(size * dim);
    }
    feats.dispose();
    assert(values.length === n * dim, `embedAll: features of width ${values.length / n} after width ${dim}`);
    out.set(values, done * dim);
    done += n;
    opts.onProgress?.(done, size);
  }
  assert(done === size, `embedAll: got ${done} images, expected ${size}`);
  return out ?? new Float32Array(0);
}

function extract(model: EmbeddingModel, images: tf.Tensor4D, source: FeatureSource): tf.Tensor2D {
  if (typeof source === 'function') return source(model, images);
  const out = model.forward(images);
  if (source === 'pooled') return out.pooled;
  assert(Number.isInteger(source) && source >= 0 && source < out.embeds.length, `embedAll: no head ${source} (model has ${out.embeds.length})`);
  return out.embeds[source];
}
