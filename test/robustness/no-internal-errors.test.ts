/**
 * Issue 14, item 5: no "internal error … please report it" for anything a user can hand us. Damaged
 * safetensors headers (null, a null entry, no shape, negative dimensions), a malformed Keras manifest,
 * `embed --out` into a missing folder (was raised after all the embedding work), a file name that is not
 * UTF-8, and file-system failures on a named path all get one line and exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.ts';
import { readLayersModel } from '../../src/io/tfjs-layers-model.ts';
import { systemErrorLine } from '../../src/system-errors.ts';
import { assertUserError, runCli, REPO } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

/** A safetensors buffer with this header text and `dataBytes` zero bytes after it. */
function withHeader(header: string, dataBytes = 16): Buffer {
  const h = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(8 + h.length + dataBytes);
  out.writeBigUInt64LE(BigInt(h.length), 0);
  h.copy(out, 8);
  return out;
}

const HEADERS: [string, RegExp][] = [
  ['null', /header is null, expected a JSON object/],
  ['[1, 2]', /header is a list/],
  ['"text"', /header is the string "text"/],
  ['{"w": null}', /tensor 'w' is null, expected \{dtype, shape, data_offsets\}/],
  ['{"w": {"dtype": "F32", "data_offsets": [0, 16]}}', /tensor 'w' needs "shape"/],
  ['{"w": {"dtype": "F32", "shape": [-2, -2], "data_offsets": [0, 16]}}', /tensor 'w' needs "shape": a list of non-negative integers, got \[-2,-2\]/],
  ['{"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 16]}}', /needs "shape"/],
  ['{"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 16]}}', /needs "shape"/],
  ['{"w": {"dtype": "F32", "shape": [4]}}', /tensor 'w' needs "data_offsets"/],
  ['{"w": {"dtype": "F32", "shape": [4], "data_offsets": [-4, 12]}}', /needs "data_offsets"/],
  ['{"w": {"shape": [4], "data_offsets": [0, 16]}}', /tensor 'w' has no "dtype"/],
  ['{"__metadata__": {"a": 1}, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', /"__metadata__" must map names to strings/],
];

test('damaged safetensors headers are UserErrors naming the file and the problem', () => {
  for (const [header, re] of HEADERS) {
    assert.throws(
      () => parseSafetensors(withHeader(header), 'w.safetensors'),
      (e: unknown) => {
        assert.ok(e instanceof UserError, `${header}: ${String(e)}`);
        assert.match(e.message, /^w\.safetensors: not a valid safetensors file/);
        assert.match(e.message, re, header);
        return true;
      },
    );
  }
  // A valid header still reads.
  const ok = parseSafetensors(withHeader('{"__metadata__": null, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}'), 'w');
  assert.deepEqual(ok.tensors.get('w')?.shape, [2, 2]);
});

test('--pretrained with a null header or negative dimensions: one line, exit 2, from the CLI', () => {
  const dir = tempDir();
  for (const [name, header] of [
    ['null', 'null'],
    ['neg', '{"conv1.weight": {"dtype": "F32", "shape": [-1, 3], "data_offsets": [0, 16]}}'],
  ]) {
    const file = path.join(dir, `${name}.safetensors`);
    fs.writeFileSync(file, withHeader(header));
    const r = runCli(['--dataset', 'sample', '--pretrained', file, '--backend', 'cpu', '--save_path', dir]);
    assertUserError(r, new RegExp(`${name}\\.safetensors: not a valid safetensors file`), name);
    assert.doesNotMatch(r.stderr, /backend:|image check/, 'refused before any work');
  }
});

test('a malformed Keras weightsManifest is a UserError, not a TypeError', () => {
  const dir = tempDir();
  const model = path.join(dir, 'model.json');
  for (const manifest of [
    [null],
    [{ paths: 'shard.bin', weights: [] }],
    [{ paths: ['shard.bin'], weights: [{ name: 'w', dtype: 'float32' }] }],
    [{ paths: ['shard.bin'], weights: [{ name: 'w', dtype: 'float32', shape: [-1] }] }],
  ]) {
    fs.writeFileSync(model, JSON.stringify({ format: 'layers-model', weightsManifest: manifest }));
    assert.throws(
      () => readLayersModel(model),
      (e: unknown) => e instanceof UserError && /weightsManifest group 0/.test(e.message),
      JSON.stringify(manifest),
    );
  }
});

test('embed --out into a missing folder fails before any work', () => {
  const dir = tempDir();
  const r = runCli([
    'embed',
    '--checkpoint',
    path.join(dir, 'nope'),
    '--images',
    dir,
    '--out',
    path.join(dir, 'missing', 'g.safetensors'),
    '--backend',
    'cpu',
  ]);
  assertUserError(r, /--out: folder '.*missing' does not exist/);
  assert.doesNotMatch(r.stderr, /backend:/, 'failed before the backend started');
  fs.mkdirSync(path.join(dir, 'x.npy'));
  const r2 = runCli(['embed', '--checkpoint', dir, '--images', dir, '--out', path.join(dir, 'x.npy'), '--backend', 'cpu']);
  assertUserError(r2, /--out: '.*x\.npy' is a folder/);
});

test('a file name that is not UTF-8 on the command line is named as such (was "does not exist")', () => {
  const dir = tempDir();
  const raw = Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.safetensors')]);
  fs.writeFileSync(raw, 'x');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `exec "${process.execPath}" bin/mic-train.js --dataset sample --backend cpu --save_path "${dir}" --pretrained "$(printf '${dir}/caf\\351.safetensors')"`,
    ],
    { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
  );
  assertUserError(
    { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, seconds: 0, timedOut: false },
    /--pretrained '.*caf\uFFFD\.safetensors' was not found: its name holds bytes that are not valid UTF-8/,
  );
});

test('a file-system error on a named path is one line (disk full, permissions), not an internal error', () => {
  const err = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    syscall: 'write',
    path: '/runs/x/log_val_Class.csv',
  });
  assert.equal(systemErrorLine(err), "cannot write '/runs/x/log_val_Class.csv': no space left on device (ENOSPC)");
  assert.equal(systemErrorLine(new TypeError('x is undefined')), null);
  assert.equal(systemErrorLine(Object.assign(new Error('boom'), { code: 'ERR_ASSERTION' })), null);
});
