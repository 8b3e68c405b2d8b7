/**
 * The pixel size (and colour components) of a JPEG held in memory, read from its frame header in JavaScript,
 * so its pixels can be decoded straight into a buffer of the right size and CMYK files recognised (`decode.ts`).
 */

export interface ImageSize {
  width: number;
  height: number;
}

/** Width and height of the JPEG in `bytes`; null if it is not a JPEG or no frame header is found. */
export function jpegSize(bytes: Uint8Array): ImageSize | null {
  const info = jpegFrame(bytes);
  return info && { width: info.width, height: info.height };
}

/** Colour components of the JPEG's frame (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK); null if not a JPEG. */
export function jpegComponents(bytes: Uint8Array): number | null {
  return jpegFrame(bytes)?.components ?? null;
}

function jpegFrame(bytes: Uint8Array): (ImageSize & { components: number }) | null {
  if (bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return null;
  return jpegInfo(bytes);
}

/** Walk the marker segments to the first SOFn frame header. */
function jpegInfo(b: Uint8Array): (ImageSize & { components: number }) | null {
  let at = 2;
  for (;;) {
    while (at < b.length && b[at] !== 0xff) at++; // tolerate padding/garbage between segments
    while (at < b.length && b[at] === 0xff) at++; // fill bytes
    if (at + 3 > b.length) return null;
    const marker = b[at];
    at++;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / scan data before any frame
    if (at + 2 > b.length) return null;
    const len = (b[at] << 8) | b[at + 1];
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 8 > b.length) return null;
      const height = (b[at + 3] << 8) | b[at + 4];
      const width = (b[at + 5] << 8) | b[at + 6];
      return width > 0 && height > 0 ? { width, height, components: b[at + 7] } : null;
    }
    at += len;
  }
}
