import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, type TensorMap } from '../../src/io/safetensors.ts';
import { tempDir } from '../helpers/tmp.ts';

/** A safetensors buffer from a header object and raw data bytes (the format: u64 LE header length, JSON, data). */
function craft(header: Record<string, unknown>, data: number[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return out;
}

const le16 = (...xs: number[]) => xs.flatMap((x) => [x & 0xff, x >> 8]);

test('write → read round trip keeps names, shapes, dtypes, values and metadata', () => {
  const tensors: TensorMap = new Map([
    ['b.weight', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, 4, 5, 6]) }],
    ['a.count', { dtype: 'int32', shape: [], data: Int32Array.from([-7]) }],
  ]);
  const buf = serializeSafetensors(tensors, { arch: 'resnet50' });
  const headerLen = Number(buf.readBigUInt64LE(0));
  assert.equal((8 + headerLen) % 8, 0, 'data starts 8-byte aligned');
  const { tensors: back, metadata } = parseSafetensors(buf);
  assert.deepEqual(metadata, { arch: 'resnet50' });
  assert.deepEqual([...back.keys()], ['a.count', 'b.weight'], 'sorted by name');
  assert.deepEqual(back.get('b.weight'), tensors.get('b.weight'));
  assert.deepEqual(back.get('a.count'), tensors.get('a.count'));
  const dir = tempDir('st-');
  const file = path.join(dir, 'x.safetensors');
  writeSafetensors(file, tensors);
  assert.deepEqual(readSafetensors(file).tensors.get('b.weight'), tensors.get('b.weight'));
  fs.rmSync(dir, { recursive: true });
});

test('F16 and BF16 are widened to float32 exactly (hand-encoded bit patterns)', () => {
  // F16: 1.0, −2.0, 65504 (largest), 2^-24 (smallest subnormal), +∞.  BF16: 1.0, −3.0, 3.140625.
  const buf = craft(
    {
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] },
    },
    [...le16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00), ...le16(0x3f80, 0xc040, 0x4049)],
  );
  const { tensors } = parseSafetensors(buf);
  assert.deepEqual([...tensors.get('h')!.data], [1, -2, 65504, 2 ** -24, Infinity]);
  assert.deepEqual([...tensors.get('b')!.data], [1, -3, 3.140625]);
  assert.equal(tensors.get('h')!.dtype, 'float32');
});

test("I64 (PyTorch's num_batches_tracked) is read as int32", () => {
  const eight = [5, 0, 0, 0, 0, 0, 0, 0];
  const { tensors } = parseSafetensors(craft({ n: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, eight));
  assert.deepEqual(tensors.get('n'), { dtype: 'int32', shape: [], data: Int32Array.from([5]) });
});

test('a truncated file names the file and the tensor that lies outside it', () => {
  const full = serializeSafetensors(new Map([['layer1.0.conv1.weight', { dtype: 'float32', shape: [4, 4], data: new Float32Array(16) }]]));
  const cut = full.subarray(0, full.length - 10);
  assert.throws(
    () => parseSafetensors(cut, 'model.safetensors'),
    (e: unknown) => e instanceof UserError && /^model\.safetensors: tensor 'layer1\.0\.conv1\.weight' lies outside the file/.test(e.message),
  );
});

test('malformed headers, dtypes and sizes are UserErrors naming the file', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from([1, 2, 3]), /shorter than the 8-byte header length/],
    [Buffer.from('PK\x03\x04 a zip file, not safetensors at all'), /header length \d+ exceeds file size/],
    [
      (() => {
        const b = Buffer.alloc(12);
        b.writeBigUInt64LE(4n, 0);
        b.write('nope', 8);
        return b;
      })(),
      /header is not JSON/,
    ],
    [craft({ t: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)), /tensor 't' has unsupported dtype F64/],
    [craft({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)), /tensor 't' has 8 bytes, expected 12/],
  ];
  for (const [buf, re] of cases) {
    assert.throws(
      () => parseSafetensors(buf, 'w.safetensors'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('w.safetensors') && re.test(e.message),
      String(re),
    );
  }
  assert.throws(
    () => readSafetensors('/nonexistent/w.safetensors'),
    (e: unknown) => e instanceof UserError && /\/nonexistent\/w\.safetensors.*was not found/.test(e.message),
  );
});
