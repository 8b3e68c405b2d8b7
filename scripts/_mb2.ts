import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../src/backend/select.ts';
import { gemmFor } from '../src/backend/kernels/gemm.ts';
import { heapOffset } from '../src/backend/kernels/heap-kernels.ts';
await selectBackend('wasm');
const be = tf.backend() as BackendWasm;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const shapes = (process.env.SHAPES ?? '512,512,256;2048,576,64;128,4608,512;64,25088,256').split(';').map((s) => s.split(',').map(Number));
const blockings = (process.env.BLOCKINGS ?? '256,128,256;128,128,256;512,64,256;256,256,512;256,64,128').split(';').map((s) => s.split(',').map(Number));
const g = gemmFor(be, 'relaxed')!;
for (const [m, k, n] of shapes) {
  const a = tf.randomUniform([m, k]); const b = tf.randomUniform([k, n]); const c = tf.zeros([m, n]);
  const res = blockings.map(() => [] as number[]);
  for (let r = 0; r < 15; r++) {
    blockings.forEach(([kc, mc, nc], i) => {
      g.blocking = { kc, mc, nc };
      const t0 = cpu();
      g.matmul(heapOffset(be, a), k, m, k, heapOffset(be, b), n, n, heapOffset(be, c), n);
      const dt = cpu() - t0;
      if (r > 0) res[i].push(2 * m * n * k / dt / 1e6);
    });
  }
  console.log(`${m}x${k}x${n}: ` + blockings.map((bl, i) => { const s = res[i].sort((p, q) => p - q); return `${bl.join('/')}: med ${s[s.length >> 1].toFixed(1)} best ${s[s.length - 3].toFixed(1)}`; }).join(' | '));
}
