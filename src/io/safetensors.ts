/**
 * Minimal safetensors reader/writer (format: 8-byte little-endian header length, JSON header
 * {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__"?: {string: string}}, then raw
 * little-endian tensor bytes). Reads F32, F16, BF16 (converted to float32), I32 and I64 (to int32);
 * writes F32 and I32.
 */
import fs from 'node:fs';
import { UserError } from '../errors.ts';
import { readUserFile } from './safe-read.ts';

export interface RawTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export type TensorMap = Map<string, RawTensor>;

/** IEEE half-precision bits → number (also used by the tfjs layers-model reader). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A JSON value in a few words, for messages ("null", "a list", "the number 3"). */
function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** One header entry checked for the fields the reader uses; a UserError naming the tensor otherwise. */
function checkEntry(
  name: string,
  info: unknown,
  bad: (why: string) => UserError,
): { dtype: string; shape: number[]; data_offsets: [number, number] } {
  if (info === null || typeof info !== 'object' || Array.isArray(info))
    throw bad(`tensor '${name}' is ${describeJson(info)}, expected {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad(`tensor '${name}' has no "dtype" string`);
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw bad(`tensor '${name}' needs "shape": a list of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing'}`);
  if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isCount)) {
    throw bad(`tensor '${name}' needs "data_offsets": [begin, end] non-negative integers, got ${JSON.stringify(data_offsets) ?? 'nothing'}`);
  }
  return { dtype, shape, data_offsets: data_offsets as [number, number] };
}

/** `__metadata__`: string → string (null or absent = none). */
function checkMetadata(info: unknown, bad: (why: string) => UserError): Record<string, string> {
  if (info === null || info === undefined) return {};
  if (typeof info !== 'object' || Array.isArray(info) || !Object.values(info).every((v) => typeof v === 'string')) {
    throw bad('"__metadata__" must map names to strings');
  }
  return info as Record<string, string>;
}

/** One tensor as the header describes it, checked against the data section's size. */
interface HeaderEntry {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

/** The safetensors format's own limit on the header's size. */
const MAX_HEADER_BYTES = 100 * 1000 * 1000;

const DTYPE_WIDTH: Record<HeaderEntry['dtype'], number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

/**
 * The header of a safetensors file whose first bytes are `head` (at least 8 + header length of them) and whose
 * total size is `fileSize`: every entry checked (types, shape, offsets inside the file, byte count).
 */
function parseHeader(
  head: Uint8Array,
  fileSize: number,
  source: string,
): { entries: HeaderEntry[]; metadata: Record<string, string>; dataStart: number } {
  const bad = (why: string) => new UserError(`${source}: not a valid safetensors file (${why})`);
  if (fileSize < 8 || head.byteLength < 8) throw bad('shorter than the 8-byte header length');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > fileSize) throw bad(`header length ${headerLen} exceeds file size ${fileSize}`);
  if (headerLen > MAX_HEADER_BYTES) throw bad(`header length ${headerLen} is over the format's 100 MB limit`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(head.subarray(8, 8 + headerLen)));
  } catch {
    throw bad('header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad(`header is ${describeJson(header)}, expected a JSON object of tensors`);
  const dataStart = 8 + headerLen;
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(info, bad);
      continue;
    }
    const { dtype, shape, data_offsets } = checkEntry(name, info, bad);
    const [b, e] = data_offsets;
    if (!(e >= b && dataStart + e <= fileSize)) {
      throw new UserError(`${source}: tensor '${name}' lies outside the file (truncated? offsets ${b}..${e}, data size ${fileSize - dataStart})`);
    }
    if (!(dtype in DTYPE_WIDTH))
      throw new UserError(`${source}: tensor '${name}' has unsupported dtype ${dtype} (F32, F16, BF16, I32, I64 are read)`);
    const expected = shape.reduce((a, x) => a * x, 1) * DTYPE_WIDTH[dtype as HeaderEntry['dtype']];
    if (e - b !== expected) {
      throw new UserError(`${source}: tensor '${name}' has ${e - b} bytes, expected ${expected} for ${dtype} ${JSON.stringify(shape)}`);
    }
    entries.push({ name, dtype: dtype as HeaderEntry['dtype'], shape, begin: b, end: e });
  }
  return { entries, metadata, dataStart };
}

/**
 * Checks a safetensors file by its header alone (a few KB are read), so a damaged `--pretrained` file is
 * refused before any expensive work. The file is assumed to be a regular file (see `io/safe-read.ts`).
 */
export function checkSafetensorsHeader(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const first = Buffer.alloc(8);
    fs.readSync(fd, first, 0, 8, 0);
    const headerLen = size >= 8 ? Number(first.readBigUInt64LE(0)) : 0;
    const head = Buffer.alloc(size >= 8 && headerLen > 0 && 8 + headerLen <= size ? 8 + headerLen : Math.min(size, 8));
    fs.readSync(fd, head, 0, head.length, 0);
    parseHeader(head, size, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Parse a safetensors buffer. `source` names the file in error messages. */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors data'): { tensors: TensorMap; metadata: Record<string, string> } {
  const { entries, metadata, dataStart } = parseHeader(buf, buf.byteLength, source);
  const tensors: TensorMap = new Map();
  for (const { name, dtype, shape, begin, end } of entries) {
    const count = shape.reduce((a, x) => a * x, 1);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let data: Float32Array | Int32Array;
    if (dtype === 'F32') {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, true);
    } else if (dtype === 'F16') {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = f16ToF32(dv.getUint16(i * 2, true));
    } else if (dtype === 'BF16') {
      data = new Float32Array(count);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, dv.getUint16(i * 2, true) << 16, true);
        data[i] = tmp.getFloat32(0, true);
      }
    } else if (dtype === 'I32') {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(i * 4, true);
    } else {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
    }
    tensors.set(name, { dtype: dtype === 'I32' || dtype === 'I64' ? 'int32' : 'float32', shape: [...shape], data });
  }
  return { tensors, metadata };
}

/** Read and parse a safetensors file (a regular file within the weights size cap). */
export function readSafetensors(path: string, label = 'weights file'): { tensors: TensorMap; metadata: Record<string, string> } {
  return parseSafetensors(readUserFile(path, 'weights', label), path);
}

/** Serialise tensors (sorted by name, 8-byte aligned header) with optional string metadata. */
export function serializeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  let offset = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    const bytes = t.data.length * 4;
    header[n] = { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const n of names) {
    const t = tensors.get(n)!;
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength); // little-endian hosts (x86/arm)
    src.copy(out, pos);
    pos += src.length;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  fs.writeFileSync(path, serializeSafetensors(tensors, metadata));
}
