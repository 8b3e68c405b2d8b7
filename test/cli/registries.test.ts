import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLAG_BY_NAME } from '../../src/cli/flags.ts';
import { parseArgv, resolveConfig } from '../../src/cli/parse.ts';
import { DATASETS } from '../../src/data/datasets/index.ts';
import { LOSSES, lossMines, MINERS } from '../../src/losses/registry.ts';
import { ARCHS } from '../../src/models/registry.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const resolve = (argv: string[]) => resolveConfig(parseArgv(argv));

test('the flags accept exactly the registry keys, in registry order', () => {
  const pairs: [string, object][] = [
    ['dataset', DATASETS],
    ['arch', ARCHS],
    ['losses', LOSSES],
    ['loss', LOSSES],
    ['sampling', MINERS],
  ];
  for (const [flag, registry] of pairs) assert.deepEqual(FLAG_BY_NAME.get(flag)?.choices, Object.keys(registry), `--${flag}`);
});

test('every registry key passes the CLI; a loss that does not mine gets one image per class', () => {
  for (const dataset of Object.keys(DATASETS)) assert.equal(resolve(['--dataset', dataset]).dataset, dataset);
  for (const arch of Object.keys(ARCHS)) assert.equal(resolve(['--arch', arch]).arch, arch);
  for (const sampling of Object.keys(MINERS)) assert.deepEqual(resolve(['--sampling', sampling, sampling]).sampling, [sampling, sampling]);
  for (const loss of Object.keys(LOSSES)) {
    const c = resolve(['--loss', loss, '--cs_per_bs', '4', '4']);
    assert.deepEqual(c.losses, [loss, loss]);
    assert.deepEqual(c.csPerBs, lossMines(loss) ? [4, 4] : [1, 1], loss);
  }
  assert.equal(lossMines('proxynca'), false);
  assert.equal(lossMines('marginloss'), true);
});

test('the CLI reads the registries without loading tfjs (mic-train --help and --dry-run stay fast)', () => {
  // tfjs-core creates globalThis._tfengine when it is first imported.
  const script = [
    "const { parseArgv, resolveConfig } = await import('./src/cli/parse.ts');",
    "await import('./src/cli/flags-table.ts');",
    "const c = resolveConfig(parseArgv(['--dataset', 'sample', '--losses', 'proxynca', 'triplet', '--arch', 'googlenet']));",
    'process.stdout.write(JSON.stringify({ tf: typeof globalThis._tfengine, cs: c.csPerBs }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { tf: 'undefined', cs: [1, 4] });
});
