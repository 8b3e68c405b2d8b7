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
function checkEntry(name: string, info: unknown, bad: (why: string) => UserError): { dtype: string; shape: number[]; data_offsets: [number, number] } {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw bad(`tensor '${name}' is ${describeJson(info)}, expected {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad(`tensor '${name}' has no "dtype" string`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`tensor '${name}' needs "shape": a list of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing'}`);
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

/** Parse a safetensors buffer. `source` names the file in error messages. */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors data'): { tensors: TensorMap; metadata: Record<string, string> } {
  const bad = (why: string) => new UserError(`${source}: not a valid safetensors file (${why})`);
  if (buf.byteLength < 8) throw bad('shorter than the 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > buf.byteLength) throw bad(`header length ${headerLen} exceeds file size ${buf.byteLength}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch {
    throw bad('header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad(`header is ${describeJson(header)}, expected a JSON object of tensors`);
  const dataStart = 8 + headerLen;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(info, bad);
      continue;
    }
    const { dtype, shape, data_offsets } = checkEntry(name, info, bad);
    const [b, e] = data_offsets;
    const count = shape.reduce((a, x) => a * x, 1);
    if (!(e >= b && dataStart + e <= buf.byteLength)) {
      throw new UserError(`${source}: tensor '${name}' lies outside the file (truncated? offsets ${b}..${e}, data size ${buf.byteLength - dataStart})`);
    }
    const bytes = buf.subarray(dataStart + b, dataStart + e);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const width: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };
    if (!(dtype in width)) throw new UserError(`${source}: tensor '${name}' has unsupported dtype ${dtype} (F32, F16, BF16, I32, I64 are read)`);
    if (bytes.byteLength !== count * width[dtype]) {
      throw new UserError(`${source}: tensor '${name}' has ${bytes.byteLength} bytes, expected ${count * width[dtype]} for ${dtype} ${JSON.stringify(shape)}`);
    }
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
