// Port of: datasets.py image loading (PIL open + convert('RGB') + torchvision transforms) (spec §2.2)
/**
 * Image decoding and transforms with sharp (libvips). Any JPEG/PNG/WebP/GIF/TIFF/AVIF, whether grayscale,
 * RGBA, CMYK or 16-bit, becomes 8-bit sRGB with 3 channels (alpha dropped, like PIL's convert('RGB')),
 * then the train or eval geometry of `transforms.ts` is applied and the result normalised into NHWC floats.
 *
 * EXIF orientation is ignored, as PIL (and so the original) ignores it. Resampling is libvips' bilinear
 * (triangle) filter, which like PIL's BILINEAR widens its support when shrinking (anti-aliased); results
 * agree with PIL to a few grey levels, not bit for bit.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import type { InputConvention } from './image-convention.ts';
import { readHeaderInfo } from './image-header.ts';
import { evalGeometry, normalizeInto, type TrainParams } from './transforms.ts';

export { drawTrainParams, drawTrainRandoms, evalGeometry, trainParamsFromRandoms, type TrainParams } from './transforms.ts';

/** An image that cannot be read or decoded (missing, empty, truncated, not an image). */
export class ImageDecodeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    // libvips repeats its complaint over several lines; one line is enough for a warning.
    super(`cannot decode image '${path}': ${[...new Set(reason.split(/\s*\n\s*/).filter(Boolean))].join('; ')}`);
    this.name = 'ImageDecodeError';
  }
}

/** Source image size in pixels (before EXIF orientation, as PIL reports it). */
export interface ImageSize {
  width: number;
  height: number;
  /** Has an alpha channel (decoded in two steps, see `openRgb`). */
  hasAlpha: boolean;
}

// Truncated files fail; libvips warnings that PIL also tolerates (e.g. extraneous bytes) do not.
const INPUT_OPTIONS: SharpOptions = { failOn: 'truncated' };

const sizeCache = new Map<string, ImageSize>();

/**
 * Size of an image from its header, cached per path for the whole run (train crops need it every epoch).
 * JPEG and PNG headers are parsed in JavaScript (`image-header.ts`); other formats ask sharp.
 */
export async function imageSize(path: string): Promise<ImageSize> {
  const cached = sizeCache.get(path);
  if (cached) return cached;
  const size = (await readHeaderInfo(path)) ?? (await sharpMetadata(path));
  sizeCache.set(path, size);
  return size;
}

async function sharpMetadata(path: string): Promise<ImageSize> {
  let meta: Metadata;
  try {
    meta = await sharp(path, INPUT_OPTIONS).metadata();
  } catch (e) {
    throw new ImageDecodeError(path, (e as Error).message);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError(path, 'no image size in header');
  return { width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha === true };
}

/** Seed the size cache with a size read elsewhere (a decode worker gets it from the main thread). */
export function rememberImageSize(path: string, size: ImageSize): void {
  sizeCache.set(path, size);
}

/** Drop cached image sizes (tests; or when files may have changed on disk). */
export function clearImageSizeCache(): void {
  sizeCache.clear();
}

/**
 * A sharp pipeline over the image's colour channels. Images with alpha are first decoded to plain RGB:
 * resizing inside one libvips pipeline would premultiply by an 8-bit alpha and shift colours by several
 * grey levels, whereas PIL's convert('RGB') simply drops alpha before any resampling.
 */
async function openRgb(path: string): Promise<Sharp> {
  const { hasAlpha } = await imageSize(path);
  if (!hasAlpha) return sharp(path, INPUT_OPTIONS);
  try {
    const { data, info } = await sharp(path, INPUT_OPTIONS)
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 3 } });
  } catch (e) {
    throw new ImageDecodeError(path, (e as Error).message);
  }
}

/** Decode `pipeline` to exactly `size`×`size` 8-bit RGB. */
async function toRgb(path: string, pipeline: Sharp, size: number): Promise<Uint8Array> {
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await pipeline
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new ImageDecodeError(path, (e as Error).message);
  }
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new ImageDecodeError(path, `decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Allocate or reuse the output slice for one image: [size, size, 3]. */
function outputSlice(size: number, out?: Float32Array, offset = 0): { out: Float32Array; offset: number } {
  return out ? { out, offset } : { out: new Float32Array(size * size * 3), offset: 0 };
}

/** RGB uint8 of the train transform (crop box → `size`×`size` bilinear), before flip and normalisation. */
export async function trainRgb(path: string, size: number, params: TrainParams): Promise<Uint8Array> {
  const pipeline = (await openRgb(path))
    .extract({ left: params.left, top: params.top, width: params.width, height: params.height })
    .resize(size, size, { fit: 'fill', kernel: 'linear' });
  return toRgb(path, pipeline, size);
}

/** RGB uint8 of the eval transform (shorter side → round(size·256/224), centre crop `size`). */
export async function evalRgb(path: string, size: number): Promise<Uint8Array> {
  const { width, height } = await imageSize(path);
  const g = evalGeometry(width, height, size);
  const pipeline = (await openRgb(path))
    .resize(g.resizeWidth, g.resizeHeight, { fit: 'fill', kernel: 'linear' })
    .extract({ left: g.left, top: g.top, width: size, height: size });
  return toRgb(path, pipeline, size);
}

/**
 * Train transform: RandomResizedCrop with the drawn `params` (+ flip if `params.flip`), normalised per
 * `conv`. Writes [size, size, 3] floats into `out` at `offset` (or a new array) and returns the array.
 * Throws `ImageDecodeError`.
 */
export async function loadTrainImage(path: string, size: number, conv: InputConvention, params: TrainParams, out?: Float32Array, offset = 0): Promise<Float32Array> {
  const rgb = await trainRgb(path, size, params);
  const target = outputSlice(size, out, offset);
  normalizeInto(rgb, size, conv, params.flip, target.out, target.offset);
  return target.out;
}

/**
 * Eval transform (evaluation, clustering, embedding extraction), normalised per `conv`. Writes
 * [size, size, 3] floats into `out` at `offset` (or a new array). Throws `ImageDecodeError`.
 */
export async function loadEvalImage(path: string, size: number, conv: InputConvention, out?: Float32Array, offset = 0): Promise<Float32Array> {
  const rgb = await evalRgb(path, size);
  const target = outputSlice(size, out, offset);
  normalizeInto(rgb, size, conv, false, target.out, target.offset);
  return target.out;
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
  const pipeline = sharp(path, INPUT_OPTIONS)
    .flatten({ background: '#ffffff' })
    .resize(size, size, { fit: 'contain', background: '#ffffff', kernel: 'linear' });
  return { data: await toRgb(path, pipeline, size), width: size, height: size };
}
