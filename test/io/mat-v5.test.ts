import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { UserError } from '../../src/errors.ts';
import { matScalar, matString, readMatV5, type MatValue } from '../../src/io/mat-v5.ts';
import { REPO } from '../helpers/cli.ts';

const FIX = path.join(REPO, 'test', 'fixtures', 'data');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-mat-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function numeric(v: MatValue | undefined): { dims: number[]; data: number[]; imag?: number[]; cls: string } {
  assert.equal(v?.kind, 'numeric');
  const n = v as Extract<MatValue, { kind: 'numeric' }>;
  return { dims: n.dims, data: [...n.data], cls: n.class, ...(n.imag ? { imag: [...n.imag] } : {}) };
}

test('every array kind written by SciPy (uncompressed): numbers of each class, complex, strings, char rows, cells, empty', () => {
  const m = readMatV5(path.join(FIX, 'mat_types.mat'));
  assert.deepEqual(numeric(m.get('d')), { dims: [2, 3], data: [1.5, 4, -2, 5, 3.25, 6], cls: 'double' }, 'column-major');
  assert.deepEqual(numeric(m.get('i8')), { dims: [1, 2], data: [-3, 7], cls: 'int8' });
  assert.deepEqual(numeric(m.get('u16')), { dims: [1, 1], data: [65535], cls: 'uint16' });
  assert.deepEqual(numeric(m.get('i64')), { dims: [1, 1], data: [-(2 ** 40)], cls: 'int64' });
  assert.deepEqual(numeric(m.get('f32')), { dims: [1, 1], data: [0.5], cls: 'single' });
  assert.deepEqual(numeric(m.get('z')), { dims: [1, 1], data: [1], imag: [2], cls: 'double' });
  assert.equal(matString(m.get('s'), 's'), 'héllo');
  assert.deepEqual((m.get('rows') as Extract<MatValue, { kind: 'char' }>).rows, ['ab', 'cd']);
  const c = m.get('c') as Extract<MatValue, { kind: 'cell' }>;
  assert.equal(c.kind, 'cell');
  assert.deepEqual(c.dims, [1, 2]);
  assert.equal(matScalar(c.cells[0], 'c{1}'), 1);
  assert.equal(matString(c.cells[1], 'c{2}'), 'x');
  assert.deepEqual(numeric(m.get('empty')).data, []);
});

test("a compressed struct array shaped like Stanford Cars' cars_annos.mat", () => {
  const m = readMatV5(path.join(FIX, 'cars_annos_mini.mat'));
  const a = m.get('annotations') as Extract<MatValue, { kind: 'struct' }>;
  assert.equal(a.kind, 'struct');
  assert.deepEqual(a.fields, ['relative_im_path', 'bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2', 'class', 'test']);
  assert.deepEqual(
    a.elements.map((e) => [matString(e.relative_im_path, 'p'), matScalar(e.class, 'c'), matScalar(e.test, 't'), matScalar(e.bbox_x2, 'x2')]),
    [
      ['car_ims/000001.jpg', 1, 0, 300],
      ['car_ims/000002.jpg', 1, 1, 301],
      ['car_ims/000003.jpg', 2, 0, 302],
      ['car_ims/000004.jpg', 3, 0, 303],
      ['car_ims/000005.jpg', 3, 1, 304],
      ['car_ims/000006.jpg', 4, 0, 305],
    ],
  );
  const names = m.get('class_names') as Extract<MatValue, { kind: 'cell' }>;
  assert.deepEqual(
    names.cells.map((v) => matString(v, 'n')),
    ['AM General Hummer SUV 2000', 'Acura RL Sedan 2012', 'Ram C/V Cargo Van Minivan 2012', 'smart fortwo Convertible 2012'],
  );
});

/** Bytes of a data element with an 8-byte tag (little-endian), padded to 8. */
function el(type: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(data.length, 4);
  return Buffer.concat([tag, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
}
/** A small data element: byte count in the upper half of the type word, data in the tag's last 4 bytes. */
function small(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(((data.length << 16) | type) >>> 0, 0);
  data.copy(b, 4);
  return b;
}
function header(): Buffer {
  const h = Buffer.alloc(128, 0x20);
  h.write('MATLAB 5.0 MAT-file, written by hand for a test', 0, 'latin1');
  h.writeUInt16LE(0x0100, 124);
  h.write('IM', 126, 'latin1');
  return h;
}

test('MATLAB-style storage: a double stored as uint8 data in small elements, inside a compressed element', () => {
  // Array flags (mxDOUBLE_CLASS = 6), dims 1x2, name "k" as a small element, data as miUINT8 (type 2) small element.
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(6, 0);
  const dims = Buffer.alloc(8);
  dims.writeInt32LE(1, 0);
  dims.writeInt32LE(2, 4);
  const matrix = el(14, Buffer.concat([el(6, flags), el(5, dims), small(1, Buffer.from('k')), small(2, Buffer.from([7, 200]))]));
  const deflated = zlib.deflateSync(matrix);
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(15, 0);
  tag.writeUInt32LE(deflated.length, 4);
  const file = path.join(tmp, 'matlab.mat');
  fs.writeFileSync(file, Buffer.concat([header(), tag, deflated]));
  assert.deepEqual(numeric(readMatV5(file).get('k')), { dims: [1, 2], data: [7, 200], cls: 'double' });
});

test('not a MAT-file, v7.3 (HDF5), truncated, sparse: one-line UserErrors naming the file', () => {
  const write = (name: string, b: Buffer) => (fs.writeFileSync(path.join(tmp, name), b), path.join(tmp, name));
  const isUser = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => readMatV5(write('x.mat', Buffer.from('hello'))), isUser(/x\.mat: not a MATLAB \.mat file/));
  const h73 = header();
  h73.write('MATLAB 7.3 MAT-file, Platform: GLNXA64', 0, 'latin1');
  assert.throws(() => readMatV5(write('h5.mat', h73)), isUser(/h5\.mat: a MATLAB v7\.3 \(HDF5\) file/));
  const full = fs.readFileSync(path.join(FIX, 'mat_types.mat'));
  assert.throws(() => readMatV5(write('cut.mat', full.subarray(0, full.length - 20))), isUser(/cut\.mat: damaged or unsupported MAT-file/));
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(5, 0);
  const dims = Buffer.alloc(8, 0);
  const sparse = el(14, Buffer.concat([el(6, flags), el(5, dims), small(1, Buffer.from('sp'))]));
  assert.throws(() => readMatV5(write('sp.mat', Buffer.concat([header(), sparse]))), isUser(/variable 'sp' is a sparse array, which is not read/));
  assert.throws(() => readMatV5(path.join(tmp, 'none.mat')), isUser(/none\.mat: cannot read \(ENOENT\)/));
});
