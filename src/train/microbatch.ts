/**
 * Exact large-batch gradients in bounded memory: micro-batching with embedding-gradient caching.
 *
 * With frozen BatchNorm (docs/porting.md#frozen-bn) and no dropout, images influence each other only through the loss
 * (mining and the loss need every embedding of the batch). So the full-batch gradient splits exactly:
 *
 *   ∂L/∂θ = Σ_i (∂e_i/∂θ)ᵀ · ∂L/∂e_i
 *
 * 1. embed the batch micro-batch by micro-batch without a gradient tape (activations are freed at once),
 * 2. compute L and G = ∂L/∂e on the full batch (plus ∂L/∂(loss parameters), e.g. the margin loss's β),
 * 3. per micro-batch, re-run the forward pass under a tape and back-propagate G's rows (the vector-Jacobian
 *    product, as the gradient of Σ e·G with G constant), accumulating the network gradients.
 *
 * Cost: one extra forward pass; peak activation memory: one micro-batch. With `microBs ≥ batch` it is a
 * plain single-pass `tf.variableGrads` (no recomputation).
 */
import * as tf from '@tensorflow/tfjs';
import { assert, UserError } from '../errors.ts';

export interface MicrobatchGradientOptions {
  /** Images [B, H, W, C], already normalised. Not disposed. */
  images: tf.Tensor4D;
  /** Images per micro-batch (≥ 1). ≥ B means a single ordinary pass. */
  microBs: number;
  /**
   * Network forward pass for `images` (one micro-batch): the embeddings the loss needs, one [b, d_h] tensor
   * per head. Must be deterministic — it runs twice per image — so frozen BN and no dropout (or a dropout
   * mask seeded by `microIndex`).
   */
  forward: (images: tf.Tensor4D, microIndex: number) => tf.Tensor[];
  /** The loss on the full batch's embeddings (each [B, d_h]), including mining; returns a scalar. */
  loss: (embeds: tf.Tensor[]) => tf.Scalar;
  /** Network variables (their gradients are accumulated over micro-batches). Unique names. */
  netVars: tf.Variable[];
  /** Variables of the loss itself (β, proxies); their gradients come from step 2. */
  lossVars?: tf.Variable[];
}

export interface MicrobatchGradients {
  /** The full-batch loss L. */
  loss: number;
  /** ∂L/∂v keyed by `variable.name`, for every trainable variable that received a gradient. Caller disposes. */
  grads: Map<string, tf.Tensor>;
}

/**
 * wasm heap use of a ResNet50 train step (frozen BN, tfjs-backend-wasm 4.22 with our kernels), measured at
 * 224 px: 1.2 GB at batch 2, 2.0 GB at 4, 2.4 GB at 6, 3.3 GB at 8 — about 0.33 GB per image (tape
 * activations and gradient temporaries) on top of ~0.7 GB (weights, Adam moments, gradients). GoogLeNet and
 * BN-Inception need less per image, so these figures are a safe upper bound for them.
 */
const RESNET50_BYTES_PER_IMAGE_224 = 0.33e9;
const FIXED_BYTES = 0.7e9;
/** Of the 4 GiB wasm32 heap: leaves room for the heap's 20 % growth steps and fragmentation. */
const DEFAULT_HEAP_BUDGET = 2.6e9;

/**
 * The largest micro-batch whose train step should stay within the wasm heap budget (1…batch). For the
 * wasm backend, whose heap cannot exceed 4 GiB; other backends need no micro-batching for our batch sizes.
 * E.g. 224 px → 5, 160 px → 11, 120 px → 20, 64 px → 70.
 */
export function autoMicroBatchSize(o: { batch: number; inputSize: number; heapBudgetBytes?: number }): number {
  const perImage = RESNET50_BYTES_PER_IMAGE_224 * (o.inputSize / 224) ** 2;
  const budget = (o.heapBudgetBytes ?? DEFAULT_HEAP_BUDGET) - FIXED_BYTES;
  return Math.max(1, Math.min(o.batch, Math.floor(budget / perImage)));
}

let tempCounter = 0;

/** Rows [start, start+size) of a batch tensor. */
function rows<T extends tf.Tensor>(x: T, start: number, size: number): T {
  const begin = x.shape.map((_, i) => (i === 0 ? start : 0));
  const sz = x.shape.map((d, i) => (i === 0 ? size : d));
  return tf.slice(x, begin, sz) as T;
}

function addInto(acc: Map<string, tf.Tensor>, name: string, g: tf.Tensor): void {
  const prev = acc.get(name);
  if (!prev) {
    acc.set(name, g);
    return;
  }
  acc.set(name, tf.add(prev, g));
  prev.dispose();
  g.dispose();
}

function singlePass(o: MicrobatchGradientOptions, vars: tf.Variable[]): MicrobatchGradients {
  const { value, grads } = tf.variableGrads(() => o.loss(o.forward(o.images, 0)), vars);
  const loss = value.dataSync()[0];
  value.dispose();
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of Object.entries(grads)) if (g) out.set(name, g);
  return { loss, grads: out };
}

/**
 * The full-batch loss and its gradients w.r.t. `netVars` and `lossVars`, computed `microBs` images at a
 * time (see the module comment). Equal to the single-pass gradient up to float rounding.
 */
export function computeGradients(o: MicrobatchGradientOptions): MicrobatchGradients {
  const batch = o.images.shape[0];
  if (!Number.isInteger(o.microBs) || o.microBs < 1) {
    throw new UserError(`micro-batch size must be a positive integer, got ${o.microBs}`);
  }
  const lossVars = o.lossVars ?? [];
  const names = [...o.netVars, ...lossVars].map((v) => v.name);
  assert(new Set(names).size === names.length, 'computeGradients: variable names must be unique');
  const trainable = [...o.netVars, ...lossVars].filter((v) => v.trainable);
  assert(trainable.length > 0, 'computeGradients: no trainable variable');
  if (o.microBs >= batch) return singlePass(o, trainable);

  const starts: number[] = [];
  for (let s = 0; s < batch; s += o.microBs) starts.push(s);

  // 1. Embeddings, one micro-batch at a time, outside any tape.
  const parts: tf.Tensor[][] = starts.map((s, i) => tf.tidy(() => o.forward(rows(o.images, s, Math.min(o.microBs, batch - s)), i)));
  const heads = parts[0].length;
  const embeds = Array.from({ length: heads }, (_, h) =>
    tf.concat(
      parts.map((p) => p[h]),
      0,
    ),
  );
  tf.dispose(parts);

  // 2. Loss and ∂L/∂e on the full batch. The embeddings become temporary variables so one variableGrads
  //    call yields both their gradients and the loss parameters'.
  const tag = `__microbatch_e${tempCounter++}`;
  const embedVars = embeds.map((e, h) => tf.variable(e, true, `${tag}_${h}`));
  tf.dispose(embeds);
  const grads = new Map<string, tf.Tensor>();
  let loss: number;
  let embedGrads: tf.Tensor[];
  try {
    const lossTrainable = lossVars.filter((v) => v.trainable);
    const r = tf.variableGrads(() => o.loss(embedVars), [...embedVars, ...lossTrainable]);
    loss = r.value.dataSync()[0];
    r.value.dispose();
    embedGrads = embedVars.map((v) => r.grads[v.name] ?? tf.zerosLike(v));
    for (const v of lossTrainable) if (r.grads[v.name]) grads.set(v.name, r.grads[v.name]);
  } finally {
    tf.dispose(embedVars);
  }

  // 3. Per micro-batch: gradient of Σ_h Σ e_h·G_h (G constant) = the network's share of ∂L/∂θ.
  const netTrainable = o.netVars.filter((v) => v.trainable);
  try {
    if (netTrainable.length === 0) return { loss, grads };
    starts.forEach((s, i) => {
      const size = Math.min(o.microBs, batch - s);
      const r = tf.variableGrads(() => {
        const es = o.forward(rows(o.images, s, size), i);
        assert(es.length === heads, 'forward returned a different number of heads');
        return tf.addN(es.map((e, h) => tf.sum(tf.mul(e, rows(embedGrads[h], s, size))))) as tf.Scalar;
      }, netTrainable);
      r.value.dispose();
      for (const [name, g] of Object.entries(r.grads)) if (g) addInto(grads, name, g);
    });
  } finally {
    tf.dispose(embedGrads);
  }
  return { loss, grads };
}
