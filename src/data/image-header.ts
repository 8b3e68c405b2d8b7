/**
 * Image size from the first bytes of a JPEG or PNG file, read in JavaScript. A sharp `metadata()` call costs
 * about as much CPU as a small decode (pipeline set-up), and every training image needs its size before its
 * crop can be drawn, so the two common formats are parsed here; anything else (or anything odd) returns
 * null and the caller asks sharp.
 */
import fs from 'node:fs/promises';

export interface HeaderInfo {
  width: number;
  height: number;
  hasAlpha: boolean;
}

/** Bytes read first; a JPEG whose frame header lies beyond them (large EXIF/ICC blocks) is read whole. */
const HEAD_BYTES = 64 * 1024;

/** Size (and alpha) of a JPEG or PNG from its header; null if not one of those or not understood. */
export async function readHeaderInfo(path: string): Promise<HeaderInfo | null> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    const bytes = head.subarray(0, bytesRead);
    if (isPng(bytes)) return pngInfo(bytes);
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
      const info = jpegInfo(bytes);
      if (info !== 'need-more' || bytesRead < HEAD_BYTES) return info === 'need-more' ? null : info;
      const whole = await handle.readFile();
      const again = jpegInfo(whole);
      return again === 'need-more' ? null : again;
    }
    return null;
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(b: Buffer): boolean {
  return b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
}

/** PNG: IHDR gives the size; alpha = colour type 4/6, or a tRNS chunk before the image data. */
function pngInfo(b: Buffer): HeaderInfo | null {
  if (b.length < 33 || b.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const colourType = b[25];
  let hasAlpha = colourType === 4 || colourType === 6;
  // Walk chunks up to IDAT looking for tRNS (transparency for palette/grey/RGB images).
  let at = 8;
  while (!hasAlpha && at + 8 <= b.length) {
    const len = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'tRNS') hasAlpha = true;
    at += 12 + len;
  }
  if (!hasAlpha && at + 8 > b.length) return null; // header longer than what was read: let sharp decide
  return width > 0 && height > 0 ? { width, height, hasAlpha } : null;
}

/** JPEG: walk the marker segments to the first SOFn frame header. */
function jpegInfo(b: Buffer): HeaderInfo | null | 'need-more' {
  let at = 2;
  for (;;) {
    while (at < b.length && b[at] !== 0xff) at++; // tolerate padding/garbage between segments
    while (at < b.length && b[at] === 0xff) at++; // fill bytes
    if (at + 3 > b.length) return 'need-more';
    const marker = b[at];
    at++;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / scan data before any frame
    if (at + 2 > b.length) return 'need-more';
    const len = b.readUInt16BE(at);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 7 > b.length) return 'need-more';
      const height = b.readUInt16BE(at + 3);
      const width = b.readUInt16BE(at + 5);
      return width > 0 && height > 0 ? { width, height, hasAlpha: false } : null;
    }
    at += len;
  }
}
