import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatParameterInfo, pythonValue, writeRunInfo } from '../../src/report/run-info.ts';
import { resolveConfig } from '../../src/cli/parse.ts';
import { tempDir } from '../helpers/tmp.ts';

test('values are printed as Python prints them', () => {
  assert.equal(pythonValue([1, 2, 4, 8], 'int'), '[1, 2, 4, 8]');
  assert.equal(pythonValue([1, 0.8], 'float'), '[1.0, 0.8]');
  assert.equal(pythonValue(1e-5, 'float'), '1e-05');
  assert.equal(pythonValue(4e-4, 'float'), '0.0004');
  assert.equal(pythonValue(2500, 'float'), '2500.0');
  assert.equal(pythonValue(['marginloss', 'marginloss'], 'string'), "['marginloss', 'marginloss']");
  assert.equal(pythonValue('cub200', 'string'), 'cub200');
  assert.equal(pythonValue(true), 'True');
  assert.equal(pythonValue(null), 'None');
});

test('Parameter_Info.txt: key line, tab-indented value line, blank line; flag names; dicts one level deep', () => {
  const text = formatParameterInfo(
    { dataset: 'cub200', kVals: [1, 2, 4, 8], lr: 1e-5, notPretrained: false },
    { backend: 'wasm', versions: { '@tensorflow/tfjs': '4.22.0', node: 'v20.20.2' } },
  );
  assert.equal(
    text,
    'dataset\n\tcub200\n\n' +
      'k_vals\n\t[1, 2, 4, 8]\n\n' +
      'lr\n\t1e-05\n\n' +
      'not_pretrained\n\tFalse\n\n' +
      'backend\n\twasm\n\n' +
      'versions\n\t@tensorflow/tfjs: 4.22.0\n\tnode: v20.20.2\n\n',
  );
});

test('hypa.json given to --config resolves to the same RunConfig (the run is reproducible)', () => {
  const dir = tempDir('mic-info-');
  const cfg = resolveConfig({ dataset: 'cars196', seed: 3, tau: [20, 35], task_p: [1, 0.5], savename: 'x', loss: 'triplet' });
  writeRunInfo(dir, cfg, { device: 'cpu' });
  const again = resolveConfig({ config: path.join(dir, 'hypa.json') });
  assert.deepEqual(again, cfg);
  const info = fs.readFileSync(path.join(dir, 'Parameter_Info.txt'), 'utf8');
  assert.match(info, /^dataset\n\tcars196\n\n/);
  assert.match(info, /\ntau\n\t\[20, 35\]\n\n/);
  assert.match(info, /\ndevice\n\tcpu\n\n$/);
});
