/**
 * `npm run build:wasm`: compile the hand-written .wat modules (src/data/resample.wat,
 * src/backend/kernels/heap-kernels.wat, the latter also for a shared memory, and the GEMM src/backend/kernels/gemm.wat in its
 * plain, relaxed-SIMD and shared-memory variants) to .wasm with wabt (a dev dependency). The .wasm files are committed, so
 * users and CI never run this; tests check they are current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compileWat, WASM_MODULES } from './wat.ts';

for (const { wat, wasm, variant } of WASM_MODULES) {
  const text = fs.readFileSync(wat, 'utf8');
  const binary = await compileWat(variant ? variant(text) : text, path.basename(wat.pathname));
  fs.writeFileSync(wasm, binary);
  console.log(`wrote ${wasm.pathname} (${binary.length} bytes)`);
}
