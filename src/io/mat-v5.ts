/**
 * A reader for the subset of MATLAB's Level 5 MAT-file format (also what `save -v7` writes) that dataset
 * annotation files use: numeric arrays of every class, char arrays, cell arrays and struct arrays, compressed
 * (zlib) or not, either byte order. Sparse arrays, objects and v7.3 files (HDF5) are refused with a message.
 * Written from MathWorks' published "MAT-File Format" description: a 128-byte header, then data elements,
 * each an 8-byte tag (type, byte count) — or a 4-byte "small element" tag with up to 4 bytes of data — padded
 * to 8 bytes; a matrix element holds array flags, dimensions, a name and the class's data sub-elements.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { UserError } from '../errors.ts';

export type MatValue =
  | { kind: 'numeric'; class: string; dims: number[]; data: Float64Array; imag?: Float64Array }
  | { kind: 'char'; dims: number[]; rows: string[] }
  | { kind: 'cell'; dims: number[]; cells: MatValue[] }
  | { kind: 'struct'; dims: number[]; fields: string[]; elements: Record<string, MatValue>[] };

// Data element types (miXXX).
const MI_INT8 = 1,
  MI_UINT8 = 2,
  MI_INT16 = 3,
  MI_UINT16 = 4,
  MI_INT32 = 5,
  MI_UINT32 = 6,
  MI_SINGLE = 7,
  MI_DOUBLE = 9;
const MI_INT64 = 12,
  MI_UINT64 = 13,
  MI_MATRIX = 14,
  MI_COMPRESSED = 15,
  MI_UTF8 = 16,
  MI_UTF16 = 17,
  MI_UTF32 = 18;
// Array classes (mxXXX_CLASS).
const MX_CELL = 1,
  MX_STRUCT = 2,
  MX_OBJECT = 3,
  MX_CHAR = 4,
  MX_SPARSE = 5;
const MX_NUMERIC: Record<number, string> = {
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};

class Bad extends Error {}

/** A data element: its type and its bytes. */
interface Element {
  type: number;
  bytes: Buffer;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
  ) {}

  u32(at: number): number {
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** The next element; `pad` = skip to an 8-byte boundary after it (every element but a compressed one). */
  next(): Element {
    if (this.pos + 8 > this.buf.length) throw new Bad('truncated element tag');
    const first = this.u32(this.pos);
    // Small data element: the byte count sits in the upper half of the type word (either byte order).
    const small = first >>> 16;
    if (small !== 0) {
      const type = first & 0xffff;
      if (small > 4) throw new Bad(`small element of ${small} bytes`);
      const bytes = this.buf.subarray(this.pos + 4, this.pos + 4 + small);
      this.pos += 8;
      return { type, bytes };
    }
    const n = this.u32(this.pos + 4);
    const start = this.pos + 8;
    if (start + n > this.buf.length) throw new Bad(`element of ${n} bytes runs past the end`);
    this.pos = start + n;
    if (first !== MI_COMPRESSED) this.pos += (8 - (n % 8)) % 8;
    return { type: first, bytes: this.buf.subarray(start, start + n) };
  }

  /** Numbers of an element of any numeric type. */
  numbers(e: Element): Float64Array {
    const b = e.bytes;
    const width: Record<number, number> = {
      [MI_INT8]: 1,
      [MI_UINT8]: 1,
      [MI_INT16]: 2,
      [MI_UINT16]: 2,
      [MI_INT32]: 4,
      [MI_UINT32]: 4,
      [MI_SINGLE]: 4,
      [MI_DOUBLE]: 8,
      [MI_INT64]: 8,
      [MI_UINT64]: 8,
      [MI_UTF8]: 1,
      [MI_UTF16]: 2,
      [MI_UTF32]: 4,
    };
    const w = width[e.type];
    if (!w) throw new Bad(`data of element type ${e.type} is not numeric`);
    const n = Math.floor(b.length / w);
    const out = new Float64Array(n);
    const le = this.le;
    for (let i = 0; i < n; i++) {
      const o = i * w;
      switch (e.type) {
        case MI_INT8:
          out[i] = b.readInt8(o);
          break;
        case MI_UINT8:
        case MI_UTF8:
          out[i] = b[o];
          break;
        case MI_INT16:
          out[i] = le ? b.readInt16LE(o) : b.readInt16BE(o);
          break;
        case MI_UINT16:
        case MI_UTF16:
          out[i] = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
          break;
        case MI_INT32:
          out[i] = le ? b.readInt32LE(o) : b.readInt32BE(o);
          break;
        case MI_UINT32:
        case MI_UTF32:
          out[i] = le ? b.readUInt32LE(o) : b.readUInt32BE(o);
          break;
        case MI_SINGLE:
          out[i] = le ? b.readFloatLE(o) : b.readFloatBE(o);
          break;
        case MI_DOUBLE:
          out[i] = le ? b.readDoubleLE(o) : b.readDoubleBE(o);
          break;
        case MI_INT64:
          out[i] = Number(le ? b.readBigInt64LE(o) : b.readBigInt64BE(o));
          break;
        case MI_UINT64:
          out[i] = Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
          break;
      }
    }
    return out;
  }

  /** Text of a char array's data element (UTF-8 is decoded as such; other types are code units). */
  chars(e: Element): string[] {
    if (e.type === MI_UTF8) return [...e.bytes.toString('utf8')];
    return Array.from(this.numbers(e), (c) => String.fromCodePoint(c));
  }
}

function product(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Parses one miMATRIX element's contents. */
function parseMatrix(bytes: Buffer, le: boolean): { name: string; value: MatValue } {
  if (bytes.length === 0) return { name: '', value: { kind: 'numeric', class: 'double', dims: [0, 0], data: new Float64Array(0) } };
  const r = new Reader(bytes, le);
  const flags = r.numbers(r.next());
  const cls = flags[0] & 0xff;
  const complex = (flags[0] & 0x800) !== 0;
  const dims = Array.from(r.numbers(r.next()));
  const name = r.next().bytes.toString('latin1');
  const count = product(dims);
  if (cls === MX_CHAR) {
    const chars = r.done() ? [] : r.chars(r.next());
    // Column-major m×n: row i holds chars i, i+m, i+2m, …
    const m = dims[0] ?? 0;
    const rows = Array.from({ length: m }, (_, i) => {
      let s = '';
      for (let j = i; j < chars.length; j += m) s += chars[j];
      return s;
    });
    return { name, value: { kind: 'char', dims, rows } };
  }
  if (cls === MX_CELL) {
    const cells = Array.from({ length: count }, () => parseElementValue(r.next(), le).value);
    return { name, value: { kind: 'cell', dims, cells } };
  }
  if (cls === MX_STRUCT) {
    const len = r.numbers(r.next())[0];
    const raw = r.next().bytes;
    const fields: string[] = [];
    for (let o = 0; o + len <= raw.length; o += len)
      fields.push(
        raw
          .subarray(o, o + len)
          .toString('latin1')
          .replace(/\0.*$/s, ''),
      );
    const elements = Array.from({ length: count }, () => {
      const el: Record<string, MatValue> = {};
      for (const f of fields) el[f] = parseElementValue(r.next(), le).value;
      return el;
    });
    return { name, value: { kind: 'struct', dims, fields, elements } };
  }
  if (cls === MX_SPARSE || cls === MX_OBJECT || !(cls in MX_NUMERIC)) {
    throw new Bad(
      `variable '${name}' is a ${cls === MX_SPARSE ? 'sparse array' : cls === MX_OBJECT ? 'MATLAB object' : `array of class ${cls}`}, which is not read`,
    );
  }
  const data = count === 0 || r.done() ? new Float64Array(0) : r.numbers(r.next());
  const imag = complex ? r.numbers(r.next()) : undefined;
  if (data.length !== count) throw new Bad(`variable '${name}' has ${data.length} values for dimensions ${dims.join('x')}`);
  return { name, value: { kind: 'numeric', class: MX_NUMERIC[cls], dims, data, ...(imag ? { imag } : {}) } };
}

/** A top-level or nested element that must be a matrix (compressed or not). */
function parseElementValue(e: Element, le: boolean): { name: string; value: MatValue } {
  if (e.type === MI_COMPRESSED) {
    let inflated: Buffer;
    try {
      inflated = zlib.inflateSync(e.bytes);
    } catch (err) {
      throw new Bad(`compressed element does not inflate (${(err as Error).message})`);
    }
    return parseElementValue(new Reader(inflated, le).next(), le);
  }
  if (e.type !== MI_MATRIX) throw new Bad(`expected a matrix element, found type ${e.type}`);
  return parseMatrix(e.bytes, le);
}

/** Every variable of a Level 5 MAT-file, by name. Errors are UserErrors naming the file. */
export function readMatV5(file: string): Map<string, MatValue> {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf.length < 128 || !buf.toString('latin1', 0, 10).startsWith('MATLAB')) throw new UserError(`${file}: not a MATLAB .mat file`);
  if (buf.toString('latin1', 0, 19) === 'MATLAB 7.3 MAT-file') {
    throw new UserError(`${file}: a MATLAB v7.3 (HDF5) file, which is not read; save it again with -v7`);
  }
  const endian = buf.toString('latin1', 126, 128);
  if (endian !== 'IM' && endian !== 'MI') throw new UserError(`${file}: not a Level 5 MAT-file (no byte-order mark)`);
  const le = endian === 'IM';
  const r = new Reader(buf.subarray(128), le);
  const vars = new Map<string, MatValue>();
  try {
    while (!r.done()) {
      const { name, value } = parseElementValue(r.next(), le);
      vars.set(name, value);
    }
  } catch (e) {
    if (e instanceof Bad) throw new UserError(`${file}: damaged or unsupported MAT-file (${e.message})`);
    throw e;
  }
  return vars;
}

/** The text of a 1-row char array (a MATLAB string); `what` names it in the UserError otherwise. */
export function matString(v: MatValue | undefined, what: string): string {
  if (v?.kind !== 'char' || v.rows.length > 1) throw new UserError(`${what} is not a string`);
  return v.rows[0] ?? '';
}

/** The single number of a 1×1 numeric array; `what` names it in the UserError otherwise. */
export function matScalar(v: MatValue | undefined, what: string): number {
  if (v?.kind !== 'numeric' || v.data.length !== 1) throw new UserError(`${what} is not a single number`);
  return v.data[0];
}
