// Port of: torchvision RandomResizedCrop / RandomHorizontalFlip / Resize / CenterCrop / Normalize as used by datasets.py (docs/porting.md#transforms)
/**
 * The geometry and arithmetic of the image transforms, free of any decoding: which box to crop, whether
 * to flip and how large to resize for evaluation. `images.ts` applies them (`resample.ts` does the pixels).
 */
import { assert } from '../errors.ts';
import type { Rng } from '../rng.ts';

/** A crop box in source-image pixels plus the flip decision: one RandomResizedCrop (+ flip) draw. */
export interface TrainParams {
  /** Crop box, integer pixels of the source image. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Mirror horizontally after cropping. */
  flip: boolean;
  /** Source image size the box was drawn for. */
  srcWidth: number;
  srcHeight: number;
}

/** RandomResizedCrop options; the defaults are torchvision's (and the original's). */
export interface CropRange {
  /** Range of the crop area as a fraction of the image area. */
  scale: [number, number];
  /** Range of the crop aspect ratio width/height (drawn log-uniformly; uniformly for crop style torchvision-0.2). */
  ratio: [number, number];
}

export const DEFAULT_CROP_RANGE: CropRange = { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] };

/** Python's round(): to nearest, ties to even (torchvision computes crop sizes with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Which torchvision's RandomResizedCrop to follow (`--crop-style`):
 * - 'torchvision' (≥ 0.3, the version of the reference fixtures; default): aspect ratio drawn log-uniformly,
 *   no swap, both sides must be ≥ 1; fallback = the largest centred box with its aspect clamped into `ratio`.
 * - 'torchvision-0.2' (0.2.x, what the paper's code ran on): aspect ratio drawn uniformly, then w and h swapped
 *   with p = 0.5; fallback = the largest centred square.
 */
export type CropStyle = 'torchvision' | 'torchvision-0.2';
export const CROP_STYLES: readonly CropStyle[] = ['torchvision', 'torchvision-0.2'];

/** Uniforms per crop attempt: (scale, ratio), plus the swap decision for 0.2. */
function perAttempt(style: CropStyle): number {
  return style === 'torchvision-0.2' ? 3 : 2;
}

const ATTEMPTS = 10;

/** Uniform numbers behind one RandomResizedCrop + flip: 10 attempts' draws, then top, left, flip (23, or 33 for 0.2). */
export function randomsPerImage(style: CropStyle = 'torchvision'): number {
  return ATTEMPTS * perAttempt(style) + 3;
}

/** `randomsPerImage()` of the default style. */
export const RANDOMS_PER_IMAGE = randomsPerImage('torchvision');

/**
 * Draw the `randomsPerImage(style)` uniforms in [0, 1) of one training image, always the same count, so the
 * stream's position never depends on image sizes, decode failures or which thread decodes the image.
 * Turned into a crop box by `trainParamsFromRandoms` where the image size is known.
 */
export function drawTrainRandoms(rng: Rng, style: CropStyle = 'torchvision'): Float64Array {
  const r = new Float64Array(randomsPerImage(style));
  for (let i = 0; i < r.length; i++) r[i] = rng.float();
  return r;
}

/**
 * RandomResizedCrop (+ flip) for a `srcWidth`×`srcHeight` image from pre-drawn uniforms, following the chosen
 * torchvision's algorithm: up to 10 attempts of (area fraction ~ U(scale), aspect ~ log-uniform over `ratio`,
 * or uniform for 0.2); w = round(√(A·r)), h = round(√(A/r)) (Python rounding); 0.2 then swaps w and h when its
 * third uniform is < 0.5. The first box that fits (1 ≤ w ≤ W, 1 ≤ h ≤ H) gets a uniform position: top in
 * 0..H−h, then left in 0..W−w. If none fits, the style's centred fallback box. Flip if `withFlip` and the flip
 * uniform < 0.5.
 *
 * Porting notes: torchvision draws only as many numbers as it uses; here every image consumes the same count
 * (attempt k uses r[2k], r[2k+1] — 0.2: r[3k], r[3k+1], r[3k+2] —, then top, left, flip as the last three),
 * the same distribution. 0.2 accepted a zero-sized box (then failed on it, images of a few pixels only);
 * here it counts as not fitting.
 */
export function trainParamsFromRandoms(
  r: ArrayLike<number>,
  srcWidth: number,
  srcHeight: number,
  withFlip = true,
  range: CropRange = DEFAULT_CROP_RANGE,
  style: CropStyle = 'torchvision',
): TrainParams {
  const n = randomsPerImage(style);
  assert(r.length === n, () => `trainParamsFromRandoms: ${r.length} uniforms for crop style ${style}, expected ${n}`);
  const legacy = style === 'torchvision-0.2';
  const stride = perAttempt(style);
  const area = srcWidth * srcHeight;
  const [lo, hi] = range.ratio;
  const logLo = Math.log(lo);
  const logHi = Math.log(hi);
  let box: { left: number; top: number; width: number; height: number } | undefined;
  for (let attempt = 0; attempt < ATTEMPTS && !box; attempt++) {
    const u = attempt * stride;
    const targetArea = area * (range.scale[0] + (range.scale[1] - range.scale[0]) * r[u]);
    const aspect = legacy ? lo + (hi - lo) * r[u + 1] : Math.exp(logLo + (logHi - logLo) * r[u + 1]);
    let w = roundHalfEven(Math.sqrt(targetArea * aspect));
    let h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (legacy && r[u + 2] < 0.5) [w, h] = [h, w];
    if (w > 0 && w <= srcWidth && h > 0 && h <= srcHeight) {
      const top = Math.floor(r[n - 3] * (srcHeight - h + 1));
      const left = Math.floor(r[n - 2] * (srcWidth - w + 1));
      box = { left, top, width: w, height: h };
    }
  }
  if (!box) box = legacy ? centredSquare(srcWidth, srcHeight) : fallbackCentreBox(srcWidth, srcHeight, range.ratio);
  return { ...box, flip: withFlip && r[n - 1] < 0.5, srcWidth, srcHeight };
}

/** One RandomResizedCrop (+ flip) draw for a known image size: `drawTrainRandoms` then `trainParamsFromRandoms`. */
export function drawTrainParams(
  rng: Rng,
  srcWidth: number,
  srcHeight: number,
  withFlip = true,
  range: CropRange = DEFAULT_CROP_RANGE,
  style: CropStyle = 'torchvision',
): TrainParams {
  return trainParamsFromRandoms(drawTrainRandoms(rng, style), srcWidth, srcHeight, withFlip, range, style);
}

/** torchvision ≥ 0.3 fallback: the whole image, its aspect clamped into `ratio`, centred. */
function fallbackCentreBox(W: number, H: number, ratio: [number, number]) {
  const inRatio = W / H;
  let w = W;
  let h = H;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { left: Math.floor((W - w) / 2), top: Math.floor((H - h) / 2), width: w, height: h };
}

/** torchvision 0.2 fallback: the largest centred square. */
function centredSquare(W: number, H: number) {
  const side = Math.min(W, H);
  return { left: Math.floor((W - side) / 2), top: Math.floor((H - side) / 2), width: side, height: side };
}

/** Evaluation geometry: resize to `resizeWidth`×`resizeHeight`, then crop `size`×`size` at (left, top). */
export interface EvalGeometry {
  resizeWidth: number;
  resizeHeight: number;
  left: number;
  top: number;
}

/**
 * Resize(round(size·256/224)) + CenterCrop(size) as torchvision computes it: the shorter side becomes
 * S = round(size·256/224) and the longer side ⌊S·long/short⌋; the crop starts at round((dim − size)/2)
 * (Python rounding). size 224 → S = 256, as the original.
 */
export function evalGeometry(srcWidth: number, srcHeight: number, size: number): EvalGeometry {
  const short = Math.round((size * 256) / 224);
  let resizeWidth: number;
  let resizeHeight: number;
  if (srcWidth <= srcHeight) {
    resizeWidth = short;
    resizeHeight = Math.floor((short * srcHeight) / srcWidth);
  } else {
    resizeHeight = short;
    resizeWidth = Math.floor((short * srcWidth) / srcHeight);
  }
  return {
    resizeWidth,
    resizeHeight,
    left: roundHalfEven((resizeWidth - size) / 2),
    top: roundHalfEven((resizeHeight - size) / 2),
  };
}
