// Port of: datasets.py image loading (PIL open + convert('RGB') + torchvision transforms) (docs/porting.md#transforms)
/**
 * The train and eval image transforms: decode the whole image to 8-bit RGB (`decode.ts`: libjpeg-turbo for
 * JPEGs where installed, sharp for everything else, any of grayscale/RGBA/CMYK/16-bit becoming 3 channels with
 * alpha dropped, like PIL's convert('RGB')), then crop and resize with PIL's own bilinear arithmetic
 * (`resample.ts`), then normalise into NHWC floats. EXIF orientation is ignored, as PIL (and so the
 * original) ignores it.
 */
import sharp, { type OutputInfo } from 'sharp';
import { isMainThread } from 'node:worker_threads';
import { decodeRgb, directJpeg, ImageDecodeError, readImageBytes, SHARP_INPUT_OPTIONS, type JpegDecoderChoice } from './decode.ts';
import { resampleBilinear, resampleNormalized, type PixelBox, type RgbImage } from './resample.ts';
import type { InputConvention } from './image-convention.ts';
import { evalGeometry, type TrainParams } from './transforms.ts';

export { ImageDecodeError } from './decode.ts';
export { drawTrainParams, drawTrainRandoms, evalGeometry, trainParamsFromRandoms, type TrainParams } from './transforms.ts';

/** What to resample, once the image size is known: source box, resized size, output window (PIL crop → resize → crop), flip. */
export interface Plan {
  box: PixelBox;
  outWidth: number;
  outHeight: number;
  window: PixelBox;
  flip: boolean;
}

/** A plan for a `width`×`height` image; throws `ImageDecodeError` (with the path) if it cannot apply. */
export type Planner = (path: string, width: number, height: number) => Plan;

/** Train transform for a crop box drawn beforehand (`params`, for the size it was drawn for). */
export function fixedCropPlan(size: number, params: TrainParams): Planner {
  return (path, width, height) => {
    if (width !== params.srcWidth || height !== params.srcHeight) {
      throw new ImageDecodeError(path, `decoded to ${width}x${height}, the crop was drawn for ${params.srcWidth}x${params.srcHeight}`);
    }
    return cropPlan(size, params);
  };
}

/** Train transform whose crop box is drawn once the size is known (`paramsFor`, e.g. from pre-drawn uniforms). */
export function drawnCropPlan(size: number, paramsFor: (width: number, height: number) => TrainParams): Planner {
  return (_path, width, height) => cropPlan(size, paramsFor(width, height));
}

function cropPlan(size: number, params: TrainParams): Plan {
  return { box: params, outWidth: size, outHeight: size, window: { left: 0, top: 0, width: size, height: size }, flip: params.flip };
}

/** Eval transform: shorter side → round(size·256/224), centre crop `size`. */
export function evalPlan(size: number): Planner {
  return (_path, width, height) => {
    const g = evalGeometry(width, height, size);
    return {
      box: { left: 0, top: 0, width, height },
      outWidth: g.resizeWidth,
      outHeight: g.resizeHeight,
      window: { left: g.left, top: g.top, width: size, height: size },
      flip: false,
    };
  };
}

/** RGB uint8 of a transform, before flip and normalisation (tests compare it with PIL). */
export async function transformRgb(path: string, plan: Planner, jpeg: JpegDecoderChoice = 'auto'): Promise<Uint8Array> {
  const image = await decodeRgb(path, jpeg);
  const p = plan(path, image.width, image.height);
  return resampleBilinear(image, p.box, p.outWidth, p.outHeight, p.window).data;
}

/** RGB uint8 of the train transform (crop box → `size`×`size` bilinear), before flip and normalisation. */
export function trainRgb(path: string, size: number, params: TrainParams, jpeg: JpegDecoderChoice = 'auto'): Promise<Uint8Array> {
  return transformRgb(path, fixedCropPlan(size, params), jpeg);
}

/** RGB uint8 of the eval transform, before normalisation. */
export function evalRgb(path: string, size: number, jpeg: JpegDecoderChoice = 'auto'): Promise<Uint8Array> {
  return transformRgb(path, evalPlan(size), jpeg);
}

/**
 * Decode the image at `path`, transform it per `plan` and write it normalised per `conv` into `out` at
 * `offset` ([size, size, 3] floats; a new array if `out` is absent). Throws `ImageDecodeError`.
 *
 * In a decode worker a JPEG is decoded straight into the resampler's memory, synchronously from the read
 * on (no buffer to allocate, copy or hand between threads); elsewhere, and for other formats, the decoded
 * image is copied in.
 */
export async function loadImage(
  path: string,
  size: number,
  conv: InputConvention,
  plan: Planner,
  out?: Float32Array,
  offset = 0,
): Promise<Float32Array> {
  const target = out ?? new Float32Array(size * size * 3);
  const at = out ? offset : 0;
  const bytes = await readImageBytes(path);
  const direct = isMainThread ? null : directJpeg(bytes);
  if (direct) {
    const p = plan(path, direct.size.width, direct.size.height);
    try {
      resampleNormalized({ ...direct.size, fill: direct.decodeInto }, p.box, p.outWidth, p.outHeight, p.window, conv, p.flip, target, at);
      return target;
    } catch {
      // libjpeg-turbo refused it (CMYK, damaged…): sharp decides below.
    }
  }
  const image = await decodeRgb(path, direct ? 'sharp' : 'auto', bytes);
  const p = plan(path, image.width, image.height);
  resampleNormalized(image, p.box, p.outWidth, p.outHeight, p.window, conv, p.flip, target, at);
  return target;
}

/** Train transform with a crop box drawn beforehand (`params.flip` mirrors). See `loadImage`. */
export function loadTrainImage(
  path: string,
  size: number,
  conv: InputConvention,
  params: TrainParams,
  out?: Float32Array,
  offset = 0,
): Promise<Float32Array> {
  return loadImage(path, size, conv, fixedCropPlan(size, params), out, offset);
}

/** Eval transform (evaluation, clustering, embedding extraction). See `loadImage`. */
export function loadEvalImage(path: string, size: number, conv: InputConvention, out?: Float32Array, offset = 0): Promise<Float32Array> {
  return loadImage(path, size, conv, evalPlan(size), out, offset);
}

/** An RGB uint8 picture tile: [height, width, 3]. */
export interface RgbTile {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * The un-augmented image scaled to fit a `size`×`size` tile (aspect kept, white margins) for the
 * sample-recoveries picture. Throws `ImageDecodeError`.
 */
export async function loadOriginalTile(path: string, size: number): Promise<RgbTile> {
  const pipeline = sharp(await readImageBytes(path), SHARP_INPUT_OPTIONS)
    .flatten({ background: '#ffffff' })
    .resize(size, size, { fit: 'contain', background: '#ffffff', kernel: 'linear' });
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new ImageDecodeError(path, (e as Error).message);
  }
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new ImageDecodeError(path, `decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: size, height: size };
}
