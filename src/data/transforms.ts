// Port of: torchvision RandomResizedCrop / RandomHorizontalFlip / Resize / CenterCrop / Normalize as used by datasets.py (docs/porting.md#transforms)
/**
 * The geometry and arithmetic of the image transforms, free of any decoding: which box to crop, whether
 * to flip and how large to resize for evaluation. `images.ts` applies them (`resample.ts` does the pixels).
 */
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
  /** Range of the crop aspect ratio width/height (drawn log-uniformly). */
  ratio: [number, number];
}

export const DEFAULT_CROP_RANGE: CropRange = { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] };

/** Python's round(): to nearest, ties to even (torchvision computes crop sizes with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Uniform numbers behind one RandomResizedCrop + flip: 10 attempts × (scale, ratio), then top, left, flip. */
export const RANDOMS_PER_IMAGE = 23;

/**
 * Draw the `RANDOMS_PER_IMAGE` uniforms in [0, 1) of one training image, always the same count, so the
 * stream's position never depends on image sizes, decode failures or which thread decodes the image.
 * Turned into a crop box by `trainParamsFromRandoms` where the image size is known.
 */
export function drawTrainRandoms(rng: Rng): Float64Array {
  const r = new Float64Array(RANDOMS_PER_IMAGE);
  for (let i = 0; i < RANDOMS_PER_IMAGE; i++) r[i] = rng.float();
  return r;
}

/**
 * RandomResizedCrop (+ flip) for a `srcWidth`×`srcHeight` image from pre-drawn uniforms, following
 * torchvision's algorithm: up to 10 attempts of (area fraction ~ U(scale), log aspect ~ U(log ratio));
 * w = round(√(A·r)), h = round(√(A/r)); the first box that fits gets a uniform position (top, left). If none
 * fits, the fallback is the largest centred box whose aspect is clamped into `ratio`. Flip if `withFlip`
 * and the flip uniform < 0.5.
 *
 * Porting note: torchvision draws only as many numbers as it uses; here every image consumes the same 23
 * (attempt k uses r[2k], r[2k+1]; then r[20] top, r[21] left, r[22] flip), the same distribution.
 */
export function trainParamsFromRandoms(r: ArrayLike<number>, srcWidth: number, srcHeight: number, withFlip = true, range: CropRange = DEFAULT_CROP_RANGE): TrainParams {
  const area = srcWidth * srcHeight;
  const logLo = Math.log(range.ratio[0]);
  const logHi = Math.log(range.ratio[1]);
  let box: { left: number; top: number; width: number; height: number } | undefined;
  for (let attempt = 0; attempt < 10 && !box; attempt++) {
    const targetArea = area * (range.scale[0] + (range.scale[1] - range.scale[0]) * r[2 * attempt]);
    const aspect = Math.exp(logLo + (logHi - logLo) * r[2 * attempt + 1]);
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= srcWidth && h > 0 && h <= srcHeight) {
      const top = Math.floor(r[20] * (srcHeight - h + 1));
      const left = Math.floor(r[21] * (srcWidth - w + 1));
      box = { left, top, width: w, height: h };
    }
  }
  if (!box) box = fallbackCentreBox(srcWidth, srcHeight, range.ratio);
  return { ...box, flip: withFlip && r[22] < 0.5, srcWidth, srcHeight };
}

/** One RandomResizedCrop (+ flip) draw for a known image size: `drawTrainRandoms` then `trainParamsFromRandoms`. */
export function drawTrainParams(rng: Rng, srcWidth: number, srcHeight: number, withFlip = true, range: CropRange = DEFAULT_CROP_RANGE): TrainParams {
  return trainParamsFromRandoms(drawTrainRandoms(rng), srcWidth, srcHeight, withFlip, range);
}

function fallbackCentreBox(W: number, H: number, ratio: [number, number]) {
  const inRatio = W / H;
  let w = W;
  let h = H;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { left: Math.floor((W - w) / 2), top: Math.floor((H - h) / 2), width: w, height: h };
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
