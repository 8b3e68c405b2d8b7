/**
 * The two places where PIL's `Image.open(path).convert('RGB')` — what the original trained on — does not give
 * what a colour-managed decoder gives, reproduced here so our pixels are PIL's:
 *
 * - CMYK (JPEG, TIFF): PIL ignores colour profiles and uses the naive formula R = (255 − K) − C·(255 − K)/255
 *   (same for G with M, B with Y), with its rounded integer division by 255. libvips converts through an
 *   ICC profile instead, 12–13 grey levels away on average.
 * - 16-bit greyscale (PNG, TIFF): PIL opens these as 32-bit integer images and `convert('RGB')` clips each
 *   value to 0…255 (values above 255 become white) rather than scaling 0…65535 to 0…255. Most such images
 *   therefore come out nearly white — as they did for the original. (16-bit RGB, RGBA and grey+alpha keep
 *   their high byte in PIL, which is what libvips does too.)
 */

/** Which PIL conversion a file needs. */
export type PilConversion = 'cmyk' | 'grey16' | 'plain';

/**
 * From the first bytes: JPEG frame components, PNG IHDR bit depth and colour type; 'ask' for a TIFF, whose
 * header alone cannot tell (the caller reads its metadata).
 */
export function pilConversionOf(bytes: Uint8Array, jpegComponents: (b: Uint8Array) => number | null): PilConversion | 'ask' {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegComponents(bytes) === 4 ? 'cmyk' : 'plain';
  // PNG: signature (8 bytes), IHDR length + type (8), width, height (8), then bit depth and colour type.
  if (bytes.length >= 26 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return bytes[24] === 16 && bytes[25] === 0 ? 'grey16' : 'plain';
  }
  const tiff =
    bytes.length >= 4 && ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[3] === 42));
  return tiff ? 'ask' : 'plain';
}

/** a·b/255 rounded the way PIL's integer arithmetic rounds it, for a, b in 0…255. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** PIL's CMYK → RGB on `n` pixels of `stride` bytes, C, M, Y, K first (as PIL reads them, Adobe inversion applied). */
export function cmykToRgbLikePil(cmyk: Uint8Array, n: number, stride = 4): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const white = 255 - cmyk[stride * i + 3];
    for (let c = 0; c < 3; c++) out[3 * i + c] = white - mulDiv255(cmyk[stride * i + c], white);
  }
  return out;
}

/** PIL's 16-bit grey → RGB on `n` pixels of `stride` values, grey first: clipped to 255, repeated in the three channels. */
export function grey16ToRgbLikePil(grey: Uint16Array | number[], n: number, stride = 1): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) out.fill(Math.min(255, grey[stride * i]), 3 * i, 3 * i + 3);
  return out;
}
