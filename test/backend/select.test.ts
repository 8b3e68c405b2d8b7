import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendEnv } from '../../src/backend/select.ts';
import { UserError } from '../../src/errors.ts';

/** An environment where the tfjs-node packages are absent, as on CI. */
const absent: BackendEnv = {
  requireModule(name: string) {
    if (name.startsWith('@tensorflow/tfjs-node')) {
      const e = new Error(`Cannot find module '${name}'`) as NodeJS.ErrnoException;
      e.code = 'MODULE_NOT_FOUND';
      throw e;
    }
    return {};
  },
};

test('auto falls back past absent tfjs-node packages to wasm and says why', async () => {
  const lines: string[] = [];
  const r = await selectBackend('auto', { env: absent, log: (l) => lines.push(l) });
  assert.equal(r.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(r.reason, /tfjs-node-gpu not installed/);
  assert.match(r.reason, /tfjs-node not installed/);
  assert.deepEqual(lines, [r.reason]);
  assert.ok(r.versions['tfjs-core']);
});

test('explicit unavailable backend is a clear UserError', async () => {
  await assert.rejects(selectBackend('tensorflow-gpu', { env: absent }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /--backend tensorflow-gpu: not available: @tensorflow\/tfjs-node-gpu not installed/);
    return true;
  });
});

test('a package that is present but broken is reported with its load error', async () => {
  const broken: BackendEnv = {
    requireModule(name: string) {
      if (name === '@tensorflow/tfjs-node-gpu') throw new Error('The native addon module (tfjs_binding.node) can not be found');
      return absent.requireModule(name);
    },
  };
  const r = await selectBackend('auto', { env: broken });
  assert.match(r.reason, /tfjs-node-gpu failed to load \(The native addon module/);
});

test('cpu backend can be chosen explicitly', async () => {
  const r = await selectBackend('cpu', { env: absent });
  assert.equal(r.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});
