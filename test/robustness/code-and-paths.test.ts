/**
 * Issue 14, item 6: nothing we execute or read can be swapped in by another user. The threaded wasm
 * backend's worker script used to go to a predictable `<tmp>/mic-train-tfjs-wasm-worker-<pid>.cjs` (links
 * followed, left behind after a kill) and was then run; Keras `weightsManifest.paths` were not confined to
 * the model's folder (`../../../../etc/passwd` was read and its size leaked in the error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { readLayersModel } from '../../src/io/tfjs-layers-model.ts';
import { REPO } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

test('--threads 2: the worker script lives in a private mkdtemp folder that is gone after exit; stale ones of dead runs are removed', () => {
  const dead = spawnSync('true').pid!; // a pid that has just exited
  const stale = fs.mkdtempSync(path.join(os.tmpdir(), `mic-train-wasm-${dead}-`));
  fs.writeFileSync(path.join(stale, 'worker.cjs'), '// left by a killed run');
  const script = path.join(tempDir(), 'threads.mts');
  fs.writeFileSync(
    script,
    `
    import fs from 'node:fs';
    import { selectBackend } from ${JSON.stringify(path.join(REPO, 'src/backend/select.ts'))};
    import { wasmWorkerDir } from ${JSON.stringify(path.join(REPO, 'src/backend/wasm-threads.ts'))};
    await selectBackend('wasm', { threads: 2 });
    const dir = wasmWorkerDir()!;
    const st = fs.statSync(dir);
    process.stdout.write(JSON.stringify({ pid: process.pid, dir, mode: st.mode & 0o777, files: fs.readdirSync(dir) }));
  `,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const seen = JSON.parse(r.stdout) as { pid: number; dir: string; mode: number; files: string[] };
  assert.match(path.basename(seen.dir), new RegExp(`^mic-train-wasm-${seen.pid}-[A-Za-z0-9]{6}$`), 'unpredictable name');
  assert.equal(seen.mode, 0o700, 'only we can write there');
  assert.deepEqual(seen.files, ['worker.cjs']);
  assert.ok(!fs.existsSync(seen.dir), 'removed on exit');
  assert.ok(!fs.existsSync(path.join(os.tmpdir(), `mic-train-tfjs-wasm-worker-${seen.pid}.cjs`)), 'no file at the old predictable path');
  assert.ok(!fs.existsSync(stale), 'the stale folder of a dead run was removed');
});

test('Keras shard paths are confined to the model folder: ../, absolute paths and links out are refused without reading', () => {
  const dir = tempDir();
  const modelDir = path.join(dir, 'model');
  fs.mkdirSync(modelDir);
  const secret = path.join(dir, 'secret.bin');
  fs.writeFileSync(secret, Buffer.alloc(1234));
  fs.symlinkSync(secret, path.join(modelDir, 'link.bin'));
  const model = path.join(modelDir, 'model.json');
  const escape = path.relative(modelDir, '/etc/passwd');
  for (const [shard, why] of [
    [escape, /points outside the model folder/],
    ['../secret.bin', /points outside the model folder/],
    [secret, /is not a relative file name/],
    ['link.bin', /is a link that points outside the model folder/],
  ] as const) {
    fs.writeFileSync(
      model,
      JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: [shard], weights: [{ name: 'w', dtype: 'float32', shape: [1] }] }] }),
    );
    assert.throws(
      () => readLayersModel(model),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, why, shard);
        assert.doesNotMatch(e.message, /1234|bytes/, 'nothing about the outside file leaks');
        return true;
      },
    );
  }
  // A shard inside the folder (also through a link that stays inside) still reads.
  fs.writeFileSync(path.join(modelDir, 'ok.bin'), Buffer.from(new Float32Array([2.5]).buffer));
  fs.symlinkSync('ok.bin', path.join(modelDir, 'alias.bin'));
  for (const shard of ['ok.bin', 'alias.bin', './ok.bin']) {
    fs.writeFileSync(
      model,
      JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: [shard], weights: [{ name: 'w', dtype: 'float32', shape: [1] }] }] }),
    );
    assert.deepEqual([...readLayersModel(model).weights.get('w')!.data], [2.5]);
  }
});
