import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { useTestBackend } from '../helpers/tf.ts';
import { withScope } from '../../src/backend/kernels/wasm-scope.ts';
import { heapKernels } from '../../src/backend/kernels/heap-kernels.ts';

const tf = await useTestBackend('wasm');

test('SIMD transpose on the heap: every shape class (4×4 blocks, ragged edges, 64-column strips, batches)', () => {
  const backend = tf.backend() as BackendWasm;
  assert.ok(heapKernels(backend), 'heap kernels bound to the wasm backend');
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 3, 5],
    [1, 4, 4],
    [2, 5, 4],
    [1, 67, 130],
    [3, 130, 67],
    [1, 8, 200],
    [1, 257, 3],
  ];
  for (const [batch, rows, cols] of shapes) {
    const values = Float32Array.from({ length: batch * rows * cols }, (_, i) => i * 0.5 - 7);
    const x = tf.tensor3d(values, [batch, rows, cols]);
    const info = withScope(backend, (s) => s.transpose(x, [0, 2, 1]));
    const y = tf.engine().makeTensorFromTensorInfo(info);
    const got = y.dataSync();
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const want = values[(b * rows + i) * cols + j];
          const have = got[(b * cols + j) * rows + i];
          if (have !== want) assert.fail(`[${batch},${rows},${cols}] at (${b},${i},${j}): ${have} ≠ ${want}`);
        }
      }
    }
    tf.dispose([x, y]);
  }
});
