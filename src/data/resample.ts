// Port of: PIL Image.resize(..., BILINEAR) as torchvision's Resize / RandomResizedCrop call it (docs/porting.md#transforms)
/**
 * Bilinear resampling of 8-bit RGB with PIL's arithmetic, so our crops equal the original's to the grey
 * level: a separable triangle filter whose support widens with the shrink factor (anti-aliased), weights
 * computed in double and rounded to 22-bit fixed point, a horizontal pass into an 8-bit intermediate, then a
 * vertical pass. Then the normalisation into the network's float input.
 *
 * The weights are computed here; the passes run in `resample.wasm` (WebAssembly SIMD, source in
 * `resample.wat`): a libvips call costs ~2 ms of set-up per image whatever its size, and the same loops in
 * plain JavaScript take ~4.5 ms for a typical crop (`npm run bench:data` measures the whole pipeline).
 * Every call is synchronous and owns the module's memory for its duration, so concurrent decodes in one
 * thread cannot interleave inside it.
 */
import fs from 'node:fs';
import type { InputConvention } from './image-convention.ts';

/** An RGB uint8 image, rows top to bottom, pixels [R, G, B]. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** An image decoded straight into the resampler's memory: `fill` writes its `height` rows of RGB into `dst`. */
export interface FilledSource {
  width: number;
  height: number;
  fill(dst: Uint8Array): void;
}

/** A rectangle in pixels. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

const PRECISION_BITS = 32 - 8 - 2;

/** Per output pixel: first source index, tap count, and `ksize` fixed-point weights. */
interface Coefficients {
  ksize: number;
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
}

/** The triangle ("bilinear") filter, support 1. */
function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/**
 * Weights mapping the `inSize` source pixels that start at `offset` onto `outSize` pixels, for output indices
 * [outFrom, outTo) only. The filter never reads outside those source pixels, as PIL resizing an image
 * cropped to them. Same formulas and roundings as PIL's `precompute_coeffs` and `normalize_coeffs_8bpc` (C
 * casts truncate toward zero, hence Math.trunc).
 */
function coefficients(offset: number, inSize: number, outSize: number, outFrom: number, outTo: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle support 1 × filter scale
  const ksize = Math.ceil(support) * 2 + 1;
  const n = outTo - outFrom;
  const first = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * ksize);
  const w = new Float64Array(ksize);
  for (let i = 0; i < n; i++) {
    const center = (outFrom + i + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = triangle((x + xmin - center + 0.5) / filterScale);
      total += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const v = total !== 0 ? w[x] / total : w[x];
      weights[i * ksize + x] = Math.trunc(v < 0 ? v * (1 << PRECISION_BITS) - 0.5 : v * (1 << PRECISION_BITS) + 0.5);
    }
    first[i] = offset + xmin;
    count[i] = xmax;
  }
  return { ksize, first, count, weights };
}

interface Kernels {
  memory: WebAssembly.Memory;
  horizontal(
    src: number,
    srcStride: number,
    rowFrom: number,
    rows: number,
    first: number,
    count: number,
    weights: number,
    ksize: number,
    outW: number,
    out: number,
  ): void;
  vertical(
    mid: number,
    stride: number,
    rowFrom: number,
    outH: number,
    first: number,
    count: number,
    weights: number,
    ksize: number,
    out: number,
  ): void;
  normalize(rgb: number, pixels: number, bgr: number, consts: number, out: number): void;
}

let kernels: Kernels | undefined;

/** The WebAssembly kernels of this thread (compiled on first use; ~1 KB). */
function getKernels(): Kernels {
  if (!kernels) {
    const bytes = fs.readFileSync(new URL('./resample.wasm', import.meta.url));
    kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Kernels;
  }
  return kernels;
}

/** The same weights for the output columns in reverse order (a horizontally mirrored result). */
function reversed(c: Coefficients): Coefficients {
  const n = c.first.length;
  const out: Coefficients = { ksize: c.ksize, first: new Int32Array(n), count: new Int32Array(n), weights: new Int32Array(c.weights.length) };
  for (let i = 0; i < n; i++) {
    const j = n - 1 - i;
    out.first[i] = c.first[j];
    out.count[i] = c.count[j];
    out.weights.set(c.weights.subarray(j * c.ksize, (j + 1) * c.ksize), i * c.ksize);
  }
  return out;
}

/** Bump allocation in the kernels' memory for one call: 16-byte aligned blocks with 16 bytes of slack each. */
class Arena {
  private top = 0;
  alloc(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil((bytes + 16) / 16) * 16;
    return at;
  }
  /** Grow the memory to hold everything allocated; returns the (possibly new) buffer. */
  commit(memory: WebAssembly.Memory): ArrayBuffer {
    const missing = this.top - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / 65536));
    return memory.buffer;
  }
}

function writeInt32(buffer: ArrayBuffer, at: number, values: Int32Array): void {
  new Int32Array(buffer, at, values.length).set(values);
}

/** A resampling call laid out in the kernels' memory; `rgb` is where the resampled window ends up. */
interface Placed {
  buffer: ArrayBuffer;
  rgb: number;
  arena: Arena;
  run(): void;
}

/**
 * Lay out and prepare one resampling: of an `RgbImage`, only the source rows the filter reads are copied
 * in; a `FilledSource` is decoded into place whole. `extra` reserves blocks for the caller.
 */
function place(
  src: RgbImage | FilledSource,
  box: PixelBox,
  outWidth: number,
  outHeight: number,
  window: PixelBox,
  extra: (a: Arena) => void,
  flip = false,
): Placed {
  const k = getKernels();
  const straight = coefficients(box.left, box.width, outWidth, window.left, window.left + window.width);
  // Mirroring the output is computing its columns in reverse order: reverse the per-column weights.
  const h = flip ? reversed(straight) : straight;
  const v = coefficients(box.top, box.height, outHeight, window.top, window.top + window.height);
  let rowFrom = Infinity;
  let rowTo = 0;
  for (let i = 0; i < window.height; i++) {
    rowFrom = Math.min(rowFrom, v.first[i]);
    rowTo = Math.max(rowTo, v.first[i] + v.count[i]);
  }
  const stride = src.width * 3;
  const rows = rowTo - rowFrom;
  const filled = 'fill' in src;
  // Row of the source block where the filter's rows start.
  const srcRowFrom = filled ? rowFrom : 0;
  const arena = new Arena();
  const at = {
    src: arena.alloc((filled ? src.height : rows) * stride),
    mid: arena.alloc(rows * window.width * 3),
    rgb: arena.alloc(window.width * window.height * 3),
    hFirst: arena.alloc(h.first.length * 4),
    hCount: arena.alloc(h.count.length * 4),
    hWeights: arena.alloc(h.weights.length * 4),
    vFirst: arena.alloc(v.first.length * 4),
    vCount: arena.alloc(v.count.length * 4),
    vWeights: arena.alloc(v.weights.length * 4),
  };
  extra(arena);
  const buffer = arena.commit(k.memory);
  if (filled) src.fill(new Uint8Array(buffer, at.src, src.height * stride));
  else new Uint8Array(buffer, at.src, rows * stride).set(src.data.subarray(rowFrom * stride, rowTo * stride));
  writeInt32(buffer, at.hFirst, h.first);
  writeInt32(buffer, at.hCount, h.count);
  writeInt32(buffer, at.hWeights, h.weights);
  writeInt32(buffer, at.vFirst, v.first);
  writeInt32(buffer, at.vCount, v.count);
  writeInt32(buffer, at.vWeights, v.weights);
  return {
    buffer,
    rgb: at.rgb,
    arena,
    run() {
      k.horizontal(at.src, stride, srcRowFrom, rows, at.hFirst, at.hCount, at.hWeights, h.ksize, window.width, at.mid);
      k.vertical(at.mid, window.width * 3, rowFrom, window.height, at.vFirst, at.vCount, at.vWeights, v.ksize, at.rgb);
    },
  };
}

/**
 * Resample the `box` of `src` to `outWidth`×`outHeight` (PIL `crop(box).resize((outWidth, outHeight),
 * BILINEAR)`), returning only the `window` of that output (default: all of it) as a new RGB image. Computing
 * only the window gives the same pixels as resizing everything and cropping afterwards.
 */
export function resampleBilinear(
  src: RgbImage,
  box: PixelBox,
  outWidth: number,
  outHeight: number,
  window: PixelBox = { left: 0, top: 0, width: outWidth, height: outHeight },
): RgbImage {
  const placed = place(src, box, outWidth, outHeight, window, () => {});
  placed.run();
  const n = window.width * window.height * 3;
  return { data: new Uint8Array(placed.buffer, placed.rgb, n).slice(), width: window.width, height: window.height };
}

/**
 * `resampleBilinear` to a `size`×`size` window, then normalised per `conv` (and mirrored if `flip`) into
 * `out` at `offset` as [size, size, 3] floats — the whole train/eval transform after decoding.
 */
export function resampleNormalized(
  src: RgbImage | FilledSource,
  box: PixelBox,
  outWidth: number,
  outHeight: number,
  window: PixelBox,
  conv: InputConvention,
  flip: boolean,
  out: Float32Array,
  offset = 0,
): void {
  const size = window.width;
  if (window.height !== size) throw new RangeError(`resampleNormalized needs a square window, got ${window.width}x${window.height}`);
  let consts = 0;
  let floats = 0;
  const placed = place(
    src,
    box,
    outWidth,
    outHeight,
    window,
    (a) => {
      consts = a.alloc(24 * 4);
      floats = a.alloc(size * size * 3 * 4);
    },
    flip,
  );
  placed.run();
  normalizeAt(placed.buffer, placed.rgb, size * size, conv, consts, floats);
  out.set(new Float32Array(placed.buffer, floats, size * size * 3), offset);
}

/**
 * Write a `size`×`size` uint8 RGB image (HWC) into `out` at `offset` as the network's input: channel order,
 * scale (÷255 or not), then (x − mean)/std per channel, optionally mirrored horizontally. Output layout
 * [size, size, 3] (NHWC slice).
 */
export function normalizeInto(rgb: Uint8Array, size: number, conv: InputConvention, flip: boolean, out: Float32Array, offset = 0): void {
  const arena = new Arena();
  const at = { rgb: arena.alloc(rgb.length), consts: arena.alloc(24 * 4), floats: arena.alloc(size * size * 3 * 4) };
  const buffer = arena.commit(getKernels().memory);
  const dst = new Uint8Array(buffer, at.rgb, rgb.length);
  if (!flip) dst.set(rgb);
  else
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) dst.set(rgb.subarray((y * size + x) * 3, (y * size + x) * 3 + 3), (y * size + size - 1 - x) * 3);
  normalizeAt(buffer, at.rgb, size * size, conv, at.consts, at.floats);
  out.set(new Float32Array(buffer, at.floats, size * size * 3), offset);
}

function normalizeAt(buffer: ArrayBuffer, rgb: number, pixels: number, conv: InputConvention, consts: number, floats: number): void {
  new Float32Array(buffer, consts, 24).set(normalizationConstants(conv));
  getKernels().normalize(rgb, pixels, conv.order === 'BGR' ? 1 : 0, consts, floats);
}

let lastConv: InputConvention | undefined;
let lastConstants = new Float32Array(24);

/**
 * For network channel c, out = byte · a_c + b_c with a_c = scale/std_c and b_c = −mean_c/std_c (scale 1/255
 * for [0, 1] inputs, 1 for 0–255 ones), laid out for the kernel: a for 4 pixels (12 values), then b likewise.
 * Cached for the last convention object seen (every image of a run shares one).
 */
function normalizationConstants(conv: InputConvention): Float32Array {
  if (conv === lastConv) return lastConstants;
  const pixelScale = conv.scale === 1 ? 1 / 255 : 1;
  const c = new Float32Array(24);
  for (let i = 0; i < 12; i++) {
    c[i] = pixelScale / conv.std[i % 3];
    c[12 + i] = -conv.mean[i % 3] / conv.std[i % 3];
  }
  lastConv = conv;
  lastConstants = c;
  return c;
}
