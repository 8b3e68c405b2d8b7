import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDoctorArgs } from '../../src/commands/doctor.ts';
import { UserError } from '../../src/errors.ts';

test('doctor flags: defaults left to the backend, checks with one-line errors', () => {
  const d = parseDoctorArgs([]);
  assert.equal(d.backend, 'auto');
  assert.equal(d.arch, 'resnet50');
  assert.equal(d.inputSize, undefined);
  assert.equal(d.bs, undefined);
  const e = parseDoctorArgs(['--backend', 'cpu', '--arch', 'googlenet', '--input-size', '48', '--bs', '6', '--gpu', '0']);
  assert.deepEqual([e.backend, e.arch, e.inputSize, e.bs, e.gpu], ['cpu', 'googlenet', 48, 6, 0]);
  for (const [argv, msg] of [
    [['--backend', 'cuda'], /--backend: unknown value 'cuda'/],
    [['--arch', 'vgg'], /--arch: unknown value 'vgg'/],
    [['--input-size', '16'], /--input-size: at least 32/],
    [['--bs', '3'], /--bs: even and at least 4/],
    [['--gpu', 'x'], /--gpu: expected a GPU index/],
    [['--epochs', '3'], /unknown flag --epochs/],
  ] as const) {
    assert.throws(
      () => parseDoctorArgs([...argv]),
      (err: unknown) => err instanceof UserError && msg.test(err.message),
    );
  }
});
