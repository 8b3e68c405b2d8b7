import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { serializeSafetensors } from '../../src/io/safetensors.ts';
import { readPretrainedWeights, readTorchvisionSafetensors } from '../../src/io/weights.ts';
import { FIXTURE_DIR } from '../helpers/model-fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

const FIXTURE = path.join(FIXTURE_DIR, 'resnet50-w8.weights.safetensors');
const tmp = tempDir('mic-weights-test-');
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function isUserError(re: RegExp) {
  return (e: unknown) => e instanceof UserError && re.test(e.message);
}

test('reads a torchvision-named safetensors file written by PyTorch (the fixture script)', () => {
  const t = readTorchvisionSafetensors(FIXTURE);
  assert.deepEqual(t.get('conv1.weight')!.shape, [8, 3, 7, 7]);
  assert.equal(t.get('bn1.num_batches_tracked')!.dtype, 'int32');
});

test('a truncated file: the error names the file and the first tensor past the cut', () => {
  const full = fs.readFileSync(FIXTURE);
  const headerLen = Number(full.readBigUInt64LE(0));
  const header = JSON.parse(full.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const keep = Math.floor((full.length - 8 - headerLen) / 2);
  // Independently of the reader: the tensor with the smallest start offset whose bytes do not all survive the cut.
  const firstBad = Object.entries(header)
    .filter(([n, h]) => n !== '__metadata__' && h.data_offsets[1] > keep)
    .sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])[0][0];
  const cut = path.join(tmp, 'truncated.safetensors');
  fs.writeFileSync(cut, full.subarray(0, 8 + headerLen + keep));
  assert.throws(
    () => readTorchvisionSafetensors(cut),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.ok(e.message.startsWith(cut), e.message);
      assert.ok(e.message.includes(`'${firstBad}'`), `${e.message} should name ${firstBad}`);
      return true;
    },
  );
});

test('wrong formats get a hint: a PyTorch .pth (zip), a model.json, a folder, a missing file', () => {
  const pth = path.join(tmp, 'resnet50.pth');
  fs.writeFileSync(pth, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]));
  assert.throws(() => readTorchvisionSafetensors(pth), isUserError(/resnet50\.pth: not a safetensors file.*PyTorch \.pth.*--convert/));
  const json = path.join(tmp, 'model.json');
  fs.writeFileSync(json, '\n  {"format": "layers-model"}');
  assert.throws(() => readTorchvisionSafetensors(json), isUserError(/model\.json: not a safetensors file.*--pretrained-format keras/));
  assert.throws(() => readTorchvisionSafetensors(tmp), isUserError(/is a folder; expected a \.safetensors file/));
  assert.throws(
    () => readTorchvisionSafetensors(path.join(tmp, 'none.safetensors')),
    isUserError(/--pretrained '.*none\.safetensors' was not found/),
  );
  assert.throws(
    () => readPretrainedWeights(path.join(tmp, 'none/model.json'), 'keras'),
    isUserError(/no such file; expected the model\.json of a Keras ResNet50/),
  );
});

test('non-finite values and empty files are refused, naming the tensor', () => {
  const nan = path.join(tmp, 'nan.safetensors');
  fs.writeFileSync(
    nan,
    serializeSafetensors(
      new Map([
        ['bn1.weight', { dtype: 'float32', shape: [3], data: Float32Array.from([1, 1, 1]) }],
        ['layer1.0.bn1.running_var', { dtype: 'float32', shape: [3], data: Float32Array.from([1, NaN, 1]) }],
      ]),
    ),
  );
  assert.throws(() => readTorchvisionSafetensors(nan), isUserError(/nan\.safetensors: tensor 'layer1\.0\.bn1\.running_var' contains NaN at index 1/));
  const empty = path.join(tmp, 'empty.safetensors');
  fs.writeFileSync(empty, serializeSafetensors(new Map()));
  assert.throws(() => readTorchvisionSafetensors(empty), isUserError(/holds no tensors/));
});
