/**
 * Whole-image decoding to 8-bit RGB (what PIL's `open(path).convert('RGB')` gives the original).
 *
 * JPEGs go to libjpeg-turbo through the optional `@julusian/jpeg-turbo` binding when it is installed: one
 * call, ~1 ms for a 500×375 photo, where a sharp (libvips) pipeline spends ~2 ms on set-up alone. Everything
 * else — PNG, WebP, GIF, TIFF, AVIF, CMYK or 12-bit JPEGs, files that fail the quick checks — goes to sharp,
 * which also phrases the error for files that cannot be decoded at all. sharp's JPEG pixels equal PIL's;
 * libjpeg-turbo's (the binding asks for the fast integer IDCT) are 0.8 grey levels darker on average and
 * at most 3–5 levels off (test/data/pil-parity.test.ts, scripts/bench-data.ts's photo-like JPEGs) — noise
 * far below the augmentation's. `MIC_TRAIN_JPEG_DECODER=sharp` makes every thread use sharp. CMYK and
 * 16-bit greyscale images get PIL's own conversions (`pil-modes.ts`), not libvips' colour management.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import sharp, { type SharpOptions } from 'sharp';
import { FileRefusedError, readFileCapped, readFileCappedAsync } from '../io/safe-read.ts';
import { jpegComponents, jpegSize, type ImageSize } from './image-header.ts';
import { cmykToRgbLikePil, grey16ToRgbLikePil, pilConversionOf, type PilConversion } from './pil-modes.ts';
import type { RgbImage } from './resample.ts';

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

interface Decompressed {
  data: Buffer;
  width: number;
  height: number;
}

/** The part of `@julusian/jpeg-turbo` used here. */
interface JpegTurbo {
  FORMAT_RGB: number;
  decompress(image: Buffer, options: { format: number }): Promise<Decompressed>;
  decompressSync(image: Buffer, out: Buffer, options: { format: number }): Decompressed;
}

/** Truncated files fail; libvips warnings that PIL also tolerates (e.g. extraneous bytes) do not. */
export const SHARP_INPUT_OPTIONS: SharpOptions = { failOn: 'truncated' };

/**
 * The binding, or null where it is not installed (it is an optional dependency with prebuilt binaries for
 * the common platforms). Loaded once per thread at import; the main thread imports this module before any
 * decode worker starts, so the shared library stays mapped when a worker exits.
 */
const jpegTurbo: JpegTurbo | null = loadJpegTurbo();

function loadJpegTurbo(): JpegTurbo | null {
  if (process.env.MIC_TRAIN_JPEG_DECODER === 'sharp') return null;
  try {
    return createRequire(import.meta.url)('@julusian/jpeg-turbo') as JpegTurbo;
  } catch {
    return null;
  }
}

/** Which JPEG decoder this thread uses: 'libjpeg-turbo' (fast path) or 'sharp'. */
export function jpegDecoderName(): 'libjpeg-turbo' | 'sharp' {
  return jpegTurbo ? 'libjpeg-turbo' : 'sharp';
}

/** Which decoder `decodeRgb` uses for JPEGs: 'auto' (libjpeg-turbo where installed) or always 'sharp'. */
export type JpegDecoderChoice = 'auto' | 'sharp';

/**
 * The file's bytes: a regular file (links followed) of at most the image size cap (`io/safe-read.ts`). On
 * the main thread the read runs on libuv's pool; a decode worker thread exists to block, so there it reads
 * synchronously (saving the thread hand-offs).
 */
export async function readImageBytes(path: string): Promise<Buffer> {
  try {
    return isMainThread ? await readFileCappedAsync(path, 'image') : readFileCapped(path, 'image');
  } catch (e) {
    if (e instanceof FileRefusedError) throw new ImageDecodeError(path, `the file ${e.reason}`);
    throw e;
  }
}

/** Decode the image at `path` (or its already read `bytes`) to 8-bit RGB, alpha dropped. Throws `ImageDecodeError`. */
export async function decodeRgb(path: string, jpeg: JpegDecoderChoice = 'auto', bytes?: Buffer): Promise<RgbImage> {
  bytes ??= await readImageBytes(path);
  const conversion = pilConversionOf(bytes, jpegComponents);
  if (jpeg === 'auto' && jpegTurbo && conversion === 'plain' && isCompleteJpeg(bytes)) {
    try {
      const r = await jpegTurbo.decompress(bytes, { format: jpegTurbo.FORMAT_RGB });
      return { data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.width * r.height * 3), width: r.width, height: r.height };
    } catch {
      // CMYK, 12-bit, damaged: let sharp decide (and word the error).
    }
  }
  return decodeWithSharp(path, bytes, conversion);
}

/** A JPEG that libjpeg-turbo can decode synchronously into a caller's buffer (`size.width·size.height·3` bytes). */
export interface DirectJpeg {
  size: ImageSize;
  /** Decode into `dst`; throws if libjpeg-turbo refuses the file (then use `decodeRgb`). */
  decodeInto(dst: Uint8Array): void;
}

/** `bytes` as a `DirectJpeg`, or null when the fast path does not apply (not a JPEG, no binding, cut off). */
export function directJpeg(bytes: Buffer): DirectJpeg | null {
  const turbo = jpegTurbo;
  const size = turbo && isCompleteJpeg(bytes) ? jpegSize(bytes) : null;
  // CMYK needs PIL's conversion (pil-modes.ts), which only the sharp path applies.
  if (!turbo || !size || jpegComponents(bytes) === 4) return null;
  return {
    size,
    decodeInto(dst: Uint8Array) {
      const r = turbo.decompressSync(bytes, Buffer.from(dst.buffer, dst.byteOffset, dst.length), { format: turbo.FORMAT_RGB });
      if (r.width !== size.width || r.height !== size.height)
        throw new Error(`decoded ${r.width}x${r.height}, header says ${size.width}x${size.height}`);
    },
  };
}

/**
 * Starts like a JPEG and ends with its end-of-image marker (possibly followed by padding). libjpeg-turbo
 * pads a cut-off file with grey and carries on, whereas PIL refuses it; such files go to sharp, which
 * refuses them too.
 */
function isCompleteJpeg(b: Buffer): boolean {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return false;
  let end = b.length;
  while (end > 2 && (b[end - 1] === 0x00 || b[end - 1] === 0x0a || b[end - 1] === 0x0d || b[end - 1] === 0x20)) end--;
  return b[end - 2] === 0xff && b[end - 1] === 0xd9;
}

async function decodeWithSharp(path: string, bytes: Buffer, conversion: PilConversion | 'ask'): Promise<RgbImage> {
  try {
    let conv = conversion;
    if (conv === 'ask') {
      const m = await sharp(bytes, SHARP_INPUT_OPTIONS).metadata();
      conv = m.space === 'cmyk' ? 'cmyk' : m.channels === 1 && m.depth === 'ushort' ? 'grey16' : 'plain';
    }
    if (conv === 'cmyk') {
      // The CMYK values as stored (Adobe inversion undone), no colour management: PIL's formula does the rest.
      const { data, info } = await sharp(bytes, SHARP_INPUT_OPTIONS)
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels < 4) throw new Error(`decoded CMYK to ${info.channels} channels`);
      return { data: cmykToRgbLikePil(data, info.width * info.height, info.channels), width: info.width, height: info.height };
    }
    if (conv === 'grey16') {
      const { data, info } = await sharp(bytes, SHARP_INPUT_OPTIONS)
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const values = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
      return { data: grey16ToRgbLikePil(values, info.width * info.height, info.channels), width: info.width, height: info.height };
    }
    const { data, info } = await sharp(bytes, SHARP_INPUT_OPTIONS)
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new ImageDecodeError(path, bytes.length === 0 ? 'empty file' : (e as Error).message);
  }
}
